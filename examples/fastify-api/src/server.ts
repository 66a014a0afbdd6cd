/**
 * Starts the API over HTTPS (the TLS options are in app.ts: Fastify owns its server). Prints one
 * JSON line once listening; SIGTERM/SIGINT close the app, which also closes certbound's
 * verifier (its connections to the authorization server and its caches).
 */
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

try {
  const config = loadConfig();
  const app = await createApp(config);
  await app.listen({ port: config.port, host: config.host });

  const { port } = app.server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  console.log(JSON.stringify({ listening: `https://${host}:${port}` }));

  // Stops accepting connections, lets requests in flight finish, closes idle keep-alive
  // connections and the verifier; the process then exits on its own with status 0.
  const shutdown = () => void app.close();
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
