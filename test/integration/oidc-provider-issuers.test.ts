/**
 * Several authorization servers and RFC 9470 step-up against real ones: two oidc-provider
 * instances (test/support/authorization-server.ts), each with its own signing keys, issue
 * certificate-bound JWT access tokens over RFC 8705 mutual TLS; one Express API over real mutual
 * TLS accepts both (`issuers`, the first found by discovery, the second by its `jwksUri`).
 *
 * The step-up tokens come from a real authorization code flow at oidc-provider: the user's login
 * (its `acr` and time) is what the login interaction reports, oidc-provider keeps it in the
 * authorization code, and the harness's `extraTokenClaims` copies the code's `acr` and
 * `auth_time` into the access token; oidc-provider does not put them there by itself
 * (test/support/user-authentication.ts). Introspection of an opaque token answers them the same way.
 */

import { createVerifier, type Verifier } from '@certbound/core';
import { certbound, errorHandler, requireAuthContext } from '@certbound/express';
import { createTestPki, httpsRequest, type TestCertificate, type TestPki } from '@certbound/testing';
import express from 'express';
import { CompactSign, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthorizationServer,
  type AuthorizationServerOutage,
  type RegisteredClient,
  startAuthorizationServer,
} from '../support/authorization-server.js';
import { challengesOf } from '../support/challenge.js';
import { startHttpsApp } from '../support/https-app.js';
import type { UserLogin } from '../support/user-authentication.js';

const RESOURCE = 'https://api.example.test';
const REALM = 'api';
const ACR = {
  password: 'urn:example:acr:password',
  mfa: 'urn:example:acr:mfa',
  hardwareKey: 'urn:example:acr:hardware-key',
} as const;
const MAX_AGE = 300;

const challenges = challengesOf({ realm: REALM });
const SIGNATURE_INVALID = 'The access token signature is invalid';
const ISSUER_MISMATCH = 'The access token was issued by another issuer';
const STEP_UP = 'A different or more recent user authentication is required';

let pki: TestPki;
let asA: AuthorizationServer;
let asB: AuthorizationServer;
let certificate: TestCertificate;
/** Client credentials clients, one at each server, both with `certificate`. */
let serviceA: RegisteredClient;
let serviceB: RegisteredClient;
/** Authorization code clients (a user's tokens), with `certificate`. */
let userClientA: RegisteredClient;
let userClientB: RegisteredClient;
let opaqueUserClientA: RegisteredClient;
let api: Api;
let introspectingApi: Api;
const started: Api[] = [];

interface Api {
  url: string;
  close(): Promise<void>;
}

/** An Express API over mTLS on `verifier`, with the routes every test here calls. */
async function serve(verifier: Verifier): Promise<Api> {
  const app = express();
  app.use(certbound(verifier));
  const echo = (req: express.Request, res: express.Response) => {
    res.json({
      issuer: req.auth?.issuer,
      clientId: req.auth?.clientId,
      acr: req.auth?.claims['acr'],
      authTime: req.auth?.claims['auth_time'],
    });
  };
  app.get('/me', echo);
  app.get('/strong', requireAuthContext({ acr: [ACR.mfa, ACR.hardwareKey] }), echo);
  app.get('/recent', requireAuthContext({ maxAgeSeconds: MAX_AGE }), echo);
  app.post('/payments', requireAuthContext({ acr: [ACR.mfa], maxAgeSeconds: MAX_AGE }), (req, res) => {
    res.status(201);
    echo(req, res);
  });
  app.use(errorHandler());
  const running = await startHttpsApp(app, pki);
  const served = {
    url: running.url,
    close: async () => {
      await running.close();
      await verifier.close();
    },
  };
  started.push(served);
  return served;
}

/** A new API accepting both servers' tokens: nothing discovered, no key cached yet. */
function startMultiIssuerApi(): Promise<Api> {
  return serve(
    createVerifier({
      issuers: [{ issuer: asA.issuer }, { issuer: asB.issuer, jwksUri: `${asB.issuer}/jwks` }],
      audience: RESOURCE,
      realm: REALM,
      tls: { ca: pki.ca.cert },
    }),
  );
}

