/**
 * Policy: several authorization servers (`issuers`) and RFC 9470 step-up (`requireAuthContext`),
 * end to end over real mTLS with Express, two test issuers as the authorization servers.
 */
import { createVerifier, protectedResourceMetadata } from '@certbound/core';
import { certbound, errorHandler, requireAuthContext } from '@certbound/express';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startHttpsApp } from '../support/https-app.js';

let pki: TestPki;
let first: TestIssuer;
let second: TestIssuer;
let client: TestCertificate;
let app: RunningApp;
let stepUp: RunningApp;

const DPOP = 'DPoP realm="api", algs="ES256 ES384 EdDSA PS256 RS256"';

beforeAll(async () => {
  pki = await createTestPki();
  [first, second] = await Promise.all([
    createTestIssuer({ pki, algorithms: ['ES256'] }),
    createTestIssuer({ pki, algorithms: ['ES256'], audience: 'https://partner-api.example.test' }),
  ]);
  client = await pki.issueClient({ subject: 'CN=client-a' });

  const api = express();
  api.use(
    certbound({
      issuers: [
        { issuer: first.issuer },
        { issuer: second.issuer, audience: 'https://partner-api.example.test' },
      ],
      audience: first.audience,
      tls: { ca: pki.ca.cert },
    }),
  );
  api.get('/me', (req, res) => {
    res.json({ issuer: req.auth?.issuer });
  });
  api.use(errorHandler());
  app = await startHttpsApp(api, pki);

  const payments = express();
  payments.use(certbound({ issuer: first.issuer, audience: first.audience, tls: { ca: first.ca } }));
  payments.post(
    '/payments',
    requireAuthContext({ acr: ['urn:mace:incommon:iap:silver', 'mfa'], maxAgeSeconds: 300 }),
    (_req, res) => {
      res.status(201).json({ ok: true });
    },
  );
  payments.use(errorHandler());
  stepUp = await startHttpsApp(payments, pki);
});

afterAll(async () => {
  await Promise.all([app?.close(), stepUp?.close(), first?.close(), second?.close()]);
});

const call = (target: RunningApp, token: string, method = 'GET', path = '/me') =>
  httpsRequest(`${target.url}${path}`, {
    method,
    ca: pki.ca.cert,
    certificate: client,
    headers: { authorization: `Bearer ${token}` },
  });

