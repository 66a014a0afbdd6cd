/**
 * DPoP-bound access tokens (RFC 9449) end to end against a real authorization server: oidc-provider
 * issues them with the client credentials grant to a token request carrying a proof made by
 * oauth4webapi, as JWTs (`cnf.jkt`, RFC 9449 §6.1) and as opaque tokens that introspection
 * explains (`cnf.jkt`, `token_type: DPoP`, §6.2). The client then calls an Express app running
 * certbound over real mutual TLS, with fresh oauth4webapi proofs: nothing in this file or in
 * certbound makes a proof. Each refusal asserts the status, the body and the exact challenges.
 */
import { certbound, errorHandler } from '@certbound/express';
import { createTestPki, httpsRequest, type TestCertificate, type TestPki } from '@certbound/testing';
import express from 'express';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { generateKeyPair } from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthorizationServer,
  type RegisteredDpopClient,
  startAuthorizationServer,
} from '../support/authorization-server.js';
import { type DpopClient, type DpopKeyPair, dpopClient } from '../support/dpop-client.js';
import { type RunningApp, startHttpsApp } from '../support/https-app.js';

const RESOURCE = 'https://api.example.test';
const REALM = 'payments';
const ALGS = 'algs="ES256 ES384 EdDSA PS256 RS256"';

let pki: TestPki;
let as: AuthorizationServer;

beforeAll(async () => {
  pki = await createTestPki();
  as = await startAuthorizationServer({ pki, resource: RESOURCE });
});

afterAll(() => as?.close());

/** The body and `WWW-Authenticate` of a refusal under the DPoP scheme (or of a DPoP-bound token as Bearer). */
function refusal(code: string, error: string, description: string) {
  return {
    body: { error, error_description: description, code },
    challenge: `DPoP realm="${REALM}", error="${error}", error_description="${description}", ${ALGS}, Bearer realm="${REALM}"`,
  };
}

