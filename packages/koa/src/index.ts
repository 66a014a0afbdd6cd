/**
 * Koa middleware for certbound: `app.use(certbound(options))` puts the verified `AuthInfo` on
 * `ctx.state.auth`. Failures are thrown as a CertboundError carrying `status`, `headers` and
 * `expose`, which Koa's default error handler turns into the RFC 6750 response (status,
 * `WWW-Authenticate`, the short description as text); `errorHandler()` answers with JSON instead.
 */
import {
  type AuthContextPolicy,
  type AuthInfo,
  isCertboundError,
  requireAuthContext as requireAuthContextOf,
  requireScopes as requireScopesOf,
  type TokenClaims,
} from '@certbound/core';
import {
  assertAuthContextPolicy,
  assertScopeNames,
  authenticateNow,
  resolveVerifier,
  type VerifierSource,
} from '@certbound/core/adapter';
import type { Context, Middleware, Next } from 'koa';

declare module 'koa' {
  interface DefaultState {
    /** Set by `certbound()` once the certificate-bound access token is verified. */
    auth?: AuthInfo;
  }
}

/**
 * Authenticates every request it sees (over `https` or `http2.createSecureServer`). Successful
 * responses get `Cache-Control: no-store`, set before your handler runs so you may override it.
 *
 * A form body is checked for a second token only if a body parser ran before this middleware.
 *
 * @example
 * app.use(errorHandler());
 * app.use(certbound({ issuer: 'https://as.example.com', audience: 'https://api.example.com' }));
 * router.get('/accounts', requireScopes('accounts:read'), (ctx) => { ctx.body = ctx.state.auth!.claims; });
 */
export function certbound<Claims extends TokenClaims = TokenClaims>(
  options: VerifierSource<Claims>,
): Middleware {
  const verifier = resolveVerifier(options);
  return (ctx, next) => {
    // RFC 9728: the metadata document is public and answered here, before authentication.
    const metadata = verifier.protectedResource?.respond(ctx.method, ctx.originalUrl);
    if (metadata) {
      ctx.status = metadata.status;
      ctx.set(metadata.headers);
      ctx.body = metadata.body;
      return;
    }
    // A refusal thrown here reaches Koa as a rejection (koa-compose catches it).
    const decision = authenticateNow(verifier, ctx.req, {
      body: (ctx.request as { body?: unknown }).body,
    });
    if (decision instanceof Promise) return decision.then((auth) => accept(ctx, next, auth));
    return accept(ctx, next, decision);
  };
}

function accept(ctx: Context, next: Next, auth: AuthInfo): Promise<void> {
  ctx.state.auth = auth;
  const headers = auth.responseHeaders;
  for (const name in headers) ctx.res.setHeader(name, headers[name]!);
  return next();
}

/** Requires every one of `scopes` (403 `insufficient_scope` otherwise). Use after `certbound()`. */
export function requireScopes(...scopes: string[]): Middleware {
  assertScopeNames(scopes);
  return (ctx, next) => {
    requireScopesOf(ctx.state.auth, ...scopes);
    return next();
  };
}

/**
 * Requires a user authentication the route accepts (RFC 9470 step-up): the token's `acr` among
 * `policy.acr`, its `auth_time` within `policy.maxAgeSeconds`; otherwise 401
 * `insufficient_user_authentication`. Use after `certbound()`.
 */
export function requireAuthContext(policy: AuthContextPolicy): Middleware {
  assertAuthContextPolicy(policy);
  return (ctx, next) => {
    requireAuthContextOf(ctx.state.auth, policy);
    return next();
  };
}

/**
 * Answers certbound errors thrown downstream with a JSON body `{ error, error_description, code }`
 * next to the status and `WWW-Authenticate`; other errors propagate. Use it first.
 */
export function errorHandler(): Middleware {
  // Not an async function: one promise per request fewer than `try { await next() }`.
  return (ctx, next) =>
    next().catch((error: unknown) => {
      if (!isCertboundError(error) || ctx.headerSent) throw error;
      ctx.status = error.status;
      ctx.set(error.headers);
      ctx.body = error.toJSON();
    });
}

export type {
  AuthInfo,
  CertboundErrorCode,
  CertboundOptions,
  DecisionEvent,
  DpopOptions,
  ReplayStore,
  TokenClaims,
  Verifier,
} from '@certbound/core';
export {
  CertboundConfigurationError,
  CertboundError,
  createVerifier,
  DIAGNOSTICS_CHANNELS,
  HEADER_FORMATS,
  hasScopes,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  isCertboundError,
  ServiceUnavailableError,
  x5tS256,
} from '@certbound/core';
