import { X509Certificate } from 'node:crypto';
import {
  type CertboundError,
  type CertboundOptions,
  createVerifier,
  ServiceUnavailableError,
  type Verifier,
} from '@certbound/core';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type OutageMode,
  serveHttps,
  type TestCertificate,
  type TestIssuer,
  type TestServer,
} from '@certbound/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { X5T_S256_PATTERN } from '../src/thumbprint.js';
import { NEAR_MISSES, VERIFIER_CNF_MISMATCH } from './support/near-misses.js';
import { failure } from './support/outcomes.js';

let issuer: TestIssuer;
let clientA: TestCertificate;
const verifiers: Verifier[] = [];

function verifierFor(extra: Partial<CertboundOptions> = {}): Verifier {
  const verifier = createVerifier({
    issuer: issuer.issuer,
    audience: issuer.audience,
    tls: { ca: issuer.ca },
    timeoutMs: 500,
    ...extra,
  });
  verifiers.push(verifier);
  return verifier;
}

beforeAll(async () => {
  const pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  clientA = await pki.issueClient({ subject: 'CN=client-a' });
});

afterEach(() => {
  issuer.outage('none');
  vi.useRealTimers();
});

afterAll(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  await issuer.close();
});

describe('verifier.verify', () => {
  it('accepts the certificate as PEM, DER or X509Certificate', async () => {
    const verifier = verifierFor();
    const token = await issuer.mintAccessToken({ certificate: clientA, scope: 'read' });
    for (const certificate of [clientA.cert, clientA.der, new X509Certificate(clientA.der)]) {
      const auth = await verifier.verify({ authorization: `Bearer ${token}`, certificate });
      expect(auth).toMatchObject({
        format: 'jwt',
        bound: true,
        thumbprint: clientA.thumbprint,
        scopes: ['read'],
      });
    }
  });

  it('treats an unparseable certificate as no certificate', async () => {
    const verifier = verifierFor();
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const error = await failure(
      verifier.verify({ authorization: `Bearer ${token}`, certificate: Buffer.from('junk') }),
    );
    expect(error.code).toBe('certificate_missing');
  });

  it('returns every field of AuthInfo', async () => {
    const verifier = verifierFor();
    const token = await issuer.mintAccessToken({
      certificate: clientA,
      scope: 'a b',
      clientId: 'app',
      subject: 'user-1',
    });
    const auth = await verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der });
    expect(auth.token).toBe(token);
    expect(auth.subject).toBe('user-1');
    expect(auth.clientId).toBe('app');
    expect(auth.scopes).toEqual(['a', 'b']);
    expect(auth.expiresAt).toBeInstanceOf(Date);
    expect(auth.expiresAt!.getTime()).toBe((auth.claims.exp as number) * 1000);
    expect(auth.claims.iss).toBe(issuer.issuer);
  });

  it('never accepts a token without exp, even when requiredClaims leaves it out', async () => {
    const verifier = verifierFor({ requiredClaims: ['iss'] });
    const token = await issuer.mintAccessToken({ certificate: clientA, claims: { exp: undefined } });
    const error = await failure(
      verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der }),
    );
    expect(error.code).toBe('token_claims_missing');
  });

  it('gives each request its own scopes array and deeply frozen shared claims', async () => {
    const verifier = verifierFor();
    const token = await issuer.mintAccessToken({
      certificate: clientA,
      scope: 'b a',
      claims: { roles: ['user'] },
    });
    const first = await verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der });
    first.scopes.sort();
    first.scopes.push('admin');
    expect(() => (first.claims.roles as string[]).push('admin')).toThrow(TypeError);
    const second = await verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der });
    expect(second.scopes).toEqual(['b', 'a']);
    expect(second.claims.roles).toEqual(['user']);
  });

  it('rejects duplicate Authorization values given as an array', async () => {
    const verifier = verifierFor();
    const error = await failure(verifier.verify({ authorization: ['Bearer a', 'Bearer b'] }));
    expect(error).toMatchObject({ status: 400, error: 'invalid_request', code: 'invalid_request' });
  });

  it('re-checks expiry on every request, even when the validation is cached', async () => {
    const verifier = verifierFor();
    const token = await issuer.mintAccessToken({ certificate: clientA, expiresIn: 60 });
    await verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der });
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 66_000 });
    const error = await failure(
      verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der }),
    );
    expect(error).toMatchObject({ status: 401, error: 'invalid_token', code: 'token_expired' });
  });

  it('checks the binding on every request, even when the validation is cached', async () => {
    const pki = issuer.pki;
    const lookAlike = await pki.issueClient({ subject: 'CN=client-a' });
    const verifier = verifierFor();
    const token = await issuer.mintAccessToken({ certificate: clientA });
    await verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der });
    const error = await failure(
      verifier.verify({ authorization: `Bearer ${token}`, certificate: lookAlike.der }),
    );
    expect(error.code).toBe('cnf_mismatch');
  });
});

