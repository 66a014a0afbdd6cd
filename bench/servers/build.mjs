// Builds and starts the server a start message describes (see server.mjs): the framework, the
// authentication in front of its one route, TLS that asks for (but does not verify) a client
// certificate. Resolves with { port, close }.
import { createServer } from 'node:https';
import { buildExpress, buildFastify, buildKoa } from './frameworks.mjs';
import { buildNest } from './nest.mjs';

export async function buildServer(spec, respond) {
  const tls = { cert: spec.tls.cert, key: spec.tls.key, requestCert: true, rejectUnauthorized: false };
  switch (spec.app) {
    case 'express':
      return listenNode(tls, await buildExpress(spec.auth, respond));
    case 'koa':
      return listenNode(tls, await buildKoa(spec.auth, respond));
    case 'fastify':
      return buildFastify(spec.auth, respond, tls);
    case 'nest-express':
    case 'nest-fastify':
      return buildNest(spec.app, spec.auth, respond, tls);
    default:
      throw new Error(`unknown app ${spec.app}`);
  }
}

/** An https.Server for a Node request listener (Express app, Koa callback). */
async function listenNode(tls, { listener, close }) {
  const server = createServer(tls, listener);
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    close: async () => {
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
      await close();
    },
  };
}
