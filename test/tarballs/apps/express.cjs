const https = require('node:https');
const { basename } = require('node:path');
const express = require('express');
const { certbound, errorHandler } = require('@certbound/express');
const { listening, options, tls } = require('./settings.cjs');

const app = express();
app.use(certbound(options));
app.get('/me', (req, res) => {
  res.json({ program: basename(__filename), subject: req.auth.subject, thumbprint: req.auth.thumbprint });
});
app.use(errorHandler());

// RFC 8705 §6.2: ask for the client certificate without verifying its chain; the binding is the proof.
const server = https.createServer({ ...tls, requestCert: true, rejectUnauthorized: false }, app);
server.listen(0, '127.0.0.1', () => listening(server.address().port));
