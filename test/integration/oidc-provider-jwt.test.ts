/**
 * End to end against a real authorization server (oidc-provider, RFC 8705 tls_client_auth and
 * certificate-bound JWT access tokens, client credentials with a resource indicator), over real
 * mutual TLS on both sides.
 */
import { certbound, errorHandler } from '@certbound/express';
import { createTestPki, httpsRequest, type TestCertificate, type TestPki } from '@certbound/testing';
import express from 'express';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthorizationServer,
  type RegisteredClient,
  startAuthorizationServer,
} from '../support/authorization-server.js';
import { challenge } from '../support/challenge.js';
import { type RunningApp, startHttpsApp } from '../support/https-app.js';

const RESOURCE = 'https://api.example.test';

describe.each(['ES256', 'RS256'] as const)(
  'JWT access tokens signed with %s by oidc-provider',
  (signingAlg) => {
    let pki: TestPki;
    let as: AuthorizationServer;
    let api: RunningApp;
    let certA: TestCertificate;
    let lookAlikeB: TestCertificate;
    let clientA: RegisteredClient;

    beforeAll(async () => {
      pki = await createTestPki();
      as = await startAuthorizationServer({ pki, resource: RESOURCE, signingAlg });
      certA = await pki.issueClient({ subject: 'CN=payments-client, O=certbound' });
      lookAlikeB = await pki.issueClient({ subject: 'CN=payments-client, O=certbound' });
      clientA = await as.registerMtlsClient(certA, { clientId: 'payments-client' });

      const app = express();
      app.use(certbound({ issuer: as.issuer, audience: RESOURCE, tls: { ca: as.ca }, realm: 'payments' }));
      app.get('/accounts', (req, res) => {
        res.json({
          clientId: req.auth?.clientId,
          thumbprint: req.auth?.thumbprint,
          bound: req.auth?.bound,
          scopes: req.auth?.scopes,
        });
      });
      app.use(errorHandler());
      api = await startHttpsApp(app, pki);
    });

    afterAll(async () => {
      await Promise.all([api?.close(), as?.close()]);
    });

    const callApi = (token: string, certificate?: TestCertificate) =>
      httpsRequest(`${api.url}/accounts`, {
        ca: pki.ca.cert,
        certificate,
        headers: { authorization: `Bearer ${token}` },
      });

    it('issues an at+jwt bound to the certificate used at the token endpoint', async () => {
      const token = await as.issueToken(clientA, { scope: 'read' });
      expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'at+jwt', alg: signingAlg });
      expect(decodeJwt(token)).toMatchObject({
        iss: as.issuer,
        aud: RESOURCE,
        cnf: { 'x5t#S256': certA.thumbprint },
      });
    });

    it('accepts the token on a connection presenting that certificate', async () => {
      const token = await as.issueToken(clientA, { scope: 'read write' });
      const res = await callApi(token, certA);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        clientId: 'payments-client',
        thumbprint: certA.thumbprint,
        bound: true,
        scopes: ['read', 'write'],
      });
    });

    it('rejects the token on a connection presenting a look-alike certificate (same subject, other key)', async () => {
      const token = await as.issueToken(clientA, { scope: 'read' });
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

    it('rejects the token on a connection without a client certificate', async () => {
      const token = await as.issueToken(clientA, { scope: 'read' });
      const res = await callApi(token);
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ error: 'invalid_token', code: 'certificate_missing' });
      expect(res.headers['www-authenticate']).toBe(
        challenge(
          { realm: 'payments' },
          {
            error: 'invalid_token',
            description: 'The access token is certificate-bound but no client certificate was presented',
          },
        ),
      );
    });

    it('binds to the certificate actually presented: a token obtained with B works with B only', async () => {
      const tokenForB = await as.issueToken(
        { clientId: clientA.clientId, certificate: lookAlikeB },
        { scope: 'read' },
      );
      expect(decodeJwt(tokenForB).cnf).toEqual({ 'x5t#S256': lookAlikeB.thumbprint });
      expect((await callApi(tokenForB, lookAlikeB)).status).toBe(200);
      const stolen = await callApi(tokenForB, certA);
      expect(stolen.status).toBe(401);
      expect(stolen.json).toMatchObject({ code: 'cnf_mismatch' });
    });

    it('fetched discovery and the JWK Set once for all of the above', () => {
      expect(as.counters.discovery).toBe(1);
      expect(as.counters.jwks).toBe(1);
    });
  },
);
