/**
 * Fastify plugin for certbound: `app.register(certbound, options)` verifies every request in an
 * `onRequest` hook and puts the `AuthInfo` on `request.auth`; with `hook: false` it only
 * decorates the instance with `verifyCertbound`, a hook or `@fastify/auth` strategy for the
 * routes you choose. Failures are thrown as a CertboundError carrying `statusCode` and `headers`,
 * which Fastify's error handling (default or yours) turns into the response; `errorHandler()`
 * sends certbound's JSON body.
 */
import {
  type AuthContextPolicy,
  type AuthInfo,
  type CertboundOptions,
  isCertboundError,
  requireAuthContext as requireAuthContextOf,
  requireScopes as requireScopesOf,
  type Verifier,
} from '@certbound/core';
import {
  assertAuthContextPolicy,
  assertScopeNames,
  authenticateNow,
  createsVerifier,
  type NodeRequest,
  resolveVerifier,
  type VerifierSource,
} from '@certbound/core/adapter';
import type { FastifyPluginAsync, RawServerBase } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Authenticates one request (set by the certbound plugin, whatever `hook` says): a Fastify hook
     * or an `@fastify/auth` strategy for the routes you choose, with `hook: false`.
     */
    verifyCertbound: VerifyCertbound;
  }
  interface FastifyRequest {
    /** Set by the certbound plugin once the certificate-bound access token is verified. */
    auth?: AuthInfo;
  }
  interface FastifyContextConfig {
    /** `false` opts the route out of certbound's `onRequest` hook (a public health check, say). */
    certbound?: boolean;
  }
}

/**
 * `app.verifyCertbound(request, reply)`: authenticates `request.raw` (and the form body, once it is
 * parsed), sets `request.auth` and the success headers, or rejects with the CertboundError.
 * Typed structurally so it fits HTTP/1.1 and HTTP/2 instances alike.
 */
export type VerifyCertbound = (
  request: { raw: NodeRequest; body?: unknown; auth?: AuthInfo },
  reply: { headers(values: Record<string, string>): unknown },
) => Promise<void>;

/** The plugin's own options, next to the verifier's. */
export interface CertboundFastifyOptions {
  /**
   * `true` (the default): authenticate every route in an `onRequest` hook. `false`: add no hook,
   * only `app.verifyCertbound`, to compose with `@fastify/auth` or to put on chosen routes.
   */
  hook?: boolean;
}

/** Verifier options, or `{ verifier }` to share one verifier between several apps. */
export type CertboundPluginOptions = (CertboundOptions | { verifier: Verifier }) & CertboundFastifyOptions;

/** Options Fastify's own `register` understands; they are not certbound's. */
const REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers'] as const;

/** Splits the plugin's own options from what goes to the core (which refuses names it does not know). */
function splitOptions(options: CertboundPluginOptions): { source: VerifierSource; hook: boolean } {
  const { hook = true, ...own }: Record<string, unknown> = { ...options };
  for (const name of REGISTER_OPTIONS) delete own[name];
  if (typeof hook !== 'boolean') throw new TypeError('Invalid certbound option: "hook" must be a boolean');
  return { source: own as VerifierSource, hook };
}

/** Exposes the `AuthInfo` and sets its response headers (`Cache-Control: no-store`). */
function accept(
  request: { auth?: AuthInfo },
  reply: { headers(values: Record<string, string>): unknown },
  auth: AuthInfo,
): void {
  request.auth = auth;
  reply.headers(auth.responseHeaders);
}

