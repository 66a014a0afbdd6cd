import { basename } from 'node:path';
import { certbound, errorHandler } from '@certbound/fastify';
import Fastify from 'fastify';
import { listening, options, tls } from './settings.cjs';

// RFC 8705 §6.2: ask for the client certificate without verifying its chain; the binding is the proof.
const app = Fastify({ https: { ...tls, requestCert: true, rejectUnauthorized: false } });
app.setErrorHandler(errorHandler());
await app.register(certbound, options);
app.get('/me', async (request) => ({
  program: basename(import.meta.filename),
  subject: request.auth.subject,
  thumbprint: request.auth.thumbprint,
}));
await app.listen({ port: 0, host: '127.0.0.1' });
listening(app.server.address().port);
