import { X509Certificate } from 'node:crypto';
import {
  type CertboundError,
  type CertboundOptions,
  createVerifier,
  ServiceUnavailableError,
  type Verifier,
} from '@certbound/core';
import {
  createDpopProof,
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
import { rfc7638, type TestKey, testKey } from './support/keys.js';
import { NEAR_MISSES, VERIFIER_CNF_MISMATCH } from './support/near-misses.js';
import { failure } from './support/outcomes.js';

let issuer: TestIssuer;
let clientA: TestCertificate;
let alice: TestKey;
let mallory: TestKey;
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
  [alice, mallory] = await Promise.all([testKey('ES256'), testKey('ES256')]);
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

const ALGS = 'algs="ES256 ES384 EdDSA PS256 RS256"';
const API = 'https://api.example.com/accounts';

/** The DPoP scheme's inputs for `token`: a proof by `key` for `method API` (what `proof` overrides aside). */
async function dpopInput(
  token: string,
  key: TestKey,
  proof: { method?: string; url?: string; nonce?: string } = {},
): Promise<{ authorization: string; dpop: string; method: string; url: string }> {
  const dpop = await createDpopProof({
    key,
    method: proof.method ?? 'GET',
    url: proof.url ?? `${API}?page=2`,
    accessToken: token,
    nonce: proof.nonce,
  });
  return { authorization: `DPoP ${token}`, dpop, method: 'GET', url: `${API}?page=2` };
}

/** The whole refusal: status, error, code, description and headers. */
function refusal(
  status: number,
  error: string | undefined,
  code: string,
  description: string,
  headers: Record<string, string>,
) {
  return { status, error, code, description, headers };
}

describe('verifier.verify with the DPoP scheme', () => {
  const local = () => verifierFor({ jwks: issuer.jwks, tls: undefined });

  it('accepts a DPoP-bound token with a proof of its key, and says so in AuthInfo', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice, scope: 'read' });
    const auth = await local().verify(await dpopInput(token, alice));
    expect(auth).toMatchObject({
      token,
      format: 'jwt',
      scheme: 'DPoP',
      jkt: rfc7638(alice.jwk),
      bound: true,
      thumbprint: undefined,
      scopes: ['read'],
      responseHeaders: { 'cache-control': 'no-store' },
    });
  });

  it('accepts a token bound to both the certificate and the key with both proofs', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice, certificate: clientA });
    const auth = await local().verify({ ...(await dpopInput(token, alice)), certificate: clientA.der });
    expect(auth).toMatchObject({
      scheme: 'DPoP',
      jkt: rfc7638(alice.jwk),
      bound: true,
      thumbprint: clientA.thumbprint,
    });
  });

  it('refuses the DPoP scheme without a proof: dpop_proof_missing on the DPoP challenge', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const error = await failure(local().verify({ authorization: `DPoP ${token}`, method: 'GET', url: API }));
    expect(error).toMatchObject(
      refusal(401, 'invalid_dpop_proof', 'dpop_proof_missing', 'A DPoP proof is required', {
        'www-authenticate': `DPoP realm="api", error="invalid_dpop_proof", error_description="A DPoP proof is required", ${ALGS}, Bearer realm="api"`,
      }),
    );
    expect(error.scheme).toBe('DPoP');
  });

  it.each([
    ['for another method', { method: 'POST' }],
    ['for another URL', { url: 'https://api.example.com/transfers' }],
    ['for another origin', { url: 'https://evil.example.com/accounts' }],
  ])('refuses a proof %s: dpop_proof_invalid', async (_name, proof) => {
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const error = await failure(local().verify(await dpopInput(token, alice, proof)));
    expect(error).toMatchObject(
      refusal(401, 'invalid_dpop_proof', 'dpop_proof_invalid', 'The DPoP proof is invalid', {
        'www-authenticate': `DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof is invalid", ${ALGS}, Bearer realm="api"`,
      }),
    );
  });

  it('refuses two DPoP lines, and a request whose URL is not given or not absolute', async () => {
    const verifier = local();
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const input = await dpopInput(token, alice);
    expect((await failure(verifier.verify({ ...input, dpop: [input.dpop, input.dpop] }))).code).toBe(
      'dpop_proof_invalid',
    );
    expect((await failure(verifier.verify({ ...input, url: undefined }))).code).toBe('dpop_proof_invalid');
    expect((await failure(verifier.verify({ ...input, url: '/accounts' }))).code).toBe('dpop_proof_invalid');
  });

  it('refuses a proof used twice: dpop_proof_replayed', async () => {
    const verifier = local();
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const input = await dpopInput(token, alice);
    await verifier.verify(input);
    const error = await failure(verifier.verify(input));
    expect(error).toMatchObject(
      refusal(401, 'invalid_dpop_proof', 'dpop_proof_replayed', 'The DPoP proof was already used', {
        'www-authenticate': `DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof was already used", ${ALGS}, Bearer realm="api"`,
      }),
    );
  });

  it('spends a proof only on a request that passed every other check', async () => {
    const verifier = local();
    const token = await issuer.mintAccessToken({ dpopKey: alice, certificate: clientA });
    const input = await dpopInput(token, alice);
    expect((await failure(verifier.verify(input))).code).toBe('certificate_missing');
    await expect(verifier.verify({ ...input, certificate: clientA.der })).resolves.toMatchObject({
      bound: true,
    });
    expect((await failure(verifier.verify({ ...input, certificate: clientA.der }))).code).toBe(
      'dpop_proof_replayed',
    );
  });

  it('asks for a nonce with dpop_nonce_required and DPoP-Nonce, then accepts it and hands it out again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const verifier = verifierFor({
      jwks: issuer.jwks,
      tls: undefined,
      dpop: { nonce: { secret: 'n'.repeat(32) } },
    });
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const error = await failure(verifier.verify(await dpopInput(token, alice)));
    const nonce = error.headers['dpop-nonce']!;
    expect(nonce).toMatch(/^[0-9a-z]{1,12}\.[A-Za-z0-9_-]{43}$/);
    expect(error).toMatchObject(
      refusal(
        401,
        'use_dpop_nonce',
        'dpop_nonce_required',
        'The DPoP proof must carry the nonce the resource server provided',
        {
          'www-authenticate': `DPoP realm="api", error="use_dpop_nonce", error_description="The DPoP proof must carry the nonce the resource server provided", ${ALGS}, Bearer realm="api"`,
          'dpop-nonce': nonce,
        },
      ),
    );
    const auth = await verifier.verify(await dpopInput(token, alice, { nonce }));
    expect(auth.responseHeaders).toEqual({ 'cache-control': 'no-store', 'dpop-nonce': nonce });
  });

  it('refuses a token bound to another key than the proof’s: dpop_key_mismatch', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const error = await failure(local().verify(await dpopInput(token, mallory)));
    expect(error).toMatchObject(
      refusal(
        401,
        'invalid_token',
        'dpop_key_mismatch',
        'The access token is not bound to the DPoP proof key',
        {
          'www-authenticate': `DPoP realm="api", error="invalid_token", error_description="The access token is not bound to the DPoP proof key", ${ALGS}, Bearer realm="api"`,
        },
      ),
    );
  });

  it('refuses a certificate-bound or unbound token under the DPoP scheme: dpop_key_mismatch', async () => {
    const verifier = verifierFor({ jwks: issuer.jwks, tls: undefined, binding: 'if-present' });
    for (const token of [
      await issuer.mintAccessToken({ certificate: clientA }),
      await issuer.mintAccessToken(),
    ]) {
      const error = await failure(
        verifier.verify({ ...(await dpopInput(token, alice)), certificate: clientA.der }),
      );
      expect(error.code).toBe('dpop_key_mismatch');
    }
  });

  it('refuses a DPoP-bound token sent as Bearer: dpop_scheme_required on the DPoP challenge (no downgrade)', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const error = await failure(local().verify({ authorization: `Bearer ${token}` }));
    expect(error).toMatchObject(
      refusal(
        401,
        'invalid_token',
        'dpop_scheme_required',
        'The access token is DPoP-bound and must be sent with the DPoP scheme',
        {
          'www-authenticate': `DPoP realm="api", error="invalid_token", error_description="The access token is DPoP-bound and must be sent with the DPoP scheme", ${ALGS}, Bearer realm="api"`,
        },
      ),
    );
    expect(error.scheme).toBe('Bearer');
  });

  it('offers both schemes to a request without credentials', async () => {
    const error = await failure(local().verify({}));
    expect(error).toMatchObject(
      refusal(401, undefined, 'credentials_missing', 'Authentication required', {
        'www-authenticate': `Bearer realm="api", DPoP realm="api", ${ALGS}`,
      }),
    );
  });

  it('with dpop: false, reads no DPoP credentials, offers Bearer alone and fails closed on a DPoP-bound token', async () => {
    const verifier = verifierFor({ jwks: issuer.jwks, tls: undefined, dpop: false });
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const missing = await failure(verifier.verify(await dpopInput(token, alice)));
    expect(missing).toMatchObject(
      refusal(401, undefined, 'credentials_missing', 'Authentication required', {
        'www-authenticate': 'Bearer realm="api"',
      }),
    );
    const unsupported = await failure(verifier.verify({ authorization: `Bearer ${token}` }));
    expect(unsupported).toMatchObject(
      refusal(
        401,
        'invalid_token',
        'cnf_unsupported',
        'The access token confirmation method is not supported',
        {
          'www-authenticate':
            'Bearer realm="api", error="invalid_token", error_description="The access token confirmation method is not supported"',
        },
      ),
    );
  });

  it('with dpop.required, offers DPoP alone and refuses a certificate-bound token sent as Bearer', async () => {
    const verifier = verifierFor({ jwks: issuer.jwks, tls: undefined, dpop: { required: true } });
    const bound = await issuer.mintAccessToken({ certificate: clientA });
    const error = await failure(
      verifier.verify({ authorization: `Bearer ${bound}`, certificate: clientA.der }),
    );
    expect(error).toMatchObject(
      refusal(401, 'invalid_token', 'token_unbound', 'A DPoP-bound access token is required', {
        'www-authenticate': `DPoP realm="api", error="invalid_token", error_description="A DPoP-bound access token is required", ${ALGS}`,
      }),
    );
    expect((await failure(verifier.verify({}))).headers).toEqual({
      'www-authenticate': `DPoP realm="api", ${ALGS}`,
    });
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    await expect(verifier.verify(await dpopInput(token, alice))).resolves.toMatchObject({
      scheme: 'DPoP',
      bound: true,
    });
  });
});