describe('a token bound to a certificate close to the presented one', () => {
  /** A token bound to `confirmation` instead of the presented certificate. */
  const boundTo = (confirmation: string) =>
    issuer.mintAccessToken({ claims: { cnf: { 'x5t#S256': confirmation } } });

  it.each(NEAR_MISSES)('refuses a token whose confirmation $name', async (nearMiss) => {
    const verifier = verifierFor({ jwks: issuer.jwks, tls: undefined });
    const confirmation = nearMiss.from(clientA.thumbprint);
    expect(confirmation).toMatch(X5T_S256_PATTERN);
    expect(confirmation).not.toBe(clientA.thumbprint);
    const token = await boundTo(confirmation);
    for (const certificate of [clientA.der, clientA.cert, new X509Certificate(clientA.der)]) {
      const error = await failure(verifier.verify({ authorization: `Bearer ${token}`, certificate }));
      expect(error).toMatchObject(VERIFIER_CNF_MISMATCH);
    }
  });

  it.each(NEAR_MISSES)(
    'refuses a token whose confirmation $name, also under binding if-present',
    async (nearMiss) => {
      const verifier = verifierFor({ jwks: issuer.jwks, tls: undefined, binding: 'if-present' });
      const token = await boundTo(nearMiss.from(clientA.thumbprint));
      const error = await failure(
        verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der }),
      );
      expect(error).toMatchObject(VERIFIER_CNF_MISMATCH);
    },
  );

  describe('over a real mTLS connection', () => {
    let api: TestServer;

    beforeAll(async () => {
      const verifier = verifierFor({ jwks: issuer.jwks, tls: undefined });
      api = await serveHttps(
        (req, res) => {
          verifier.authenticate(req).then(
            (auth) =>
              res
                .writeHead(200, { 'content-type': 'application/json' })
                .end(JSON.stringify({ bound: auth.bound, thumbprint: auth.thumbprint })),
            (error: CertboundError) =>
              res
                .writeHead(error.status, { 'content-type': 'application/json', ...error.headers })
                .end(JSON.stringify(error.toJSON())),
          );
        },
        { pki: issuer.pki },
      );
    });

    afterAll(() => api.close());

    const call = (token: string) =>
      httpsRequest(`${api.url}/`, {
        ca: issuer.pki.ca.cert,
        certificate: clientA,
        headers: { authorization: `Bearer ${token}` },
      });

    it('accepts the token bound to the exact thumbprint of the certificate presented', async () => {
      const response = await call(await boundTo(clientA.thumbprint));
      expect({ status: response.status, json: response.json }).toEqual({
        status: 200,
        json: { bound: true, thumbprint: clientA.thumbprint },
      });
    });

    it.each(NEAR_MISSES)('answers 401 cnf_mismatch to a token whose confirmation $name', async (nearMiss) => {
      const response = await call(await boundTo(nearMiss.from(clientA.thumbprint)));
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe(VERIFIER_CNF_MISMATCH.headers['www-authenticate']);
      expect(response.json).toEqual({
        error: 'invalid_token',
        error_description: VERIFIER_CNF_MISMATCH.description,
        code: 'cnf_mismatch',
      });
    });
  });
});

