/**
 * DPoP (RFC 9449) beside mTLS, end to end: Express over real mTLS, tokens from the test issuer,
 * proofs from oauth4webapi. Each case asserts the status, body, `code` and challenges.
 */
import { createVerifier } from '@certbound/core';
import { certbound, errorHandler } from '@certbound/express';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import express from 'express';
import { type GenerateKeyPairResult, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DpopClient, dpopClient } from '../support/dpop-client.js';
import { type RunningApp, startHttpsApp } from '../support/https-app.js';

const ALGS = 'algs="ES256 ES384 EdDSA PS256 RS256"';
let pki: TestPki;
let issuer: TestIssuer;
let certificate: TestCertificate;
let app: RunningApp;
let nonceApp: RunningApp;
let alice: GenerateKeyPairResult;
let client: DpopClient;
let mallory: DpopClient;

function api(options: Record<string, unknown> = {}) {
  const server = express();
  server.use(
    certbound({ issuer: issuer.issuer, audience: issuer.audience, tls: { ca: issuer.ca }, ...options }),
  );
  server.get('/accounts', (req, res) => {
    res.json({ scheme: req.auth?.scheme, jkt: req.auth?.jkt, bound: req.auth?.bound });
  });
  server.use(errorHandler());
  return server;
}

beforeAll(async () => {
  pki = await createTestPki();
  issuer = await createTestIssuer({ pki, algorithms: ['ES256'] });
  certificate = await pki.issueClient({ subject: 'CN=client-a' });
  app = await startHttpsApp(api(), pki);
  nonceApp = await startHttpsApp(api({ dpop: { nonce: { secret: 'n'.repeat(32) } } }), pki);
  alice = await generateKeyPair('ES256', { extractable: true });
  client = dpopClient(alice, { ca: issuer.ca });
  mallory = dpopClient(await generateKeyPair('ES256', { extractable: true }), { ca: issuer.ca });
});

afterAll(async () => {
  await Promise.all([app?.close(), nonceApp?.close(), issuer?.close()]);
});

const refusal = (code: string, error: string, description: string) => ({
  error,
  error_description: description,
  code,
});

describe('the DPoP scheme', () => {
  it('accepts a DPoP-bound token with a proof of its key, and says so in AuthInfo', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const { response } = await client.request('GET', `${app.url}/accounts`, token);
    expect(response.status).toBe(200);
    expect(response.json).toEqual({
      scheme: 'DPoP',
      jkt: await client.handle.calculateThumbprint(),
      bound: true,
    });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('refuses the same proof sent twice', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const first = await client.request('GET', `${app.url}/accounts`, token);
    expect(first.response.status).toBe(200);
    const replay = await httpsRequest(`${app.url}/accounts`, { ca: issuer.ca, headers: first.sent });
    expect(replay.status).toBe(401);
    expect(replay.json).toEqual(
      refusal('dpop_proof_replayed', 'invalid_dpop_proof', 'The DPoP proof was already used'),
    );
    expect(replay.headers['www-authenticate']).toBe(
      `DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof was already used", ${ALGS}, Bearer realm="api"`,
    );
  });

  it('refuses a stolen DPoP token presented with another key', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const { response } = await mallory.request('GET', `${app.url}/accounts`, token);
    expect(response.status).toBe(401);
    expect(response.json).toEqual(
      refusal('dpop_key_mismatch', 'invalid_token', 'The access token is not bound to the DPoP proof key'),
    );
  });

  it('refuses a DPoP-bound token sent as Bearer, with the error on the DPoP challenge (no downgrade)', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const response = await httpsRequest(`${app.url}/accounts`, {
      ca: issuer.ca,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(401);
    expect(response.json).toEqual(
      refusal(
        'dpop_scheme_required',
        'invalid_token',
        'The access token is DPoP-bound and must be sent with the DPoP scheme',
      ),
    );
    expect(response.headers['www-authenticate']).toBe(
      `DPoP realm="api", error="invalid_token", error_description="The access token is DPoP-bound and must be sent with the DPoP scheme", ${ALGS}, Bearer realm="api"`,
    );
  });

  it('refuses the DPoP scheme without a DPoP field', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const response = await httpsRequest(`${app.url}/accounts`, {
      ca: issuer.ca,
      headers: { authorization: `DPoP ${token}` },
    });
    expect(response.status).toBe(401);
    expect(response.json).toEqual(
      refusal('dpop_proof_missing', 'invalid_dpop_proof', 'A DPoP proof is required'),
    );
  });

  it('offers both challenges to a request without credentials', async () => {
    const response = await httpsRequest(`${app.url}/accounts`, { ca: issuer.ca });
    expect(response.status).toBe(401);
    expect(response.json).toEqual({
      error_description: 'Authentication required',
      code: 'credentials_missing',
    });
    expect(response.headers['www-authenticate']).toBe(`Bearer realm="api", DPoP realm="api", ${ALGS}`);
  });

  it('needs both proofs for a token bound to the certificate and the DPoP key', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice, certificate });
    const withBoth = dpopClient(alice, { ca: issuer.ca, certificate });
    expect((await withBoth.request('GET', `${app.url}/accounts`, token)).response.status).toBe(200);
    const withoutCertificate = await client.request('GET', `${app.url}/accounts`, token);
    expect(withoutCertificate.response.status).toBe(401);
    expect(withoutCertificate.response.json).toEqual(
      refusal(
        'certificate_missing',
        'invalid_token',
        'The access token is certificate-bound but no client certificate was presented',
      ),
    );
  });

  it('still accepts certificate-bound tokens under Bearer', async () => {
    const token = await issuer.mintAccessToken({ certificate });
    const response = await httpsRequest(`${app.url}/accounts`, {
      ca: issuer.ca,
      certificate,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ scheme: 'Bearer', bound: true });
  });
});

