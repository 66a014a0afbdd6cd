/**
 * The end-to-end demo, on loopback only, narrated step by step:
 *   - a throw-away PKI: a CA, the servers' certificates, client certificate A, a look-alike B
 *     (same subject, other key) and a self-signed certificate C;
 *   - a real OAuth 2.0 authorization server (oidc-provider) with RFC 8705 mutual-TLS client
 *     authentication (`tls_client_auth` and `self_signed_tls_client_auth`) issuing
 *     certificate-bound access tokens, as JWTs and as opaque tokens it answers RFC 7662
 *     introspection for;
 *   - an Express API protected by @certbound/express over mutual TLS;
 *   - a DPoP client (RFC 9449, proofs made by oauth4webapi) whose DPoP-bound token the same API
 *     accepts only with a fresh proof of its key.
 * Every step prints ✔ or ✘; the demo exits non-zero if any step does not behave as described,
 * and closes every server it started.
 */
import { certbound, errorHandler, requireScopes } from '@certbound/express';
import { createTestPki, type HttpsResponse, httpsRequest, type TestCertificate } from '@certbound/testing';
import express from 'express';
import { generateKeyPair } from 'jose';
import { startAuthorizationServer } from '../../test/support/authorization-server.js';
import { dpopClient } from '../../test/support/dpop-client.js';
import { startHttpsApp } from '../../test/support/https-app.js';

