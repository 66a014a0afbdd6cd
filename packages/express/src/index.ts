/**
 * Express middleware for certbound: `app.use(certbound(options))` puts the verified `AuthInfo`
 * on `req.auth`; failures go to `next(err)` as a CertboundError carrying `status` and `headers`,
 * which Express's own error handler (and yours) turn into the RFC 6750 response.
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
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';

declare global {
  namespace Express {
    interface Request {
      /** Set by `certbound()` once the certificate-bound access token is verified. */
      auth?: AuthInfo;
    }
  }
}

/**
 * Authenticates every request it sees. Successful responses get `Cache-Control: no-store` (set
 * before your handler runs, so you may override it).
 *
 * @example
 * app.use(certbound({ issuer: 'https://as.example.com', audience: 'https://api.example.com' }));
 * app.get('/accounts', requireScopes('accounts:read'), (req, res) => res.json(req.auth!.claims));
 */
export function certbound<Claims extends TokenClaims = TokenClaims>(
  options: VerifierSource<Claims>,
): RequestHandler {
  const verifier = resolveVerifier(options);
  return (req: Request, res: Response, next: NextFunction) => {
    // RFC 9728: the metadata document is public and answered here, before authentication.
    const metadata = verifier.protectedResource?.respond(req.method, req.originalUrl);
    if (metadata) {
      res.status(metadata.status).set(metadata.headers).end(metadata.body);
      return;
    }
    let decision: AuthInfo | Promise<AuthInfo>;
    try {
      decision = authenticateNow(verifier, req);
    } catch (error) {
      next(error);
      return;
    }
    if (decision instanceof Promise) {
      decision.then((auth) => accept(req, res, next, auth), next).catch(next);
    } else {
      accept(req, res, next, decision);
    }
  };
}

function accept(req: Request, res: Response, next: NextFunction, auth: AuthInfo): void {
  // Another middleware (a timeout, say) may have answered while we were verifying.
  if (res.headersSent) return;
  req.auth = auth;
  const headers = auth.responseHeaders;
  for (const name in headers) res.setHeader(name, headers[name]!);
  next();
}

/** Requires every one of `scopes` (403 `insufficient_scope` otherwise). Use after `certbound()`. */
export function requireScopes(...scopes: string[]): RequestHandler {
  assertScopeNames(scopes);
  return (req: Request, _res: Response, next: NextFunction) => {
    try {
      requireScopesOf(req.auth, ...scopes);
      next();
    } catch (error) {
      next(error);
    }
  };
}

/**
 * Requires a user authentication the route accepts (RFC 9470 step-up): the token's `acr` among
 * `policy.acr`, its `auth_time` within `policy.maxAgeSeconds`; otherwise 401
 * `insufficient_user_authentication` with `acr_values` / `max_age` in the challenge. Use after
 * `certbound()`.
 */
export function requireAuthContext(policy: AuthContextPolicy): RequestHandler {
  assertAuthContextPolicy(policy);
  return (req: Request, _res: Response, next: NextFunction) => {
    try {
      requireAuthContextOf(req.auth, policy);
      next();
    } catch (error) {
      next(error);
    }
  };
}

/**
 * An optional error handler that answers certbound errors with a JSON body
 * `{ error, error_description, code }` next to the status and `WWW-Authenticate`; other errors go
 * on to the next handler. Without it, Express's default handler sends the same status and headers.
 */
export function errorHandler(): ErrorRequestHandler {
  return (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!isCertboundError(error) || res.headersSent) {
      next(error);
      return;
    }
    res.status(error.status).set(error.headers).json(error.toJSON());
  };
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
