/**
 * Starts the API over HTTPS. The server asks every client for a certificate but does not verify
 * its chain (RFC 8705 §6.2): what proves the client is the token's binding to the certificate,
 * checked by certbound. Prints one JSON line once listening (Nest's own log keeps to warnings and
 * errors); SIGTERM/SIGINT close the app, which also closes certbound's verifier.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { loadConfig } from './config.js';

try {
  // Read here too: Nest needs the TLS options and the port before the module exists.
  const config = loadConfig();
  const app = await NestFactory.create(AppModule, {
    httpsOptions: { ...config.tls, requestCert: true, rejectUnauthorized: false },
    logger: ['error', 'warn'],
    abortOnError: false, // a bad option rejects here (and is printed below) instead of aborting
  });
  await app.listen(config.port, config.host);

  const { port } = app.getHttpServer().address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  console.log(JSON.stringify({ listening: `https://${host}:${port}` }));

  // Not app.enableShutdownHooks(): it re-raises the signal after closing, so the process would
  // end by SIGTERM rather than with status 0. app.close() runs the same shutdown hooks.
  const shutdown = () => void app.close();
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
