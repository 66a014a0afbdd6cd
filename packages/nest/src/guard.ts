/**
 * `CertboundGuard`: authenticates the request through the module's verifier and checks
 * `@Scopes()`. Nest ignores an exception's headers, so the guard sets `WWW-Authenticate` (and
 * `Retry-After` on 503) on the response itself before throwing an `HttpException` whose body is
 * `{ error, error_description, code }`.
 *
 * Subclasses adapt it to other context types (GraphQL resolvers, say) by overriding the protected
 * methods: `getRequestResponse` (where the request and response are), `setResponseHeader` (how a
 * header is set) and `handleError` (what is thrown). The decision itself stays in `canActivate`
 * and the core. See the README, "Extending the guard".
 */
import {
  type AuthContextPolicy,
  type AuthInfo,
  type CertboundError,
  isCertboundError,
  requireAuthContext,
  requireScopes,
  type Verifier,
} from '@certbound/core';
import type { NodeRequest } from '@certbound/core/adapter';
import { type CanActivate, type ExecutionContext, HttpException, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { AUTH_CONTEXT_KEY, CERTBOUND_VERIFIER, PUBLIC_KEY, SCOPES_KEY } from './tokens.js';

/**
 * The request as the guard sees it: the Node request itself (Express), or an object keeping it
 * in `raw` (Fastify). The guard reads `body` (a form body's `access_token` is refused, RFC 6750
 * §2) and sets `auth`.
 */
export interface CertboundGuardRequest {
  raw?: NodeRequest;
  body?: unknown;
  auth?: AuthInfo;
}

/** The request the guard authenticates and the response it sets headers on. */
export interface CertboundGuardTarget {
  req: CertboundGuardRequest;
  res: unknown;
}

@Injectable()
export class CertboundGuard implements CanActivate {
  constructor(
    @Inject(CERTBOUND_VERIFIER) protected readonly verifier: Verifier,
    @Inject(Reflector) protected readonly reflector: Reflector,
    @Inject(HttpAdapterHost) protected readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const target = this.getRequestResponse(context);
    // Fail closed where there is no request (a global guard also sees microservice and WebSocket handlers).
    if (target === undefined) return false;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_KEY, targets)) return true;

    const { req: request, res: response } = target;
    try {
      const node = (request.raw ?? request) as NodeRequest;
      const auth = await this.verifier.authenticate(node, { body: request.body });
      request.auth = auth;
      requireScopes(auth, ...this.reflector.getAllAndMerge<string[]>(SCOPES_KEY, targets));
      const policy = this.reflector.getAllAndOverride<AuthContextPolicy | undefined>(
        AUTH_CONTEXT_KEY,
        targets,
      );
      if (policy !== undefined) requireAuthContext(auth, policy);
      for (const [name, value] of Object.entries(auth.responseHeaders))
        this.setResponseHeader(response, name, value);
      return true;
    } catch (error) {
      if (!isCertboundError(error)) throw error;
      this.handleError(error, context, response);
      // Fail closed even if an override returns instead of throwing.
      throw error;
    }
  }

  /**
   * Where the request and response are: by default those of an HTTP context, and `undefined`
   * (the guard refuses) for any other context type. Override it for other context types, e.g.
   * GraphQL's, whose context object holds the platform's `req` and `res`.
   */
  protected getRequestResponse(context: ExecutionContext): CertboundGuardTarget | undefined {
    if (context.getType() !== 'http') return undefined;
    const http = context.switchToHttp();
    return { req: http.getRequest<CertboundGuardRequest>(), res: http.getResponse<unknown>() };
  }

  /** Sets one response header: by default through the HTTP adapter (Express or Fastify). */
  protected setResponseHeader(response: unknown, name: string, value: string): void {
    this.adapterHost.httpAdapter.setHeader(response, name, value);
  }

  /**
   * Turns a refusal into what the context's caller expects; it must throw. By default it sets the
   * error's headers (`WWW-Authenticate`, RFC 6750 §3; `Retry-After` on 503) and throws an
   * `HttpException` with the error's status, `{ error, error_description, code }` and the
   * `CertboundError` as `cause`.
   */
  protected handleError(error: CertboundError, _context: ExecutionContext, response: unknown): never {
    for (const [name, value] of Object.entries(error.headers)) this.setResponseHeader(response, name, value);
    throw new HttpException(error.toJSON(), error.status, { cause: error });
  }
}
