/**
 * The testing kit as users use it: a PKI with a look-alike, a local issuer minting bound tokens,
 * an app served over HTTPS asking for client certificates, called with supertest and httpsRequest.
 */
import { certbound, errorHandler } from '@certbound/express';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  serveHttps,
  type TestServer,
} from '@certbound/testing';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let api: TestServer;
let issuer: Awaited<ReturnType<typeof createTestIssuer>>;
let pki: Awaited<ReturnType<typeof createTestPki>>;

beforeAll(async () => {
  pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  const app = express();
  app.use(certbound({ issuer: issuer.issuer, audience: issuer.audience, tls: { ca: issuer.ca } }));
  app.get('/me', (req, res) => {
    res.json({ subject: req.auth?.subject, thumbprint: req.auth?.thumbprint });
  });
  app.use(errorHandler());
  api = await serveHttps(app, { pki });
});

afterAll(async () => {
  await Promise.all([api?.close(), issuer?.close()]);
});

describe('@certbound/testing', () => {
  it('makes a look-alike with the same subject and another thumbprint', async () => {
    const client = await pki.issueClient({ subject: 'CN=client-a, O=Example' });
    const lookAlike = await pki.lookAlike(client);
    expect(lookAlike.subject).toBe(client.subject);
    expect(lookAlike.thumbprint).not.toBe(client.thumbprint);
  });

  it('works with supertest: the bound certificate passes, the look-alike does not', async () => {
    const client = await pki.issueClient({ subject: 'CN=client-a' });
    const token = await issuer.mintAccessToken({ certificate: client, scope: 'read' });
    await request(api.url)
      .get('/me')
      .ca(pki.ca.cert)
      .cert(client.cert)
      .key(client.key)
      .set('authorization', `Bearer ${token}`)
      .expect(200, { subject: 'client-a', thumbprint: client.thumbprint });

    const attacker = await pki.lookAlike(client);
    const rejected = await request(api.url)
      .get('/me')
      .ca(pki.ca.cert)
      .cert(attacker.cert)
      .key(attacker.key)
      .set('authorization', `Bearer ${token}`);
    expect(rejected.status).toBe(401);
    expect(rejected.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The access token is bound to another certificate", DPoP realm="api", algs="ES256 ES384 EdDSA PS256 RS256"',
    );
    expect(rejected.body).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is bound to another certificate',
      code: 'cnf_mismatch',
    });
  });

  it('calls with httpsRequest, with and without a certificate', async () => {
    const client = await pki.issueClient({ subject: 'CN=client-a' });
    const headers = { authorization: `Bearer ${await issuer.mintAccessToken({ certificate: client })}` };
    const accepted = await httpsRequest(`${api.url}/me`, { ca: pki.ca.cert, certificate: client, headers });
    expect(accepted.status).toBe(200);
    const anonymous = await httpsRequest(`${api.url}/me`, { ca: pki.ca.cert, headers });
    expect(anonymous.status).toBe(401);
    expect((anonymous.json as { code: string }).code).toBe('certificate_missing');
  });
});