const RESOURCE = 'https://api.bank.example';
const started = Date.now();
const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[0m` : text);

let failures = 0;
let steps = 0;

/** Prints one step with its mark; `ok` says whether it behaved as described. */
function report(ok: boolean, title: string, details: string[] = []): void {
  steps++;
  if (!ok) failures++;
  console.log(`  ${ok ? '✔' : '✘'} ${title}`);
  for (const line of details) console.log(dim(`      ${line}`));
}

/** Calls the API and checks the status and (for failures) certbound's `code`. */
async function call(
  title: string,
  request: { path: string; method?: string; certificate?: TestCertificate; token: string },
  expected: { status: number; code?: string },
): Promise<HttpsResponse> {
  const response = await httpsRequest(`${api.url}${request.path}`, {
    method: request.method ?? 'GET',
    ca: pki.ca.cert,
    certificate: request.certificate,
    headers: { authorization: `Bearer ${request.token}` },
  });
  const body = response.json as { code?: string } | undefined;
  const ok =
    response.status === expected.status && (expected.code === undefined || body?.code === expected.code);
  const challenge = response.headers['www-authenticate'];
  report(ok, title, [
    `${request.method ?? 'GET'} ${request.path} → ${response.status} ${response.body}`,
    ...(challenge ? [`WWW-Authenticate: ${challenge}`] : []),
  ]);
  return response;
}

const decodePayload = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

console.log(
  bold(
    'certbound demo: RFC 8705 certificate-bound and RFC 9449 DPoP-bound access tokens, end to end on loopback\n',
  ),
);

const pki = await createTestPki();
const [certA, lookAlikeB, selfSignedC] = await Promise.all([
  pki.issueClient({ subject: 'CN=fintech-app, O=Example Fintech' }),
  pki.issueClient({ subject: 'CN=fintech-app, O=Example Fintech' }),
  pki.selfSigned({ subject: 'CN=partner-app, O=Example Partner' }),
]);
const as = await startAuthorizationServer({
  pki,
  resource: RESOURCE,
  scopes: ['accounts:read', 'payments:write'],
});

const app = express();
app.use(
  certbound({
    issuer: as.issuer,
    audience: RESOURCE,
    tls: { ca: as.ca },
    realm: 'bank',
    // Opaque tokens are introspected (RFC 7662); JWTs are checked against the issuer's JWKS.
    introspection: as.introspectionClient,
  }),
);
app.get('/accounts', requireScopes('accounts:read'), (req, res) => {
  res.json({
    accounts: [{ id: 'acc-1', balance: '1200.00' }],
    client: req.auth?.clientId,
    format: req.auth?.format,
  });
});
app.post('/payments', requireScopes('payments:write'), (_req, res) => {
  res.status(201).json({ payment: 'pay-1' });
});
app.use(errorHandler());
const api = await startHttpsApp(app, pki);

try {
  console.log('Set-up');
  console.log(`  throw-away PKI: client certificate A (CN=fintech-app) x5t#S256 = ${certA.thumbprint}`);
  console.log(`                  look-alike B (same subject, other key) x5t#S256 = ${lookAlikeB.thumbprint}`);
  console.log(
    `                  self-signed C (CN=partner-app)         x5t#S256 = ${selfSignedC.thumbprint}`,
  );
  console.log(`  authorization server (oidc-provider, mTLS client authentication): ${as.issuer}`);
  console.log(`  API (Express + @certbound/express, mutual TLS, realm "bank"):      ${api.url}\n`);

  console.log(
    bold('1. A JWT access token bound to certificate A (client authenticates with tls_client_auth)'),
  );
  const fintech = await as.registerMtlsClient(certA, { clientId: 'fintech-app' });
  const tokenResponse = await as.tokenResponse(fintech, { scope: 'accounts:read' });
  const jwt = String(tokenResponse.access_token);
  const cnf = decodePayload(jwt).cnf as Record<string, unknown> | undefined;
  report(
    tokenResponse.token_type === 'Bearer' && cnf?.['x5t#S256'] === certA.thumbprint,
    'the client gets a token over mTLS with certificate A; the AS binds it to A',
    [`token_type ${String(tokenResponse.token_type)}, cnf ${JSON.stringify(cnf)}`],
  );
  await call(
    'the client calls the API with certificate A',
    { path: '/accounts', certificate: certA, token: jwt },
    {
      status: 200,
    },
  );
  await call(
    'an attacker replays the stolen token with look-alike certificate B',
    { path: '/accounts', certificate: lookAlikeB, token: jwt },
    { status: 401, code: 'cnf_mismatch' },
  );
  await call(
    'an attacker replays the stolen token without a certificate',
    { path: '/accounts', token: jwt },
    { status: 401, code: 'certificate_missing' },
  );
  await call(
    'the client tries a payment its token has no scope for',
    { path: '/payments', method: 'POST', certificate: certA, token: jwt },
    { status: 403, code: 'insufficient_scope' },
  );

  console.log(
    bold(
      '\n2. An opaque token bound to self-signed certificate C (self_signed_tls_client_auth), via introspection',
    ),
  );
  const partner = await as.registerMtlsClient(selfSignedC, {
    clientId: 'partner-app',
    authMethod: 'self_signed_tls_client_auth',
    accessTokenFormat: 'opaque',
  });
  const opaque = await as.issueToken(partner, { scope: 'accounts:read' });
  report(!opaque.includes('.'), 'the partner gets an opaque token over mTLS with certificate C', [
    `${opaque.slice(0, 8)}… (${opaque.length} characters, not a JWT: the API must ask the AS)`,
  ]);
  const introspected = await call(
    'the partner calls the API with certificate C (the API introspects the token)',
    { path: '/accounts', certificate: selfSignedC, token: opaque },
    { status: 200 },
  );
  if ((introspected.json as { format?: string } | undefined)?.format !== 'opaque') {
    report(false, 'the API saw an opaque token');
  }
  await call(
    'an attacker replays the stolen opaque token with certificate A',
    { path: '/accounts', certificate: certA, token: opaque },
    { status: 401, code: 'cnf_mismatch' },
  );

  console.log(bold('\n3. A DPoP-bound token (RFC 9449): the client proves its key on every request'));
  const mobileKey = await generateKeyPair('ES256', { extractable: true });
  const mobile = dpopClient(mobileKey, { ca: pki.ca.cert });
  const mobileClient = await as.registerDpopClient({ clientId: 'mobile-app' });
  const dpopToken = await as.issueDpopToken(mobileClient, mobile.handle, { scope: 'accounts:read' });
  const jkt = (decodePayload(dpopToken).cnf as Record<string, unknown> | undefined)?.jkt;
  report(jkt === (await mobile.handle.calculateThumbprint()), 'the app gets a token bound to its DPoP key', [
    `cnf ${JSON.stringify({ jkt })}`,
  ]);
  const dpopCall = async (
    title: string,
    send: () => Promise<HttpsResponse>,
    expected: { status: number; code?: string },
  ): Promise<HttpsResponse> => {
    const response = await send();
    const body = response.json as { code?: string } | undefined;
    report(
      response.status === expected.status && (expected.code === undefined || body?.code === expected.code),
      title,
      [
        `GET /accounts → ${response.status} ${response.body}`,
        ...(response.status === 401 ? [`WWW-Authenticate: ${response.headers['www-authenticate']}`] : []),
      ],
    );
    return response;
  };
  let sent: Record<string, string> = {};
  await dpopCall(
    'the app calls the API with Authorization: DPoP and a fresh proof',
    async () => {
      const exchange = await mobile.request('GET', `${api.url}/accounts`, dpopToken);
      sent = exchange.sent;
      return exchange.response;
    },
    { status: 200 },
  );
  await dpopCall(
    'an attacker replays the captured request, proof and all',
    () => httpsRequest(`${api.url}/accounts`, { ca: pki.ca.cert, headers: sent }),
    { status: 401, code: 'dpop_proof_replayed' },
  );
  const attacker = dpopClient(await generateKeyPair('ES256', { extractable: true }), { ca: pki.ca.cert });
  await dpopCall(
    'an attacker uses the stolen token with proofs of its own key',
    async () => (await attacker.request('GET', `${api.url}/accounts`, dpopToken)).response,
    { status: 401, code: 'dpop_key_mismatch' },
  );
  await dpopCall(
    'an attacker sends the stolen token as a plain Bearer token',
    () =>
      httpsRequest(`${api.url}/accounts`, {
        ca: pki.ca.cert,
        headers: { authorization: `Bearer ${dpopToken}` },
      }),
    { status: 401, code: 'dpop_scheme_required' },
  );
} catch (error) {
  failures++;
  console.error('\nThe demo stopped on an unexpected error:', error);
} finally {
  await api.close();
  await as.close();
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(
  failures === 0
    ? bold(`\nAll ${steps} steps behaved as described (${seconds} s): a stolen bound token is useless.`)
    : bold(`\nDemo FAILED: ${failures} of ${steps} steps misbehaved (${seconds} s).`),
);
process.exitCode = failures === 0 ? 0 : 1;
