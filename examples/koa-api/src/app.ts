/**
 * The Koa API. `errorHandler()` comes first, so certbound's errors thrown below it are answered
 * with `{ error, error_description, code }` next to the RFC 6750 §3 `WWW-Authenticate` challenge.
 * The `open` router answers before `certbound()` and is public; everything mounted after it
 * requires a valid access token bound (RFC 8705 §3) to the mutual-TLS client certificate.
 */
import { type CertboundOptions, certbound, errorHandler, requireScopes, type Verifier } from '@certbound/koa';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import Koa from 'koa';

export function createApp(options: CertboundOptions | Verifier): Koa {
  const open = new Router();
  open.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  const api = new Router();
  api.get('/accounts', requireScopes('accounts:read'), (ctx) => {
    ctx.body = { accounts: [{ id: 'acc-1', balance: '1200.00' }], client: ctx.state.auth!.clientId };
  });
  api.post('/payments', requireScopes('payments:write'), (ctx) => {
    const { amount } = (ctx.request.body ?? {}) as { amount?: unknown };
    ctx.status = 201;
    ctx.body = { id: 'pay-1', amount, client: ctx.state.auth!.clientId };
  });
  api.get('/me', (ctx) => {
    const { subject, clientId, scopes, thumbprint, bound, format } = ctx.state.auth!;
    ctx.body = { subject, clientId, scopes, thumbprint, bound, format };
  });

  const app = new Koa();
  app.use(errorHandler());
  app.use(open.routes());
  app.use(certbound(options));
  // JSON only, parsed after authentication: unauthenticated clients cannot make us read bodies.
  app.use(bodyParser({ enableTypes: ['json'] }));
  app.use(api.routes());
  return app;
}
