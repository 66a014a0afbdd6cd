const { basename } = require('node:path');
const Fastify = require('fastify');
const { certbound, errorHandler } = require('@certbound/fastify');
const { listening, options, tls } = require('./settings.cjs');

async function main() {
  // RFC 8705 §6.2: ask for the client certificate without verifying its chain; the binding is the proof.
  const app = Fastify({ https: { ...tls, requestCert: true, rejectUnauthorized: false } });
  app.setErrorHandler(errorHandler());
  await app.register(certbound, options);
  app.get('/me', async (request) => ({
    program: basename(__filename),
    subject: request.auth.subject,
    thumbprint: request.auth.thumbprint,
  }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  listening(app.server.address().port);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