const plugin: FastifyPluginAsync<CertboundPluginOptions, RawServerBase> = async (app, options) => {
  const { source, hook } = splitOptions(options);
  const verifier = resolveVerifier(source);
  const verifyCertbound: VerifyCertbound = async (request, reply) => {
    // As a preValidation or preHandler strategy the body is parsed already: check it now too.
    accept(request, reply, await authenticateNow(verifier, request.raw, { body: request.body }));
  };
  app.decorateRequest('auth', undefined);
  app.decorate('verifyCertbound', verifyCertbound);
  if (hook) {
    // A callback hook rather than an async one: a token seen before is decided without a promise.
    app.addHook('onRequest', (request, reply, done) => {
      if (request.routeOptions.config.certbound === false) return done();
      let decision: AuthInfo | Promise<AuthInfo>;
      try {
        decision = authenticateNow(verifier, request.raw, { body: request.body });
      } catch (error) {
        return done(error as Error);
      }
      if (decision instanceof Promise) {
        decision.then((auth) => accept(request, reply, auth)).then(() => done(), done);
      } else {
        accept(request, reply, decision);
        done();
      }
    });
  }
  // Bodies are parsed after onRequest: refuse a second token in a form body once there is one
  // (RFC 6750 §2: one method per request), whichever hook authenticated the request.
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.auth !== undefined) {
      try {
        verifier.checkBody(request.raw, request.body);
      } catch (error) {
        return done(error as Error);
      }
    }
    done();
  });
  // RFC 9728: serve the metadata document, public (Fastify answers HEAD from the GET route).
  const endpoint = verifier.protectedResource;
  if (endpoint) {
    app.get(endpoint.path, { config: { certbound: false } }, async (_request, reply) => {
      const metadata = endpoint.respond('GET', endpoint.path)!;
      return reply.code(metadata.status).headers(metadata.headers).send(metadata.body);
    });
  }
  if (createsVerifier(source)) app.addHook('onClose', () => verifier.close());
};

/**
 * Registers certbound on the Fastify instance (not encapsulated: every route registered after it
 * is protected, except those with `config: { certbound: false }`). Works over HTTP/1.1 and
 * HTTP/2 with TLS. A verifier created from options is closed with the app.
 *
 * With `hook: false` no route is protected by the plugin itself: put `app.verifyCertbound` on the
 * routes you choose, as a hook or in `app.auth([...])` of `@fastify/auth`.
 *
 * @example
 * await app.register(certbound, { issuer: 'https://as.example.com', audience: 'https://api.example.com' });
 * app.get('/accounts', { preHandler: requireScopes('accounts:read') }, (request) => request.auth!.claims);
 */
export const certbound = fp(plugin, { fastify: '5.x', name: '@certbound/fastify' });
export default certbound;

/**
 * A `preHandler` requiring every one of `scopes` (403 `insufficient_scope` otherwise); typed
 * structurally so it fits HTTP/1.1 and HTTP/2 instances alike.
 */
export function requireScopes(...scopes: string[]): (request: { auth?: AuthInfo }) => Promise<void> {
  assertScopeNames(scopes);
  return async (request) => {
    requireScopesOf(request.auth, ...scopes);
  };
}

/**
 * A `preHandler` requiring a user authentication the route accepts (RFC 9470 step-up): the
 * token's `acr` among `policy.acr`, its `auth_time` within `policy.maxAgeSeconds`; otherwise 401
 * `insufficient_user_authentication`.
 */
export function requireAuthContext(
  policy: AuthContextPolicy,
): (request: { auth?: AuthInfo }) => Promise<void> {
  assertAuthContextPolicy(policy);
  return async (request) => {
    requireAuthContextOf(request.auth, policy);
  };
}

/**
 * An error handler (`app.setErrorHandler(errorHandler())`) that answers certbound errors with a
 * JSON body `{ error, error_description, code }`; other errors are rethrown to Fastify's default
 * handling. Without it, Fastify's default handler sends the same status, headers and `code`.
 */
export function errorHandler(): (error: Error, request: unknown, reply: ErrorReply) => ErrorReply {
  return (error, _request, reply) => {
    if (!isCertboundError(error)) throw error;
    return reply.code(error.status).headers(error.headers).send(error.toJSON());
  };
}

/** The part of `FastifyReply` the error handler uses, whatever the server type (HTTP/1.1 or HTTP/2). */
export interface ErrorReply {
  code(statusCode: number): ErrorReply;
  headers(values: Record<string, string>): ErrorReply;
  send(payload: unknown): ErrorReply;
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
