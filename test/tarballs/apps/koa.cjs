const https = require('node:https');
const { basename } = require('node:path');
const Koa = require('koa');
const { certbound, errorHandler } = require('@certbound/koa');
const { listening, options, tls } = require('./settings.cjs');

const app = new Koa();
app.use(errorHandler());
app.use(certbound(options));
app.use((ctx) => {
  if (ctx.method !== 'GET' || ctx.path !== '/me') return;
  const { subject, thumbprint } = ctx.state.auth;
  ctx.body = { program: basename(__filename), subject, thumbprint };
});

// RFC 8705 §6.2: ask for the client certificate without verifying its chain; the binding is the proof.
const server = https.createServer({ ...tls, requestCert: true, rejectUnauthorized: false }, app.callback());
server.listen(0, '127.0.0.1', () => listening(server.address().port));