describe('verifier.refreshKeys', () => {
  it('does nothing with a local JWK Set: no network, and verification goes on', async () => {
    const verifier = verifierFor({ jwks: issuer.jwks, tls: undefined });
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const before = { ...issuer.counters };
    await expect(verifier.refreshKeys()).resolves.toBeUndefined();
    await expect(
      verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der }),
    ).resolves.toMatchObject({
      bound: true,
    });
    expect(issuer.counters).toEqual(before);
  });

  it('does nothing with an HMAC secret', async () => {
    const secret = 's'.repeat(32);
    const verifier = verifierFor({ algorithms: ['HS256'], secret, tls: undefined });
    const before = { ...issuer.counters };
    await expect(verifier.refreshKeys()).resolves.toBeUndefined();
    expect(issuer.counters).toEqual(before);
  });

  it('fetches the remote JWK Set now, and a key gone from it stops verifying at once, memoized tokens included', async () => {
    const rotating = await createTestIssuer({ pki: issuer.pki, algorithms: ['ES256', 'ES256'] });
    try {
      const verifier = verifierFor({
        issuer: rotating.issuer,
        audience: rotating.audience,
        jwksUri: rotating.jwksUri,
        tls: { ca: rotating.ca },
      });
      const token = await rotating.mintAccessToken({ certificate: clientA });
      await verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der });
      const fetches = rotating.counters.jwks;
      rotating.removeKey(rotating.jwks.keys[0]!.kid!);
      await verifier.refreshKeys();
      expect(rotating.counters.jwks).toBe(fetches + 1);
      const error = await failure(
        verifier.verify({ authorization: `Bearer ${token}`, certificate: clientA.der }),
      );
      expect(error).toMatchObject({ status: 401, code: 'token_signature_invalid' });
    } finally {
      await rotating.close();
    }
  });
});

