/**
 * `CertboundGuard`: authenticates the request through the module's verifier and checks
 * `@Scopes()`. Nest ignores an exception's headers, so the guard sets `WWW-Authenticate` (and
 * `Retry-After` on 503) on the response itself before throwing an `HttpException` whose body is
 * `{ error, error_description, code }`.
 */
import type { IncomingMessage } from 'node:http';
import { type AuthInfo, isCertboundError, requireScopes, type Verifier } from '@certbound/core';
import { type CanActivate, type ExecutionContext, HttpException, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { CERTBOUND_VERIFIER, PUBLIC_KEY, SCOPES_KEY } from './tokens.js';

/** Express's request is a Node request; Fastify's keeps it in `raw`. */
interface PlatformRequest {
  raw?: IncomingMessage;
  body?: unknown;
  auth?: AuthInfo;
}

@Injectable()
export class CertboundGuard implements CanActivate {
  constructor(
    @Inject(CERTBOUND_VERIFIER) private readonly verifier: Verifier,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Fail closed outside HTTP (a global guard also sees microservice and WebSocket handlers).
    if (context.getType() !== 'http') return false;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, targets)) return true;

    const http = context.switchToHttp();
    const request = http.getRequest<PlatformRequest>();
    const response = http.getResponse<unknown>();
    const adapter = this.adapterHost.httpAdapter;
    try {
      const node = (request.raw ?? request) as IncomingMessage;
      const auth = await this.verifier.authenticate(node, { body: request.body });
      request.auth = auth;
      requireScopes(auth, ...this.reflector.getAllAndMerge<string[]>(SCOPES_KEY, targets));
      for (const [name, value] of Object.entries(auth.responseHeaders))
        adapter.setHeader(response, name, value);
      return true;
    } catch (error) {
      if (!isCertboundError(error)) throw error;
      for (const [name, value] of Object.entries(error.headers)) adapter.setHeader(response, name, value);
      throw new HttpException(error.toJSON(), error.status, { cause: error });
    }
  }
}