beforeAll(async () => {
  pki = await createTestPki();
  const acrValues = Object.values(ACR);
  [asA, asB, certificate] = await Promise.all([
    startAuthorizationServer({ pki, resource: RESOURCE, acrValues }),
    startAuthorizationServer({ pki, resource: RESOURCE, acrValues }),
    pki.issueClient({ subject: 'CN=payments-client, O=certbound' }),
  ]);
  [serviceA, serviceB, userClientA, userClientB, opaqueUserClientA] = await Promise.all([
    asA.registerMtlsClient(certificate, { clientId: 'service-a' }),
    asB.registerMtlsClient(certificate, { clientId: 'service-b' }),
    asA.registerMtlsClient(certificate, { clientId: 'web-a', grantType: 'authorization_code' }),
    asB.registerMtlsClient(certificate, { clientId: 'web-b', grantType: 'authorization_code' }),
    asA.registerMtlsClient(certificate, {
      clientId: 'web-a-opaque',
      grantType: 'authorization_code',
      accessTokenFormat: 'opaque',
    }),
  ]);
  api = await startMultiIssuerApi();
  // Introspection stays single-issuer: an opaque token does not say who issued it.
  introspectingApi = await serve(
    createVerifier({
      issuer: asA.issuer,
      audience: RESOURCE,
      realm: REALM,
      tls: { ca: pki.ca.cert },
      introspection: { ...asA.introspectionClient },
    }),
  );
});

afterAll(async () => {
  await Promise.all(started.map((served) => served.close()));
  await Promise.all([asA?.close(), asB?.close()]);
});

const call = (target: Api, token: string, path = '/me', method = 'GET') =>
  httpsRequest(`${target.url}${path}`, {
    method,
    ca: pki.ca.cert,
    certificate,
    headers: { authorization: `Bearer ${token}` },
  });

const snapshot = (as: AuthorizationServer) => ({ ...as.counters });

const ES256 = (as: AuthorizationServer): JWK => as.signingKeys.find((key) => key.alg === 'ES256')!;

/** `token` with its payload changed by `change` and signed again with `key` under `header`. */
async function resign(
  token: string,
  change: Record<string, unknown>,
  key: JWK,
  header: { kid?: string },
): Promise<string> {
  const payload = { ...decodeJwt(token), ...change };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...header })
    .sign(await importJWK(key, 'ES256'));
}