describe('several authorization servers', () => {
  it('accepts bound tokens from each issuer and says which one issued them', async () => {
    const fromFirst = await call(app, await first.mintAccessToken({ certificate: client }));
    const fromSecond = await call(app, await second.mintAccessToken({ certificate: client }));
    expect([fromFirst.status, fromFirst.json]).toEqual([200, { issuer: first.issuer }]);
    expect([fromSecond.status, fromSecond.json]).toEqual([200, { issuer: second.issuer }]);
  });

  it("refuses a token claiming the second issuer but signed with the first's key", async () => {
    const signedByFirst = await first.mintAccessToken({
      certificate: client,
      audience: 'https://partner-api.example.test',
      claims: { iss: second.issuer },
    });
    const response = await call(app, signedByFirst);
    expect(response.status).toBe(401);
    expect(response.json).toEqual({
      error: 'invalid_token',
      error_description: 'The access token signature is invalid',
      code: 'token_signature_invalid',
    });
  });

  it('refuses an unknown issuer without any network call', async () => {
    const before = { ...first.counters };
    const stranger = await first.mintAccessToken({
      certificate: client,
      claims: { iss: 'https://other.example' },
    });
    const response = await call(app, stranger);
    expect(response.status).toBe(401);
    expect(response.json).toEqual({
      error: 'invalid_token',
      error_description: 'The access token was issued by another issuer',
      code: 'token_issuer_mismatch',
    });
    expect(response.headers['www-authenticate']).toBe(
      `Bearer realm="api", error="invalid_token", error_description="The access token was issued by another issuer", ${DPOP}`,
    );
    expect(first.counters).toEqual(before);
  });

  it("uses each issuer's own audience", async () => {
    const wrongAudience = await second.mintAccessToken({ certificate: client, audience: first.audience });
    const response = await call(app, wrongAudience);
    expect(response.status).toBe(401);
    expect((response.json as { code: string }).code).toBe('token_audience_mismatch');
  });

  it("answers 503 for one issuer's tokens while its keys are unavailable, and 200 for the other's", async () => {
    const local = await createTestIssuer({ pki, algorithms: ['ES256'] });
    const other = await createTestIssuer({ pki, algorithms: ['ES256'] });
    const verifier = createVerifier({
      issuers: [{ issuer: local.issuer }, { issuer: other.issuer }],
      audience: local.audience,
      tls: { ca: pki.ca.cert },
    });
    try {
      local.outage('down');
      const down = await verifier
        .verify({
          authorization: `Bearer ${await local.mintAccessToken({ certificate: client })}`,
          certificate: client.cert,
        })
        .catch((error: { status: number; code: string }) => [error.status, error.code]);
      const up = await verifier.verify({
        authorization: `Bearer ${await other.mintAccessToken({ certificate: client })}`,
        certificate: client.cert,
      });
      expect(down).toEqual([503, 'authorization_server_unavailable']);
      expect(up.issuer).toBe(other.issuer);
    } finally {
      await verifier.close();
      await Promise.all([local.close(), other.close()]);
    }
  });

  it('lists every issuer in the RFC 9728 metadata', () => {
    const document = protectedResourceMetadata({
      resource: 'https://api.example.test',
      issuers: [{ issuer: first.issuer }, { issuer: second.issuer }],
    });
    expect(document.authorization_servers).toEqual([first.issuer, second.issuer]);
  });

  it.each([
    [
      { audience: 'a' },
      'Invalid certbound option: "issuer" must be given, or "issuers" instead, but not both',
    ],
    [
      { issuer: 'https://as.example', issuers: [{ issuer: 'https://b.example' }], audience: 'a' },
      'Invalid certbound option: "issuer" must be given, or "issuers" instead, but not both',
    ],
    [
      {
        issuers: [{ issuer: 'https://a.example' }],
        audience: 'a',
        introspection: { clientId: 'x', clientSecret: 'y' },
      },
      'Invalid certbound option: "introspection" must be used with a single "issuer": an opaque token does not say who issued it',
    ],
    [
      { issuers: [{ issuer: 'https://a.example' }] },
      'Invalid certbound option: "issuers[0].audience" must be given, or a top-level "audience"',
    ],
    [
      { issuers: [{ issuer: 'https://a.example' }, { issuer: 'https://a.example' }], audience: 'a' },
      'Invalid certbound option: "issuers" must be made of distinct issuers ("https://a.example" twice)',
    ],
  ])('refuses %j at start-up', (options, message) => {
    expect(() => createVerifier(options as never)).toThrow(new TypeError(message));
  });
});

describe('step-up authentication (RFC 9470)', () => {
  const now = () => Math.floor(Date.now() / 1000);

  it('lets a recent, strong enough user authentication through', async () => {
    const token = await first.mintAccessToken({
      certificate: client,
      claims: { acr: 'mfa', auth_time: now() - 60 },
    });
    expect((await call(stepUp, token, 'POST', '/payments')).status).toBe(201);
  });

  it.each<[string, { acr?: string; auth_time?: number }]>([
    ['a weaker acr', { acr: 'pwd', auth_time: 0 }],
    ['an old authentication', { acr: 'mfa', auth_time: -3600 }],
    ['no auth_time', { acr: 'mfa' }],
    ['no acr', { auth_time: 0 }],
  ])('asks for a new user authentication after %s', async (_what, claims) => {
    const token = await first.mintAccessToken({
      certificate: client,
      claims: {
        ...claims,
        ...(typeof claims.auth_time === 'number' ? { auth_time: now() + claims.auth_time } : {}),
      },
    });
    const response = await call(stepUp, token, 'POST', '/payments');
    expect(response.status).toBe(401);
    expect(response.json).toEqual({
      error: 'insufficient_user_authentication',
      error_description: 'A different or more recent user authentication is required',
      code: 'insufficient_user_authentication',
    });
    expect(response.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_user_authentication", error_description="A different or more recent user authentication is required", acr_values="urn:mace:incommon:iap:silver mfa", max_age="300", ' +
        DPOP,
    );
  });

  it('is checked after binding: a stolen token never gets as far as step-up', async () => {
    const token = await first.mintAccessToken({ certificate: client, claims: { acr: 'pwd' } });
    const response = await httpsRequest(`${stepUp.url}/payments`, {
      method: 'POST',
      ca: pki.ca.cert,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(401);
    expect((response.json as { code: string }).code).toBe('certificate_missing');
  });

  it('refuses a bad policy at start-up', () => {
    expect(() => requireAuthContext({} as never)).toThrow(
      new TypeError('requireAuthContext: give "acr", "maxAgeSeconds", or both'),
    );
    expect(() => requireAuthContext({ acr: ['a b'] })).toThrow(
      new TypeError(
        'requireAuthContext: "acr" must be a non-empty array of acr values (no spaces or quotes)',
      ),
    );
  });
});
