import https from 'node:https';
import { basename } from 'node:path';
import { certbound, errorHandler } from '@certbound/koa';
import Koa from 'koa';
import { listening, options, tls } from './settings.cjs';

const app = new Koa();
app.use(errorHandler());
app.use(certbound(options));
app.use((ctx) => {
  if (ctx.method !== 'GET' || ctx.path !== '/me') return;
  const { subject, thumbprint } = ctx.state.auth;
  ctx.body = { program: basename(import.meta.filename), subject, thumbprint };
});

// RFC 8705 §6.2: ask for the client certificate without verifying its chain; the binding is the proof.
const server = https.createServer({ ...tls, requestCert: true, rejectUnauthorized: false }, app.callback());
server.listen(0, '127.0.0.1', () => listening(server.address().port));