describe('two oidc-provider instances as the issuers of one API', () => {
  it("accepts each server's certificate-bound tokens and names the issuer that accepted them", async () => {
    const [fromA, fromB] = await Promise.all([asA.issueToken(serviceA), asB.issueToken(serviceB)]);
    // Two servers, two sets of keys: A's signing key is not in B's JWK Set.
    expect(decodeProtectedHeader(fromA).kid).toBe(ES256(asA).kid);
    expect(decodeProtectedHeader(fromB).kid).toBe(ES256(asB).kid);
    expect(ES256(asA).kid).not.toBe(ES256(asB).kid);
    expect(decodeJwt(fromB)).toMatchObject({ iss: asB.issuer, cnf: { 'x5t#S256': certificate.thumbprint } });

    const [responseA, responseB] = await Promise.all([call(api, fromA), call(api, fromB)]);
    expect([responseA.status, responseA.json]).toEqual([200, { issuer: asA.issuer, clientId: 'service-a' }]);
    expect([responseB.status, responseB.json]).toEqual([200, { issuer: asB.issuer, clientId: 'service-b' }]);
  });

  it.each<[string, () => { kid?: string }]>([
    ["A's kid, which B's JWK Set does not have", () => ({ kid: ES256(asA).kid })],
    ["the kid of B's ES256 key", () => ({ kid: ES256(asB).kid })],
    ['no kid (every ES256 key of B is tried)', () => ({})],
  ])(
    "refuses a token claiming B but signed with A's key, with %s: token_signature_invalid, from B's keys only",
    async (_kid, header) => {
      const forged = await resign(await asA.issueToken(serviceA), { iss: asB.issuer }, ES256(asA), header());
      const fresh = await startMultiIssuerApi();
      const [beforeA, beforeB] = [snapshot(asA), snapshot(asB)];

      const response = await call(fresh, forged);

      expect(response.status).toBe(401);
      expect(response.json).toEqual({
        error: 'invalid_token',
        error_description: SIGNATURE_INVALID,
        code: 'token_signature_invalid',
      });
      expect(response.headers['www-authenticate']).toBe(
        challenges({ error: 'invalid_token', description: SIGNATURE_INVALID }),
      );
      // B's JWK Set was fetched (once, by its configured jwks_uri); A was never asked.
      expect(snapshot(asA)).toEqual(beforeA);
      expect(snapshot(asB)).toEqual({ ...beforeB, jwks: beforeB.jwks + 1 });
    },
  );

  it('refuses a token of an unknown issuer without asking either server: token_issuer_mismatch', async () => {
    const stranger = await resign(
      await asA.issueToken(serviceA),
      { iss: 'https://as.unknown.example' },
      ES256(asA),
      { kid: ES256(asA).kid },
    );
    const fresh = await startMultiIssuerApi();
    const [beforeA, beforeB] = [snapshot(asA), snapshot(asB)];

    const response = await call(fresh, stranger);

    expect(response.status).toBe(401);
    expect(response.json).toEqual({
      error: 'invalid_token',
      error_description: ISSUER_MISMATCH,
      code: 'token_issuer_mismatch',
    });
    expect(response.headers['www-authenticate']).toBe(
      challenges({ error: 'invalid_token', description: ISSUER_MISMATCH }),
    );
    expect([snapshot(asA), snapshot(asB)]).toEqual([beforeA, beforeB]);
  });

  it.each<[string, AuthorizationServerOutage]>([
    ['B is down (every connection reset)', 'down'],
    ["B's JWK Set answers HTTP 500", 'jwks'],
  ])(
    "answers 503 to B's tokens while %s, 200 to A's, and accepts B's again once B is back",
    async (_outage, mode) => {
      const [fromA, fromB] = await Promise.all([asA.issueToken(serviceA), asB.issueToken(serviceB)]);
      // A new API: it holds none of B's keys, so it must fetch B's JWK Set for B's token.
      const fresh = await startMultiIssuerApi();
      asB.outage(mode);
      let duringB: Awaited<ReturnType<typeof call>>;
      let duringA: Awaited<ReturnType<typeof call>>;
      try {
        duringB = await call(fresh, fromB);
        duringA = await call(fresh, fromA);
      } finally {
        asB.outage('none');
      }
      const afterB = await call(fresh, fromB);

      expect(duringB.status).toBe(503);
      expect(duringB.json).toEqual({
        error_description: 'The authorization server is unavailable',
        code: 'authorization_server_unavailable',
      });
      expect(duringB.headers['retry-after']).toBe('5');
      expect(duringB.headers['www-authenticate']).toBeUndefined();
      expect([duringA.status, duringA.json]).toEqual([200, { issuer: asA.issuer, clientId: 'service-a' }]);
      // A failed fetch is not remembered: once B is back, the next request fetches B's keys.
      expect([afterB.status, afterB.json]).toEqual([200, { issuer: asB.issuer, clientId: 'service-b' }]);
    },
  );

  it("keeps accepting new tokens of B while B is down when it already holds B's keys", async () => {
    const [first, second] = [await asB.issueToken(serviceB), await asB.issueToken(serviceB)];
    const fresh = await startMultiIssuerApi();
    expect((await call(fresh, first)).status).toBe(200);
    asB.outage('down');
    try {
      const response = await call(fresh, second);
      expect([response.status, response.json]).toEqual([200, { issuer: asB.issuer, clientId: 'service-b' }]);
    } finally {
      asB.outage('none');
    }
  });
});