describe('resource-server nonces', () => {
  it('asks for a nonce with use_dpop_nonce, then accepts the proof carrying it and hands out the next', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const nonceClient = dpopClient(alice, { ca: issuer.ca });
    const first = await nonceClient.request('GET', `${nonceApp.url}/accounts`, token);
    expect(first.response.status).toBe(401);
    expect(first.response.json).toEqual(
      refusal(
        'dpop_nonce_required',
        'use_dpop_nonce',
        'The DPoP proof must carry the nonce the resource server provided',
      ),
    );
    expect(first.response.headers['dpop-nonce']).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    expect(first.response.headers['www-authenticate']).toBe(
      `DPoP realm="api", error="use_dpop_nonce", error_description="The DPoP proof must carry the nonce the resource server provided", ${ALGS}, Bearer realm="api"`,
    );
    // oauth4webapi remembered the nonce from the DPoP-Nonce header.
    const second = await nonceClient.request('GET', `${nonceApp.url}/accounts`, token);
    expect(second.response.status).toBe(200);
    expect(second.response.headers['dpop-nonce']).toBe(first.response.headers['dpop-nonce']);
  });

  it('accepts a nonce issued by another instance that shares the secret', async () => {
    const other = createVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      tls: { ca: issuer.ca },
      dpop: { nonce: { secret: 'n'.repeat(32) } },
    });
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const nonceClient = dpopClient(alice, { ca: issuer.ca });
    await nonceClient.request('GET', `${nonceApp.url}/accounts`, token); // learns the nonce
    const { sent } = await nonceClient.request('GET', `${nonceApp.url}/accounts`, token);
    // The proof (for nonceApp's URL) is checked by another verifier with the same secret.
    const auth = await other
      .verify({
        authorization: sent.authorization,
        dpop: sent.dpop,
        method: 'GET',
        url: `${nonceApp.url}/accounts`,
      })
      .catch((error: { code: string }) => error.code);
    // The proof was already spent by nonceApp, but the other instance's replay cache is its own:
    // what matters here is that the nonce itself is accepted.
    expect(auth).toMatchObject({ scheme: 'DPoP', bound: true });
    await other.close();
  });
});
