/**
 * Starts the API over HTTPS. The server asks every client for a certificate but does not verify
 * its chain (RFC 8705 §6.2): what proves the client is the token's binding to the certificate,
 * checked by certbound. Prints one JSON line once listening; SIGTERM/SIGINT close it gracefully.
 */
import { once } from 'node:events';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createVerifier } from '@certbound/koa';
import { createApp } from './app.js';
import { loadConfig } from './config.js';

try {
  const config = loadConfig();
  // Created here so that shutdown can release its connections and caches.
  const verifier = createVerifier(config.certbound);
  const server = createServer(
    { ...config.tls, requestCert: true, rejectUnauthorized: false },
    createApp(verifier).callback(),
  );
  server.listen(config.port, config.host);
  await once(server, 'listening');

  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  console.log(JSON.stringify({ listening: `https://${host}:${port}` }));

  // Stops accepting connections, lets requests in flight finish, closes idle keep-alive
  // connections, then the verifier; the process then exits on its own with status 0.
  const shutdown = () => server.close(() => void verifier.close());
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
