import {
  type CertboundOptions,
  createVerifier,
  ServiceUnavailableError,
  type Verifier,
} from '@certbound/core';
import {
  createDpopProof,
  createTestIssuer,
  createTestPki,
  type OutageMode,
  type TestCertificate,
  type TestIssuer,
} from '@certbound/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { OTHER_THUMBPRINT } from './support/certificates.js';
import { rfc7638, testKey } from './support/keys.js';
import { NEAR_MISSES, VERIFIER_CNF_MISMATCH } from './support/near-misses.js';
import { failure } from './support/outcomes.js';

let issuer: TestIssuer;
let clientA: TestCertificate;
let lookAlike: TestCertificate;
const verifiers: Verifier[] = [];

function opaqueVerifier(extra: Partial<CertboundOptions> = {}): Verifier {
  const verifier = createVerifier({
    issuer: issuer.issuer,
    audience: issuer.audience,
    tls: { ca: issuer.ca },
    tokenFormat: 'opaque',
    introspection: { ...issuer.introspectionClient, timeoutMs: 500 },
    ...extra,
  });
  verifiers.push(verifier);
  return verifier;
}

beforeAll(async () => {
  const pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  clientA = await pki.issueClient({ subject: 'CN=client-a' });
  lookAlike = await pki.issueClient({ subject: 'CN=client-a' });
});

afterEach(() => {
  issuer.outage('none');
  vi.useRealTimers();
});

afterAll(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  await issuer.close();
});

const call = (verifier: Verifier, token: string, certificate?: TestCertificate) =>
  verifier.verify({ authorization: `Bearer ${token}`, certificate: certificate?.der ?? null });

