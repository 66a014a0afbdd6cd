/**
 * Opaque certificate-bound access tokens from a real authorization server (oidc-provider), checked
 * through RFC 7662 introspection, with the resource server authenticating to the introspection
 * endpoint by client secret, and by tls_client_auth through the RFC 8705 §5 mTLS alias.
 */
import { type CertboundOptions, createVerifier } from '@certbound/core';
import { certbound, errorHandler } from '@certbound/express';
import { createTestPki, httpsRequest, type TestCertificate, type TestPki } from '@certbound/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthorizationServer,
  type RegisteredClient,
  startAuthorizationServer,
} from '../support/authorization-server.js';
import { challenge } from '../support/challenge.js';
import { type RunningApp, startHttpsApp } from '../support/https-app.js';

const RESOURCE = 'https://api.example.test';

let pki: TestPki;
let as: AuthorizationServer;
let certA: TestCertificate;
let lookAlikeB: TestCertificate;
let clientA: RegisteredClient;

beforeAll(async () => {
  pki = await createTestPki();
  as = await startAuthorizationServer({ pki, resource: RESOURCE, accessTokenFormat: 'opaque' });
  certA = await pki.issueClient({ subject: 'CN=payments-client, O=certbound' });
  lookAlikeB = await pki.issueClient({ subject: 'CN=payments-client, O=certbound' });
  clientA = await as.registerMtlsClient(certA, { clientId: 'payments-client' });
});

afterAll(() => as?.close());

const methods: [string, () => Partial<CertboundOptions>, boolean][] = [
  [
    'client_secret_basic',
    () => ({
      tls: { ca: as.ca },
      introspection: {
        clientId: as.introspectionClient.clientId,
        clientSecret: as.introspectionClient.clientSecret,
      },
    }),
    false,
  ],
  [
    'client_secret_post',
    () => ({
      tls: { ca: as.ca },
      introspection: { ...as.introspectionPostClient, clientAuthMethod: 'client_secret_post' },
    }),
    false,
  ],
  [
    'private_key_jwt',
    () => ({
      tls: { ca: as.ca },
      introspection: {
        clientId: as.introspectionJwtClient.clientId,
        clientAuthMethod: 'private_key_jwt',
        privateKey: as.introspectionJwtClient.privateJwk,
      },
    }),
    false,
  ],
  [
    'tls_client_auth through the mTLS alias',
    () => ({
      tls: {
        ca: as.ca,
        cert: as.introspectionMtlsClient.certificate.cert,
        key: as.introspectionMtlsClient.certificate.key,
      },
      introspection: { clientId: as.introspectionMtlsClient.clientId, clientAuthMethod: 'tls_client_auth' },
    }),
    true,
  ],
];

describe.each(methods)('opaque tokens introspected with %s', (_method, authOptions, viaAlias) => {
  let api: RunningApp;

  beforeAll(async () => {
    const app = express();
    app.use(
      certbound(
        createVerifier({
          issuer: as.issuer,
          audience: RESOURCE,
          tokenFormat: 'opaque',
          realm: 'payments',
          ...authOptions(),
        }),
      ),
    );
    app.get('/accounts', (req, res) => {
      res.json({
        format: req.auth?.format,
        clientId: req.auth?.clientId,
        bound: req.auth?.bound,
        scopes: req.auth?.scopes,
      });
    });
    app.use(errorHandler());
    api = await startHttpsApp(app, pki);
  });

  afterAll(() => api?.close());

  const callApi = (token: string, certificate?: TestCertificate) =>
    httpsRequest(`${api.url}/accounts`, {
      ca: pki.ca.cert,
      certificate,
      headers: { authorization: `Bearer ${token}` },
    });

  it('accepts a bound opaque token with its certificate', async () => {
    const token = await as.issueToken(clientA, { scope: 'read' });
    expect(token.split('.')).toHaveLength(1);
    const res = await callApi(token, certA);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      format: 'opaque',
      clientId: 'payments-client',
      bound: true,
      scopes: ['read'],
    });
  });

  it('rejects it with a look-alike certificate, after a cache hit too', async () => {
    const token = await as.issueToken(clientA, { scope: 'read' });
    expect((await callApi(token, certA)).status).toBe(200);
    const res = await callApi(token, lookAlikeB);
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 'invalid_token', code: 'cnf_mismatch' });
    expect(res.headers['www-authenticate']).toBe(
      challenge(
        { realm: 'payments' },
        { error: 'invalid_token', description: 'The access token is bound to another certificate' },
      ),
    );
  });

  it('rejects a revoked token and an unknown token as inactive', async () => {
    const token = await as.issueToken(clientA, { scope: 'read' });
    await as.revoke(token);
    for (const value of [token, 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-unknown']) {
      const res = await callApi(value, certA);
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ error: 'invalid_token', code: 'token_inactive' });
      expect(res.headers['www-authenticate']).toBe(
        challenge(
          { realm: 'payments' },
          { error: 'invalid_token', description: 'The access token is not active' },
        ),
      );
    }
  });

  it('makes exactly one introspection call for 200 concurrent requests with one new token', async () => {
    const token = await as.issueToken(clientA, { scope: 'read' });
    const before = as.counters.introspection;
    const beforeAlias = as.counters.mtlsIntrospection;
    const responses = await Promise.all(Array.from({ length: 200 }, () => callApi(token, certA)));
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(as.counters.introspection - before).toBe(1);
    expect(as.counters.mtlsIntrospection - beforeAlias).toBe(viaAlias ? 1 : 0);
  });
});
