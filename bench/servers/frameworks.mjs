// Express, Koa and Fastify servers, bare or with certbound in front (and, on Express, the peer
// library express-oauth2-jwt-bearer). Every one answers GET / with {"ok":true}.
import { Agent as HttpsAgent } from 'node:https';
import { workspacePackage } from '../lib/workspace.mjs';

async function verifierFrom(options) {
  const { createVerifier } = await workspacePackage('core');
  return createVerifier(options);
}

/** Express 5: bare, `certbound(verifier)`, or the peer's `auth(...)`. */
export async function buildExpress(auth, respond) {
  const { default: express } = await import('express');
  const app = express();
  let close = async () => {};
  if (auth?.certbound) {
    const { certbound } = await workspacePackage('express');
    const verifier = await verifierFrom(auth.certbound);
    close = () => verifier.close();
    app.use(certbound(verifier));
  } else if (auth?.peer) {
    const { middleware, agent } = await peerMiddleware(auth.peer);
    close = async () => agent.destroy();
    app.use(middleware);
  }
  app.get('/', (_req, res) => {
    res.json(respond());
  });
  // Same minimal error handler for every Express server: status and headers from the error.
  app.use((error, _req, res, _next) => {
    const status = error?.status ?? error?.statusCode ?? 500;
    if (error?.headers) res.set(error.headers);
    res.status(status).json({ error: error?.code ?? error?.error ?? 'error' });
  });
  return { listener: app, close };
}

/**
 * express-oauth2-jwt-bearer 1.10 `auth({ issuerBaseURL, audience, agent, ... })`. It fetches
 * discovery and the JWKS with https.get({ agent }), so an Agent trusting the test CA is enough.
 * `mtls: true`: its RFC 8705 binding, with the client certificate read the way its documentation
 * says for a process that terminates TLS itself (`req.socket.getPeerCertificate().raw`), and
 * `mtls: { enabled: true, required: true }`. `dpop`: passed as its `dpop` option.
 */
async function peerMiddleware(peer) {
  const { auth } = await import('express-oauth2-jwt-bearer');
  const agent = new HttpsAgent({ ca: peer.ca, keepAlive: true });
  // `jwksUri`: no discovery, so any asymmetric alg (with discovery the library allows only the
  // discovered id_token_signing_alg_values_supported, ES256 for the test issuer).
  const options = peer.jwksUri
    ? { issuer: peer.issuer, jwksUri: peer.jwksUri, audience: peer.audience, agent }
    : { issuerBaseURL: peer.issuer, audience: peer.audience, agent };
  if (peer.mtls) {
    options.mtls = { enabled: true, required: true };
    options.getCertificate = (req) => req.socket.getPeerCertificate().raw;
  }
  if (peer.dpop) options.dpop = peer.dpop;
  return { middleware: auth(options), agent };
}

/** Koa 3: bare, or `errorHandler()` + `certbound(verifier)`. */
export async function buildKoa(auth, respond) {
  const { default: Koa } = await import('koa');
  const app = new Koa();
  let close = async () => {};
  if (auth?.certbound) {
    const { certbound, errorHandler } = await workspacePackage('koa');
    const verifier = await verifierFrom(auth.certbound);
    close = () => verifier.close();
    app.use(errorHandler());
    app.use(certbound(verifier));
  }
  app.use((ctx) => {
    ctx.body = respond();
  });
  return { listener: app.callback(), close };
}

/** Fastify 5: bare, or `setErrorHandler(errorHandler())` + `register(certbound, options)`. */
export async function buildFastify(auth, respond, tls) {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ https: tls, logger: false, keepAliveTimeout: 60_000 });
  if (auth?.certbound) {
    const { certbound, errorHandler } = await workspacePackage('fastify');
    app.setErrorHandler(errorHandler());
    await app.register(certbound, auth.certbound); // the plugin's verifier closes with the app
  }
  app.get('/', async () => respond());
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: app.server.address().port, close: () => app.close() };
}
