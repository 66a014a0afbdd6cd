/**
 * The Fastify API. The certbound plugin is registered on the root instance, so every route
 * requires a valid access token bound (RFC 8705 §3) to the mutual-TLS client certificate,
 * unless it opts out with `config: { certbound: false }`. The token is checked in `onRequest`,
 * before any body is read. `errorHandler()` answers certbound's errors with
 * `{ error, error_description, code }` next to the RFC 6750 §3 `WWW-Authenticate` challenge.
 */
import { certbound, errorHandler, requireScopes } from '@certbound/fastify';
import Fastify from 'fastify';
import type { Config } from './config.js';

export async function createApp(config: Config) {
  // RFC 8705 §6.2: ask for the client certificate without verifying its chain; the binding is the proof.
  const app = Fastify({ https: { ...config.tls, requestCert: true, rejectUnauthorized: false } });
  app.setErrorHandler(errorHandler());
  await app.register(certbound, config.certbound);

  app.get('/health', { config: { certbound: false } }, async () => ({ status: 'ok' }));

  app.get('/accounts', { preHandler: requireScopes('accounts:read') }, async (request) => ({
    accounts: [{ id: 'acc-1', balance: '1200.00' }],
    client: request.auth!.clientId,
  }));

  app.post<{ Body: { amount?: unknown } | undefined }>(
    '/payments',
    { preHandler: requireScopes('payments:write') },
    async (request, reply) =>
      reply.code(201).send({ id: 'pay-1', amount: request.body?.amount, client: request.auth!.clientId }),
  );

  app.get('/me', async (request) => {
    const { subject, clientId, scopes, thumbprint, bound, format } = request.auth!;
    return { subject, clientId, scopes, thumbprint, bound, format };
  });

  return app;
}
