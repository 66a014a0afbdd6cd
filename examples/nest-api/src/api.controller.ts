/**
 * The routes. `CertboundGuard` (applied to every route in app.module.ts) lets a request through
 * only with a valid access token bound (RFC 8705 §3) to the mutual-TLS client certificate, unless
 * the handler is `@Public()`; `@Scopes()` adds the scopes a handler needs (403 otherwise).
 * No constructor injection: the controller needs no providers, and tsx (esbuild) emits no
 * decorator metadata for implicit injection anyway.
 */
import { Auth, type AuthInfo, Public, Scopes } from '@certbound/nest';
import { Body, Controller, Get, Post } from '@nestjs/common';

@Controller()
export class ApiController {
  @Public()
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Scopes('accounts:read')
  @Get('accounts')
  accounts(@Auth() auth: AuthInfo) {
    return { accounts: [{ id: 'acc-1', balance: '1200.00' }], client: auth.clientId };
  }

  @Scopes('payments:write')
  @Post('payments') // 201 Created: Nest's default for POST
  pay(@Auth() auth: AuthInfo, @Body() body: { amount?: unknown } | undefined) {
    return { id: 'pay-1', amount: body?.amount, client: auth.clientId };
  }

  @Get('me')
  me(@Auth() auth: AuthInfo) {
    const { subject, clientId, scopes, thumbprint, bound, format } = auth;
    return { subject, clientId, scopes, thumbprint, bound, format };
  }
}
