// One benchmark server, run in its own child process by run.mjs (`child_process.fork`), so that
// the load generator never shares this event loop. Configuration arrives as the first IPC message:
//   { type: 'start', kind, tls: { cert, key }, issuer, audience, jwksUri, ca }
// and the child answers { type: 'ready', port }. It stops on { type: 'stop' }, on SIGTERM/SIGINT,
// and when the parent goes away (IPC disconnect), so it can never outlive run.mjs.
//
// kinds:
//   bare       Express, no authentication
//   certbound  Express + @certbound/express certbound({ issuer, audience, tls: { ca } })
//   peer       Express + express-oauth2-jwt-bearer auth({ issuerBaseURL, audience, agent })
//              (discovery + JWKS; the library then allows only the discovered
//              id_token_signing_alg_values_supported, here ES256)
//   peer-jwks  Express + express-oauth2-jwt-bearer auth({ issuer, jwksUri, audience, agent })
//              (no discovery, so any asymmetric alg: used for the RS256 rows)
import { createServer, Agent as HttpsAgent } from 'node:https';
import { performance } from 'node:perf_hooks';

let server;
let closeAuth = async () => {};
let stopping = false;
let served = 0;

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  const hardExit = setTimeout(() => process.exit(code), 3000);
  hardExit.unref();
  try {
    if (server) {
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    }
    await closeAuth();
  } catch {
    // exiting anyway
  }
  // process.exit (not a natural exit) so that --cpu-prof still writes its profile.
  process.exit(code);
}

process.on('disconnect', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
process.on('uncaughtException', (error) => {
  process.send?.({ type: 'error', message: String(error?.stack ?? error) });
  stop(1);
});

async function buildApp(config) {
  const { default: express } = await import('express');
  const app = express();
  const body = { ok: true };

  switch (config.kind) {
    case 'bare':
      break;
    case 'certbound': {
      const { certbound } = await import('@certbound/express');
      const { createVerifier } = await import('@certbound/core');
      const verifier = createVerifier({
        issuer: config.issuer,
        audience: config.audience,
        tls: { ca: config.ca },
      });
      closeAuth = () => verifier.close();
      app.use(certbound(verifier));
      break;
    }
    case 'peer':
    case 'peer-jwks': {
      const { auth } = await import('express-oauth2-jwt-bearer');
      // The library fetches discovery and the JWKS with https.get({ agent }) (its own fetch and
      // jose@4's createRemoteJWKSet both pass `agent` through), so an Agent trusting the test
      // CA is enough: no NODE_EXTRA_CA_CERTS needed.
      const agent = new HttpsAgent({ ca: config.ca, keepAlive: true });
      closeAuth = async () => agent.destroy();
      app.use(
        config.kind === 'peer'
          ? auth({ issuerBaseURL: config.issuer, audience: config.audience, agent })
          : auth({ issuer: config.issuer, jwksUri: config.jwksUri, audience: config.audience, agent }),
      );
      break;
    }
    default:
      throw new Error(`unknown server kind ${config.kind}`);
  }

  app.get('/', (_req, res) => {
    served++;
    res.json(body);
  });
  // Same minimal error handler for every kind: status from the error, no body work.
  app.use((error, _req, res, _next) => {
    const status = error?.status ?? error?.statusCode ?? 500;
    if (error?.headers) res.set(error.headers);
    res.status(status).json({ error: error?.code ?? error?.error ?? 'error' });
  });
  return app;
}

process.once('message', async (message) => {
  if (message?.type !== 'start') return;
  try {
    const app = await buildApp(message);
    server = createServer(
      {
        cert: message.tls.cert,
        key: message.tls.key,
        requestCert: true,
        rejectUnauthorized: false,
      },
      app,
    );
    server.keepAliveTimeout = 60_000;
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    process.on('message', (next) => {
      if (next?.type === 'stop') stop(0);
      // CPU time of this whole process (all threads) and event-loop utilization, so run.mjs can
      // report server CPU per request, which is less sensitive than req/s to other load.
      else if (next?.type === 'usage')
        process.send({
          type: 'usage',
          id: next.id,
          cpu: process.cpuUsage(),
          elu: performance.eventLoopUtilization(),
          served,
        });
    });
    process.send({ type: 'ready', port: server.address().port, pid: process.pid });
  } catch (error) {
    process.send?.({ type: 'error', message: String(error?.stack ?? error) });
    stop(1);
  }
});
