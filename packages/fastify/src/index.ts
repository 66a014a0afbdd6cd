/**
 * Fastify plugin for certbound: `app.register(certbound, options)` verifies every request in an
 * `onRequest` hook and puts the `AuthInfo` on `request.auth`. Failures are thrown as a
 * CertboundError carrying `statusCode` and `headers`, which Fastify's error handling (default or
 * yours) turns into the response; `errorHandler()` sends certbound's JSON body.
 */
import {
  type AuthInfo,
  type CertboundOptions,
  isCertboundError,
  requireScopes as requireScopesOf,
  type Verifier,
} from '@certbound/core';
import { assertScopeNames, createsVerifier, resolveVerifier } from '@certbound/core/adapter';
import type { FastifyPluginAsync, RawServerBase } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the certbound plugin once the certificate-bound access token is verified. */
    auth?: AuthInfo;
  }
  interface FastifyContextConfig {
    /** `false` opts the route out of certbound (a public health check, say). */
    certbound?: boolean;
  }
}

/** Verifier options, or `{ verifier }` to share one verifier between several apps. */
export type CertboundPluginOptions = CertboundOptions | { verifier: Verifier };

/** Options Fastify's own `register` understands; they are not certbound's. */
const REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers'] as const;

function withoutRegisterOptions(options: CertboundPluginOptions): CertboundPluginOptions {
  const own: Record<string, unknown> = { ...options };
  for (const name of REGISTER_OPTIONS) delete own[name];
  return own as unknown as CertboundPluginOptions;
}

const plugin: FastifyPluginAsync<CertboundPluginOptions, RawServerBase> = async (app, options) => {
  const source = withoutRegisterOptions(options);
  const verifier = resolveVerifier(source);
  app.decorateRequest('auth', undefined);
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.certbound === false) return;
    const auth = await verifier.authenticate(request.raw);
    request.auth = auth;
    reply.headers(auth.responseHeaders);
  });
  // Bodies are parsed after onRequest: refuse a second token in a form body once there is one.
  app.addHook('preValidation', async (request) => {
    if (request.auth !== undefined) verifier.checkBody(request.raw, request.body);
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

export type { AuthInfo, CertboundOptions, Verifier } from '@certbound/core';
export {
  CertboundError,
  createVerifier,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  ServiceUnavailableError,
} from '@certbound/core';