const REPLAYED = refusal('dpop_proof_replayed', 'invalid_dpop_proof', 'The DPoP proof was already used');
const KEY_MISMATCH = refusal(
  'dpop_key_mismatch',
  'invalid_token',
  'The access token is not bound to the DPoP proof key',
);
const SCHEME_REQUIRED = refusal(
  'dpop_scheme_required',
  'invalid_token',
  'The access token is DPoP-bound and must be sent with the DPoP scheme',
);
describe.each([
  ['JWT', 'jwt'],
  ['opaque (introspected)', 'opaque'],
] as const)('DPoP-bound %s access tokens from oidc-provider', (_label, format) => {
  let api: RunningApp;
  let certificate: TestCertificate;
  let client: RegisteredDpopClient;
  /** The legitimate client's DPoP key. */
  let aliceKey: DpopKeyPair;
  /** The legitimate client: proofs of `aliceKey`, its certificate on the TLS connection. */
  let alice: DpopClient;
  /** An attacker holding another DPoP key (and a certificate of its own). */
  let mallory: DpopClient;
  let jkt: string;

  beforeAll(async () => {
    certificate = await pki.issueClient({ subject: 'CN=dpop-client, O=certbound' });
    const malloryCertificate = await pki.issueClient({ subject: 'CN=mallory' });
    client = await as.registerDpopClient({ accessTokenFormat: format });
    aliceKey = await generateKeyPair('ES256');
    alice = dpopClient(aliceKey, { ca: pki.ca.cert, certificate });
    mallory = dpopClient(await generateKeyPair('ES256'), {
      ca: pki.ca.cert,
      certificate: malloryCertificate,
    });
    jkt = await alice.handle.calculateThumbprint();

    const app = express();
    app.use(
      certbound({
        issuer: as.issuer,
        audience: RESOURCE,
        tls: { ca: as.ca },
        realm: REALM,
        ...(format === 'opaque'
          ? { tokenFormat: 'opaque' as const, introspection: { ...as.introspectionClient } }
          : {}),
      }),
    );
    app.get('/accounts', (req, res) => {
      res.json({
        format: req.auth?.format,
        clientId: req.auth?.clientId,
        scheme: req.auth?.scheme,
        jkt: req.auth?.jkt,
        bound: req.auth?.bound,
        thumbprint: req.auth?.thumbprint,
      });
    });
    app.use(errorHandler());
    api = await startHttpsApp(app, pki);
  });

  afterAll(() => api?.close());

  const expectRefusal = (
    response: { status: number; json: unknown; headers: Record<string, unknown> },
    expected: ReturnType<typeof refusal>,
  ) => {
    expect(response.status).toBe(401);
    expect(response.json).toStrictEqual(expected.body);
    expect(response.headers['www-authenticate']).toBe(expected.challenge);
    expect(response.headers['dpop-nonce']).toBeUndefined();
  };

  it('issues a token bound to the key of the oauth4webapi proof sent to the token endpoint', async () => {
    const response = await as.dpopTokenResponse(client, alice.handle, { scope: 'read' });
    // oauth4webapi lower-cases token_type; oidc-provider answered "DPoP".
    expect(response).toMatchObject({ token_type: 'dpop', scope: 'read', expires_in: 300 });
    const token = response.access_token;
    if (format === 'jwt') {
      expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
      expect(decodeJwt(token)).toMatchObject({
        iss: as.issuer,
        aud: RESOURCE,
        client_id: client.clientId,
        cnf: { jkt },
      });
      expect(decodeJwt(token).cnf).toStrictEqual({ jkt });
    } else {
      expect(token.split('.')).toHaveLength(1);
      const introspection = await as.introspect(token);
      expect(introspection).toMatchObject({
        active: true,
        token_type: 'DPoP',
        iss: as.issuer,
        aud: RESOURCE,
        client_id: client.clientId,
        scope: 'read',
      });
      expect(introspection['cnf']).toStrictEqual({ jkt });
    }
  });

  it('accepts the token with a fresh oauth4webapi proof over mutual TLS', async () => {
    const token = await as.issueDpopToken(client, alice.handle, { scope: 'read' });
    const { response } = await alice.request('GET', `${api.url}/accounts`, token);
    expect(response.status).toBe(200);
    expect(response.json).toStrictEqual({
      format,
      clientId: client.clientId,
      scheme: 'DPoP',
      jkt,
      bound: true,
      thumbprint: certificate.thumbprint,
    });
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['www-authenticate']).toBeUndefined();
  });

  it('refuses the same proof sent again', async () => {
    const token = await as.issueDpopToken(client, alice.handle, { scope: 'read' });
    const first = await alice.request('GET', `${api.url}/accounts`, token);
    expect(first.response.status).toBe(200);
    const replay = await httpsRequest(`${api.url}/accounts`, {
      ca: pki.ca.cert,
      certificate,
      headers: first.sent,
    });
    expectRefusal(replay, REPLAYED);
  });

  it('refuses a stolen token presented with a proof by another key', async () => {
    const token = await as.issueDpopToken(client, alice.handle, { scope: 'read' });
    const { response } = await mallory.request('GET', `${api.url}/accounts`, token);
    expectRefusal(response, KEY_MISMATCH);
  });

  it('refuses the token sent as a Bearer token, with the error on the DPoP challenge', async () => {
    const token = await as.issueDpopToken(client, alice.handle, { scope: 'read' });
    const response = await httpsRequest(`${api.url}/accounts`, {
      ca: pki.ca.cert,
      certificate,
      headers: { authorization: `Bearer ${token}` },
    });
    expectRefusal(response, SCHEME_REQUIRED);
  });

  describe('issued to a client authenticated by tls_client_auth', () => {
    let mtlsClient: RegisteredDpopClient;

    beforeAll(async () => {
      mtlsClient = await as.registerDpopClient({
        authMethod: 'tls_client_auth',
        certificate,
        accessTokenFormat: format,
      });
    });

    it('binds the token to the DPoP key only (oidc-provider binds one way per token)', async () => {
      const token = await as.issueDpopToken(mtlsClient, alice.handle, { scope: 'read' });
      const cnf = format === 'jwt' ? decodeJwt(token).cnf : (await as.introspect(token))['cnf'];
      expect(cnf).toStrictEqual({ jkt });
    });

    it('accepts the token with a proof, on a connection without a certificate too', async () => {
      const token = await as.issueDpopToken(mtlsClient, alice.handle, { scope: 'read' });
      const withCertificate = await alice.request('GET', `${api.url}/accounts`, token);
      expect(withCertificate.response.status).toBe(200);
      expect(withCertificate.response.json).toStrictEqual({
        format,
        clientId: mtlsClient.clientId,
        scheme: 'DPoP',
        jkt,
        bound: true,
        thumbprint: certificate.thumbprint,
      });
      const withoutCertificate = dpopClient(aliceKey, { ca: pki.ca.cert });
      const { response } = await withoutCertificate.request('GET', `${api.url}/accounts`, token);
      expect(response.status).toBe(200);
      expect(response.json).toStrictEqual({
        format,
        clientId: mtlsClient.clientId,
        scheme: 'DPoP',
        jkt,
        bound: true,
      });
    });

    it("refuses the token as Bearer even on the client's own certificate", async () => {
      const token = await as.issueDpopToken(mtlsClient, alice.handle, { scope: 'read' });
      const response = await httpsRequest(`${api.url}/accounts`, {
        ca: pki.ca.cert,
        certificate,
        headers: { authorization: `Bearer ${token}` },
      });
      expectRefusal(response, SCHEME_REQUIRED);
    });
  });
});