describe("step-up (RFC 9470) with the acr and auth_time of a user's login at oidc-provider", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const userToken = async (as: AuthorizationServer, client: RegisteredClient, login: UserLogin) => {
    const response = await as.authorizeUser(client, login);
    return response['access_token'] as string;
  };
  const refusal = (extra: { acrValues?: string; maxAge?: number }) => ({
    status: 401,
    json: {
      error: 'insufficient_user_authentication',
      error_description: STEP_UP,
      code: 'insufficient_user_authentication',
    },
    challenge: challenges({ error: 'insufficient_user_authentication', description: STEP_UP, ...extra }),
  });
  const outcome = (response: Awaited<ReturnType<typeof call>>) => ({
    status: response.status,
    json: response.json,
    challenge: response.headers['www-authenticate'],
  });

  it("puts the login's acr and auth_time in the certificate-bound access token", async () => {
    const authTime = now() - 60;
    const response = await asA.authorizeUser(userClientA, { acr: ACR.mfa, authTime });
    expect(response).toMatchObject({ token_type: 'Bearer', scope: 'read write' });
    expect(decodeJwt(response['access_token'] as string)).toMatchObject({
      iss: asA.issuer,
      aud: RESOURCE,
      sub: 'user-1',
      client_id: 'web-a',
      acr: ACR.mfa,
      auth_time: authTime,
      cnf: { 'x5t#S256': certificate.thumbprint },
    });
  });

  it('lets a recent multi-factor login through, from either server', async () => {
    const authTime = now() - 60;
    const [fromA, fromB] = await Promise.all([
      userToken(asA, userClientA, { acr: ACR.mfa, authTime }),
      userToken(asB, userClientB, { acr: ACR.mfa, authTime }),
    ]);
    const [responseA, responseB] = await Promise.all([
      call(api, fromA, '/payments', 'POST'),
      call(api, fromB, '/payments', 'POST'),
    ]);
    expect([responseA.status, responseA.json]).toEqual([
      201,
      { issuer: asA.issuer, clientId: 'web-a', acr: ACR.mfa, authTime },
    ]);
    expect([responseB.status, responseB.json]).toEqual([
      201,
      { issuer: asB.issuer, clientId: 'web-b', acr: ACR.mfa, authTime },
    ]);
  });

  it('asks for another kind of login after a password login: acr_values', async () => {
    const token = await userToken(asB, userClientB, { acr: ACR.password, authTime: now() - 60 });
    expect(outcome(await call(api, token, '/strong'))).toEqual(
      refusal({ acrValues: `${ACR.mfa} ${ACR.hardwareKey}` }),
    );
    // The same token is good enough where only a recent login counts.
    expect((await call(api, token, '/recent')).status).toBe(200);
  });

  it('asks for a more recent login after an old one: max_age', async () => {
    const token = await userToken(asA, userClientA, { acr: ACR.mfa, authTime: now() - 3600 });
    expect(outcome(await call(api, token, '/recent'))).toEqual(refusal({ maxAge: MAX_AGE }));
    expect((await call(api, token, '/strong')).status).toBe(200);
  });

  it('names every requirement of the route, whichever one failed', async () => {
    const token = await userToken(asA, userClientA, { acr: ACR.password, authTime: now() - 60 });
    expect(outcome(await call(api, token, '/payments', 'POST'))).toEqual(
      refusal({ acrValues: ACR.mfa, maxAge: MAX_AGE }),
    );
  });

  it('refuses a client credentials token, which has no user login, on a step-up route', async () => {
    const token = await asA.issueToken(serviceA);
    expect(decodeJwt(token)).not.toHaveProperty('acr');
    expect(outcome(await call(api, token, '/payments', 'POST'))).toEqual(
      refusal({ acrValues: ACR.mfa, maxAge: MAX_AGE }),
    );
  });

  it("gets through once the client sends the challenge's acr_values in a new authorization request", async () => {
    const first = await userToken(asA, userClientA, { acr: ACR.password, authTime: now() - 60 });
    const refused = await call(api, first, '/strong');
    expect(refused.status).toBe(401);
    const acrValues = /acr_values="([^"]*)"/.exec(String(refused.headers['www-authenticate']))?.[1];
    expect(acrValues).toBe(`${ACR.mfa} ${ACR.hardwareKey}`);

    const response = await asA.authorizeUser(
      userClientA,
      { acr: ACR.hardwareKey, authTime: now() },
      { acrValues },
    );
    const second = await call(api, response['access_token'] as string, '/strong');
    expect([second.status, (second.json as { acr: string }).acr]).toEqual([200, ACR.hardwareKey]);
  });

  describe('with opaque tokens, from the introspection answer', () => {
    it('introspects acr and auth_time', async () => {
      const authTime = now() - 60;
      const token = await userToken(asA, opaqueUserClientA, { acr: ACR.mfa, authTime });
      expect(token.split('.')).toHaveLength(1);
      expect(await asA.introspect(token)).toMatchObject({ active: true, acr: ACR.mfa, auth_time: authTime });
      const response = await call(introspectingApi, token, '/payments', 'POST');
      expect([response.status, response.json]).toEqual([
        201,
        { issuer: asA.issuer, clientId: 'web-a-opaque', acr: ACR.mfa, authTime },
      ]);
    });

    it.each<[string, { acr: string; ageSeconds: number }, string, { acrValues?: string; maxAge?: number }]>([
      [
        'a password login',
        { acr: ACR.password, ageSeconds: 60 },
        '/strong',
        { acrValues: `${ACR.mfa} ${ACR.hardwareKey}` },
      ],
      ['an old login', { acr: ACR.mfa, ageSeconds: 3600 }, '/recent', { maxAge: MAX_AGE }],
    ])('steps up after %s', async (_what, { acr, ageSeconds }, path, challenge) => {
      const token = await userToken(asA, opaqueUserClientA, { acr, authTime: now() - ageSeconds });
      expect(outcome(await call(introspectingApi, token, path))).toEqual(refusal(challenge));
    });
  });
});