describe('when the authorization server misbehaves', () => {
  it.each(['down', 'error', 'slow', 'garbage'] as OutageMode[])(
    'answers 503 with Retry-After while discovery is %s, then recovers by itself',
    async (mode) => {
      const verifier = verifierFor();
      const token = await issuer.mintAccessToken({ certificate: clientA });
      issuer.outage(mode);
      const error = await failure(
        verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der }),
      );
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({
        status: 503,
        error: undefined,
        code: 'authorization_server_unavailable',
      });
      expect(error.headers).toEqual({ 'retry-after': '5' });
      issuer.outage('none');
      // Nothing about the failure is remembered: the very next request discovers and is accepted.
      const before = issuer.counters.discovery;
      const auth = await verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der });
      expect(auth.bound).toBe(true);
      expect(issuer.counters.discovery - before).toBe(1);
    },
  );

  it.each(['down', 'error', 'slow', 'garbage'] as OutageMode[])(
    'answers 503 while the JWK Set is %s, then recovers by itself',
    async (mode) => {
      const verifier = verifierFor({ jwksUri: issuer.jwksUri });
      const token = await issuer.mintAccessToken({ certificate: clientA });
      issuer.outage(mode);
      const error = await failure(
        verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der }),
      );
      expect(error).toMatchObject({ status: 503, code: 'authorization_server_unavailable' });
      issuer.outage('none');
      // Nothing about the failure is remembered: the very next request fetches the set and is accepted.
      const before = issuer.counters.jwks;
      const auth = await verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der });
      expect(auth.bound).toBe(true);
      expect(issuer.counters.jwks - before).toBe(1);
    },
  );

  it('asks the issuer again on every request during an outage, and accepts the first one after it', async () => {
    // The clock stands still: no failure is remembered, so none needs time to be forgotten.
    vi.useFakeTimers({ toFake: ['Date'] });
    const verifier = verifierFor();
    const token = await issuer.mintAccessToken({ certificate: clientA });
    issuer.outage('error');
    const before = issuer.counters.discovery;
    for (let i = 0; i < 20; i++) {
      const error = await failure(
        verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der }),
      );
      expect(error).toMatchObject({ status: 503, code: 'authorization_server_unavailable' });
    }
    // Each request tried both well-known locations.
    expect(issuer.counters.discovery - before).toBe(40);
    issuer.outage('none');
    await expect(
      verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der }),
    ).resolves.toMatchObject({ bound: true });
    expect(issuer.counters.discovery - before).toBe(41);
  });

  it('keeps verifying with the keys it has while the JWK Set cannot be refreshed', async () => {
    const verifier = verifierFor({ jwksUri: issuer.jwksUri });
    const token = await issuer.mintAccessToken({ certificate: clientA, expiresIn: 3600 });
    await verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der });
    issuer.outage('down');
    // Past the JWK Set's 5-minute max age, within its hour of stale-if-error: a refresh is due and fails.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 11 * 60_000 });
    const fresh = await issuer.mintAccessToken({ certificate: clientA, expiresIn: 3600 });
    await expect(
      verifier.verify({ authorization: `Bearer ${fresh}`, certificate: clientA.der }),
    ).resolves.toMatchObject({ bound: true });
  });

  it('tries every key that matches a header without kid (a rotation)', async () => {
    const rotating = await createTestIssuer({ pki: issuer.pki, algorithms: ['ES256', 'ES256'] });
    const verifier = verifierFor({
      issuer: rotating.issuer,
      audience: rotating.audience,
      jwksUri: rotating.jwksUri,
      tls: { ca: rotating.ca },
    });
    try {
      const token = await rotating.mintAccessToken({ certificate: clientA, header: { kid: undefined } });
      await expect(
        verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der }),
      ).resolves.toMatchObject({ bound: true });
    } finally {
      await rotating.close();
    }
  });

  it('answers 503 when the discovered metadata names another issuer', async () => {
    const verifier = verifierFor({ issuer: `${issuer.issuer}/tenant` });
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const error = await failure(
      verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der }),
    );
    expect(error.status).toBe(503);
  });

  it('does not refetch the JWK Set for unknown kids within the cooldown', async () => {
    const verifier = verifierFor({ jwksUri: issuer.jwksUri });
    const good = await issuer.mintAccessToken({ certificate: clientA });
    await verifier.verify({ authorization: `Bearer ${good}`, certificate: clientA.der });
    const before = issuer.counters.jwks;
    for (let i = 0; i < 5; i++) {
      const token = await issuer.mintAccessToken({ certificate: clientA, header: { kid: `unknown-${i}` } });
      const error = await failure(
        verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der }),
      );
      expect(error.code).toBe('token_signature_invalid');
    }
    expect(issuer.counters.jwks).toBe(before);
  });
});

describe('createVerifier', () => {
  it('uses a local JWK Set without any network', async () => {
    const verifier = verifierFor({ jwks: issuer.jwks, tls: undefined });
    issuer.outage('down');
    const token = await issuer.mintAccessToken({ certificate: clientA });
    await expect(
      verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der }),
    ).resolves.toMatchObject({
      bound: true,
    });
  });

  it('closes without error, twice', async () => {
    const verifier = createVerifier({ issuer: issuer.issuer, audience: 'x' });
    await verifier.close();
    await expect(verifier.close()).resolves.toBeUndefined();
  });
});