describe('opaque tokens through introspection', () => {
  it('accepts a bound token with its certificate, and checks the binding again on a cache hit', async () => {
    const verifier = opaqueVerifier();
    const token = issuer.mintOpaqueToken({ certificate: clientA, scope: 'read', subject: 'user-1' });
    const before = issuer.counters.introspection;
    await expect(call(verifier, token, clientA)).resolves.toMatchObject({
      format: 'opaque',
      bound: true,
      subject: 'user-1',
      scopes: ['read'],
      thumbprint: clientA.thumbprint,
    });
    const stolen = await failure(call(verifier, token, lookAlike));
    expect(stolen).toMatchObject({ status: 401, error: 'invalid_token', code: 'cnf_mismatch' });
    expect((await failure(call(verifier, token))).code).toBe('certificate_missing');
    expect(issuer.counters.introspection).toBe(before + 1);
  });

  it('answers 200 concurrent requests carrying one new token with one introspection call', async () => {
    const verifier = opaqueVerifier();
    const token = issuer.mintOpaqueToken({ certificate: clientA });
    const before = issuer.counters.introspection;
    const results = await Promise.all(Array.from({ length: 200 }, () => call(verifier, token, clientA)));
    expect(results.every((auth) => auth.bound)).toBe(true);
    expect(issuer.counters.introspection - before).toBe(1);
  });

  it('refuses unknown and revoked tokens with token_inactive', async () => {
    const verifier = opaqueVerifier();
    expect((await failure(call(verifier, 'no-such-token', clientA))).code).toBe('token_inactive');
    const token = issuer.mintOpaqueToken({ certificate: clientA });
    issuer.revoke(token);
    const error = await failure(call(verifier, token, clientA));
    expect(error).toMatchObject({ status: 401, error: 'invalid_token', code: 'token_inactive' });
    expect(error.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The access token is not active", DPoP realm="api", algs="ES256 ES384 EdDSA PS256 RS256"',
    );
  });

  it('refuses "active": "true" (a string) as inactive', async () => {
    const verifier = opaqueVerifier();
    const token = issuer.mintOpaqueToken({ certificate: clientA, claims: { active: 'true' } });
    expect((await failure(call(verifier, token, clientA))).code).toBe('token_inactive');
  });

  it('refuses an expired response, another issuer, another audience and a DPoP token sent as Bearer', async () => {
    const verifier = opaqueVerifier();
    const cases: [Record<string, unknown>, string][] = [
      [{ exp: Math.floor(Date.now() / 1000) - 60 }, 'token_expired'],
      [{ iss: 'https://evil.example.com' }, 'token_issuer_mismatch'],
      [{ aud: 'https://other.example.com' }, 'token_audience_mismatch'],
      // RFC 9449 §7.2: a DPoP-bound token is never accepted as a bearer token (no downgrade).
      [{ token_type: 'DPoP', cnf: { jkt: OTHER_THUMBPRINT } }, 'dpop_scheme_required'],
      [{ token_type: 'DPoP' }, 'dpop_scheme_required'],
      [{ cnf: { jkt: OTHER_THUMBPRINT } }, 'dpop_scheme_required'],
      [{ token_type: 'DPoP', cnf: { jkt: 'abc' } }, 'cnf_malformed'],
    ];
    for (const [claims, code] of cases) {
      const token = issuer.mintOpaqueToken({ certificate: clientA, claims });
      expect((await failure(call(verifier, token, clientA))).code).toBe(code);
    }
  });

  it('refuses a DPoP token as cnf_unsupported when DPoP is off, with the Bearer challenge alone', async () => {
    const verifier = opaqueVerifier({ dpop: false });
    for (const claims of [{ token_type: 'DPoP' }, { cnf: { jkt: OTHER_THUMBPRINT } }]) {
      const token = issuer.mintOpaqueToken({ certificate: clientA, claims });
      const error = await failure(call(verifier, token, clientA));
      expect(error).toMatchObject({ status: 401, error: 'invalid_token', code: 'cnf_unsupported' });
      expect(error.headers).toEqual({
        'www-authenticate':
          'Bearer realm="api", error="invalid_token", error_description="The access token confirmation method is not supported"',
      });
    }
  });

  it.each(NEAR_MISSES)('refuses an opaque token whose confirmation $name', async (nearMiss) => {
    const verifier = opaqueVerifier();
    const token = issuer.mintOpaqueToken({
      claims: { cnf: { 'x5t#S256': nearMiss.from(clientA.thumbprint) } },
    });
    expect(await failure(call(verifier, token, clientA))).toMatchObject(VERIFIER_CNF_MISMATCH);
    // A cache hit is checked again, the same way.
    expect(await failure(call(verifier, token, clientA))).toMatchObject(VERIFIER_CNF_MISMATCH);
  });

  it.each(['down', 'error', 'slow', 'garbage'] as OutageMode[])(
    'answers 503 (never 401, never cached) while introspection is %s, then recovers',
    async (mode) => {
      const verifier = opaqueVerifier();
      await call(verifier, issuer.mintOpaqueToken({ certificate: clientA }), clientA); // discovery done
      const token = issuer.mintOpaqueToken({ certificate: clientA });
      issuer.outage(mode);
      const error = await failure(call(verifier, token, clientA));
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({
        status: 503,
        error: undefined,
        code: 'authorization_server_unavailable',
      });
      expect(error.headers).toEqual({ 'retry-after': '5' });
      issuer.outage('none');
      // Nothing about the failure is remembered: the very next request introspects and is accepted.
      const before = issuer.counters.introspection;
      await expect(call(verifier, token, clientA)).resolves.toMatchObject({ bound: true });
      expect(issuer.counters.introspection - before).toBe(1);
    },
  );

  it('accepts an introspected DPoP token (token_type DPoP, cnf.jkt) under the DPoP scheme with a proof of its key', async () => {
    const verifier = opaqueVerifier();
    const key = await testKey('ES256');
    const jkt = rfc7638(key.jwk);
    const token = issuer.mintOpaqueToken({ claims: { token_type: 'DPoP', cnf: { jkt } } });
    const url = 'https://api.example.com/accounts';
    const dpop = await createDpopProof({ key, method: 'GET', url, accessToken: token });
    await expect(
      verifier.verify({ authorization: `DPoP ${token}`, dpop, method: 'GET', url }),
    ).resolves.toMatchObject({ format: 'opaque', scheme: 'DPoP', jkt, bound: true });
  });

  it('answers 503 Retry-After 1 at once when introspection.maxConcurrentCalls are in flight', async () => {
    const verifier = opaqueVerifier({
      introspection: { ...issuer.introspectionClient, timeoutMs: 500, maxConcurrentCalls: 1 },
    });
    await call(verifier, issuer.mintOpaqueToken({ certificate: clientA }), clientA); // discovery done
    const slow = issuer.mintOpaqueToken({ certificate: clientA });
    issuer.outage('slow', { token: slow });
    const before = issuer.counters.introspection;
    const pending = failure(call(verifier, slow, clientA));
    await vi.waitFor(() => expect(issuer.counters.introspection).toBe(before + 1));
    const error = await failure(call(verifier, issuer.mintOpaqueToken({ certificate: clientA }), clientA));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ status: 503, error: undefined, code: 'authorization_server_unavailable' });
    expect(error.headers).toEqual({ 'retry-after': '1' });
    expect(issuer.counters.introspection).toBe(before + 1);
    expect((await pending).headers).toEqual({ 'retry-after': '5' });
    issuer.outage('none', { token: slow });
  });

  it('answers 503 when the resource server credentials are refused (introspection 401)', async () => {
    const verifier = opaqueVerifier({
      introspection: { clientId: issuer.introspectionClient.clientId, clientSecret: 'wrong' },
    });
    const error = await failure(call(verifier, issuer.mintOpaqueToken({ certificate: clientA }), clientA));
    expect(error.status).toBe(503);
  });

  it('sends opaque tokens to introspection and JWTs to local validation under tokenFormat auto', async () => {
    const verifier = opaqueVerifier({ tokenFormat: 'auto' });
    const opaque = issuer.mintOpaqueToken({ certificate: clientA });
    const jwt = await issuer.mintAccessToken({ certificate: clientA });
    expect((await call(verifier, opaque, clientA)).format).toBe('opaque');
    const before = issuer.counters.introspection;
    expect((await call(verifier, jwt, clientA)).format).toBe('jwt');
    expect(issuer.counters.introspection).toBe(before);
  });

  it('refuses opaque tokens as malformed when only JWTs are expected', async () => {
    const verifier = createVerifier({ issuer: issuer.issuer, audience: issuer.audience, jwks: issuer.jwks });
    verifiers.push(verifier);
    const error = await failure(call(verifier, issuer.mintOpaqueToken({ certificate: clientA }), clientA));
    expect(error.code).toBe('token_malformed');
  });
});
