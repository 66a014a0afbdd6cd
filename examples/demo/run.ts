/**
 * The end-to-end demo, on loopback only:
 *   1. a real OAuth 2.0 authorization server (oidc-provider) with RFC 8705 mTLS client
 *      authentication issues an access token bound to client certificate A;
 *   2. an Express API protected by @certbound/express accepts that token over mTLS with A;
 *   3. the same token, stolen and replayed with a look-alike certificate B (same subject, other
 *      key) or with no certificate, is refused with 401 invalid_token.
 * Exits non-zero if any step does not behave as described.
 */
import { certbound, errorHandler, requireScopes } from '@certbound/express';
import { createTestPki, httpsRequest, type TestCertificate } from '@certbound/testing';
import express from 'express';
import { startAuthorizationServer } from '../../test/support/authorization-server.js';
import { startHttpsApp } from '../../test/support/https-app.js';

const RESOURCE = 'https://api.bank.example';

const pki = await createTestPki();
const as = await startAuthorizationServer({
  pki,
  resource: RESOURCE,
  scopes: ['accounts:read', 'payments:write'],
});
const certA = await pki.issueClient({ subject: 'CN=fintech-app, O=Example Fintech' });
const lookAlikeB = await pki.issueClient({ subject: 'CN=fintech-app, O=Example Fintech' });
const client = await as.registerMtlsClient(certA, { clientId: 'fintech-app' });

const app = express();
app.use(certbound({ issuer: as.issuer, audience: RESOURCE, tls: { ca: as.ca }, realm: 'bank' }));
app.get('/accounts', requireScopes('accounts:read'), (req, res) => {
  res.json({ accounts: [{ id: 'acc-1', balance: '1200.00' }], client: req.auth?.clientId });
});
app.post('/payments', requireScopes('payments:write'), (_req, res) => {
  res.status(201).json({ payment: 'pay-1' });
});
app.use(errorHandler());
const api = await startHttpsApp(app, pki);

let failures = 0;
async function step(
  title: string,
  certificate: TestCertificate | undefined,
  token: string,
  expected: number,
  [method, path] = ['GET', '/accounts'],
) {
  const res = await httpsRequest(`${api.url}${path}`, {
    method,
    ca: pki.ca.cert,
    certificate,
    headers: { authorization: `Bearer ${token}` },
  });
  const ok = res.status === expected;
  if (!ok) failures++;
  console.log(`${ok ? '✔' : '✘'} ${title}`);
  console.log(`    → ${res.status} ${res.body}`);
  if (res.headers['www-authenticate'])
    console.log(`      WWW-Authenticate: ${res.headers['www-authenticate']}`);
}

try {
  console.log(`authorization server: ${as.issuer}   API: ${api.url}\n`);
  const token = await as.issueToken(client, { scope: 'accounts:read' });
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
  console.log(`client A obtained a token over mTLS; cnf = ${JSON.stringify(claims.cnf)}`);
  console.log(`certificate A x5t#S256 = ${certA.thumbprint}\n`);

  await step('client A calls the API with its own certificate', certA, token, 200);
  await step('an attacker replays the stolen token with a look-alike certificate B', lookAlikeB, token, 401);
  await step('an attacker replays the stolen token without any certificate', undefined, token, 401);
  await step('client A tries a payment its token has no scope for', certA, token, 403, ['POST', '/payments']);
} finally {
  await api.close();
  await as.close();
}

console.log(
  failures === 0
    ? '\nDemo passed: the stolen token was useless.'
    : `\nDemo FAILED: ${failures} step(s) misbehaved.`,
);
process.exit(failures === 0 ? 0 : 1);