describe('verifier.authenticate with the DPoP scheme over a real connection', () => {
  let api: TestServer;

  beforeAll(async () => {
    const verifier = verifierFor({ jwks: issuer.jwks, tls: undefined });
    api = await serveHttps(
      (req, res) => {
        verifier.authenticate(req).then(
          (auth) =>
            res
              .writeHead(200, { 'content-type': 'application/json', ...auth.responseHeaders })
              .end(JSON.stringify({ scheme: auth.scheme, jkt: auth.jkt, bound: auth.bound })),
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

  it('accepts a proof naming the URL the request was sent to (TLS, Host, path; the query ignored)', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const url = `${api.url}/accounts?page=2`;
    const dpop = await createDpopProof({ key: alice, method: 'POST', url, accessToken: token });
    const response = await httpsRequest(url, {
      method: 'POST',
      ca: issuer.pki.ca.cert,
      headers: { authorization: `DPoP ${token}`, dpop },
    });
    expect({
      status: response.status,
      json: response.json,
      cacheControl: response.headers['cache-control'],
    }).toEqual({
      status: 200,
      json: { scheme: 'DPoP', jkt: rfc7638(alice.jwk), bound: true },
      cacheControl: 'no-store',
    });
  });

  it('refuses a proof naming another origin, and two DPoP lines, as dpop_proof_invalid', async () => {
    const token = await issuer.mintAccessToken({ dpopKey: alice });
    const port = new URL(api.url).port;
    const elsewhere = await createDpopProof({
      key: alice,
      method: 'GET',
      url: `https://localhost:${port}/accounts`,
      accessToken: token,
    });
    const proof = await createDpopProof({
      key: alice,
      method: 'GET',
      url: `${api.url}/accounts`,
      accessToken: token,
    });
    const cases = [
      { headers: { authorization: `DPoP ${token}`, dpop: elsewhere } },
      { rawHeaders: ['Authorization', `DPoP ${token}`, 'DPoP', proof, 'DPoP', proof] },
    ];
    for (const request of cases) {
      const response = await httpsRequest(`${api.url}/accounts`, { ca: issuer.pki.ca.cert, ...request });
      expect(response.status).toBe(401);
      expect(response.json).toEqual({
        error: 'invalid_dpop_proof',
        error_description: 'The DPoP proof is invalid',
        code: 'dpop_proof_invalid',
      });
      expect(response.headers['www-authenticate']).toBe(
        `DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof is invalid", ${ALGS}, Bearer realm="api"`,
      );
    }
  });
});
