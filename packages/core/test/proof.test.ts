import { createHash, randomUUID } from 'node:crypto';
import { createDpopProof, dpopThumbprint } from '@certbound/testing';
import { exportJWK, type JWK, SignJWT } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { NonceIssuer } from '../src/dpop/nonce.js';
import { MAX_PROOF_LENGTH, type ProofRules, proofField, verifyProof } from '../src/dpop/proof.js';
import { InvalidTokenError } from '../src/errors.js';
import { rfc7638, type TestKey, testKey } from './support/keys.js';
import { asyncOutcomeOf, failure, outcomeOf } from './support/outcomes.js';

/** The fixed clock of these tests, seconds. */
const NOW = 1_800_000_000;
const URL = 'https://api.example.com/accounts';
const TOKEN = 'the-access-token';
const ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'];

let alice: TestKey;
let mallory: TestKey;

beforeAll(async () => {
  [alice, mallory] = await Promise.all([testKey('ES256'), testKey('ES256')]);
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: NOW * 1000 });
});

afterEach(() => {
  vi.useRealTimers();
});

const athOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/** The public JWK a proof carries: the key's members only. */
async function proofJwk(key: TestKey): Promise<JWK> {
  const { kty, crv, x, y, n, e } = await exportJWK(key.publicKey);
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined));
}

/** `base` with `overrides` applied; a member set to `undefined` is removed. */
function withOverrides(base: Record<string, unknown>, overrides: Record<string, unknown>) {
  const result = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return result;
}

/**
 * A proof for `GET URL` with `TOKEN`, valid in every respect but the ones `header` and `claims`
 * override, signed by `key` (Alice by default).
 */
async function proof(
  options: { header?: Record<string, unknown>; claims?: Record<string, unknown>; key?: TestKey } = {},
): Promise<string> {
  const key = options.key ?? alice;
  const claims = withOverrides(
    { jti: randomUUID(), htm: 'GET', htu: URL, iat: NOW, ath: athOf(TOKEN) },
    options.claims ?? {},
  );
  const header = withOverrides(
    { alg: key.jwk.alg, typ: 'dpop+jwt', jwk: await proofJwk(key) },
    options.header ?? {},
  );
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
}

function rulesWith(overrides: Partial<ProofRules> = {}): ProofRules {
  return {
    algorithms: ALGORITHMS,
    proofMaxAgeSeconds: 60,
    clockToleranceSeconds: 5,
    nonce: undefined,
    ...overrides,
  };
}

/** Verifies `fields` as the proof of `GET URL` with `TOKEN` (or what `request` overrides). */
function verify(
  fields: string[],
  rules: ProofRules = rulesWith(),
  request: { method?: string; htu?: string[]; accessToken?: string } = {},
) {
  return verifyProof(
    {
      fields,
      method: request.method ?? 'GET',
      htu: request.htu ?? [URL],
      accessToken: request.accessToken ?? TOKEN,
    },
    rules,
  );
}

/** The code `fields` is refused with, or 'accepted'. */
const outcome = (fields: string[], rules?: ProofRules, request?: Parameters<typeof verify>[2]) =>
  asyncOutcomeOf(verify(fields, rules, request));

const INVALID = {
  name: 'InvalidTokenError',
  status: 401,
  error: 'invalid_dpop_proof',
  code: 'dpop_proof_invalid',
  description: 'The DPoP proof is invalid',
};

describe('verifyProof', () => {
  it('accepts a proof made by @certbound/testing, and gives its key’s RFC 7638 thumbprint, jti, alg and window', async () => {
    const jwt = await createDpopProof({
      key: alice,
      method: 'GET',
      url: `${URL}?page=2`,
      accessToken: TOKEN,
      jti: 'j-1',
    });
    expect(await verify([jwt])).toEqual({
      jkt: rfc7638(alice.jwk),
      jti: 'j-1',
      acceptableUntil: (NOW + 60 + 5) * 1000,
      alg: 'ES256',
    });
    expect(rfc7638(alice.jwk)).toBe(await dpopThumbprint(alice));
  });

  it.each(['RS256', 'EdDSA'] as const)('accepts a %s proof and gives its key’s thumbprint', async (alg) => {
    const key = await testKey(alg);
    const verified = await verify([await proof({ key })]);
    expect(verified).toMatchObject({ jkt: rfc7638(key.jwk), alg });
  });

  it('refuses with the whole 401 invalid_dpop_proof', async () => {
    const error = await failure(verify([await proof({ claims: { htm: 'POST' } })]));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject(INVALID);
  });

  describe('typ', () => {
    it.each([
      ['JWT', 'JWT'],
      ['at+jwt', 'at+jwt'],
      ['missing', undefined],
    ])('refuses typ %s', async (_name, typ) => {
      expect(await outcome([await proof({ header: { typ } })])).toBe('dpop_proof_invalid');
    });
  });

  describe('alg', () => {
    it('refuses an algorithm the verifier does not accept', async () => {
      expect(await outcome([await proof()], rulesWith({ algorithms: ['EdDSA', 'RS256'] }))).toBe(
        'dpop_proof_invalid',
      );
      expect(await outcome([await proof()], rulesWith({ algorithms: ['ES256'] }))).toBe('accepted');
    });

    it('refuses an unsigned proof (alg none)', async () => {
      const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const unsigned = `${segment({ alg: 'none', typ: 'dpop+jwt', jwk: await proofJwk(alice) })}.${segment({
        jti: 'j',
        htm: 'GET',
        htu: URL,
        iat: NOW,
        ath: athOf(TOKEN),
      })}.`;
      expect(await outcome([unsigned], rulesWith({ algorithms: [...ALGORITHMS, 'none'] }))).toBe(
        'dpop_proof_invalid',
      );
    });

    it('refuses an HMAC proof with a symmetric jwk, even when its algorithm is listed', async () => {
      const secret = new TextEncoder().encode('s'.repeat(32));
      const jwt = await new SignJWT({ jti: 'j', htm: 'GET', htu: URL, iat: NOW, ath: athOf(TOKEN) })
        .setProtectedHeader({
          alg: 'HS256',
          typ: 'dpop+jwt',
          // jose types a header jwk as public; a client can send anything.
          jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url') } as JWK,
        })
        .sign(secret);
      expect(await outcome([jwt], rulesWith({ algorithms: ['HS256'] }))).toBe('dpop_proof_invalid');
    });
  });

  describe('jwk', () => {
    it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'])(
      'refuses a jwk with the private member %s',
      async (member) => {
        const jwk = { ...(await proofJwk(alice)), [member]: 'AQAB' };
        expect(await outcome([await proof({ header: { jwk } })])).toBe('dpop_proof_invalid');
      },
    );

    it('refuses a whole private JWK', async () => {
      const jwk = await exportJWK(alice.privateKey);
      expect(jwk.d).toBeDefined();
      expect(await outcome([await proof({ header: { jwk } })])).toBe('dpop_proof_invalid');
    });

    it.each([
      ['missing', undefined],
      ['a string', 'key'],
      ['an array', [1]],
      ['null', null],
      ['without kty', { crv: 'P-256', x: 'AAAA', y: 'AAAA' }],
      ['of kty oct', { kty: 'oct' }],
    ])('refuses a jwk that is %s', async (_name, jwk) => {
      expect(await outcome([await proof({ header: { jwk } })])).toBe('dpop_proof_invalid');
    });

    it('refuses a proof whose jwk is not the key that signed it', async () => {
      const jwk = await proofJwk(mallory);
      expect(await outcome([await proof({ header: { jwk } })])).toBe('dpop_proof_invalid');
    });

    it('refuses a proof whose signature or payload was altered', async () => {
      const [header, payload, signature] = (await proof()).split('.') as [string, string, string];
      const other = (await proof({ claims: { jti: 'other' } })).split('.')[1];
      const flipped = `${signature.slice(0, -2)}${signature.at(-2) === 'A' ? 'B' : 'A'}${signature.at(-1)}`;
      expect(await outcome([`${header}.${payload}.${flipped}`])).toBe('dpop_proof_invalid');
      expect(await outcome([`${header}.${other}.${signature}`])).toBe('dpop_proof_invalid');
    });
  });

  describe('htm', () => {
    it.each([
      ['another method', 'POST'],
      ['the method in lower case', 'get'],
      ['missing', undefined],
      ['not a string', 1],
    ])('refuses %s', async (_name, htm) => {
      expect(await outcome([await proof({ claims: { htm } })])).toBe('dpop_proof_invalid');
    });

    it('compares with the request method', async () => {
      const post = await proof({ claims: { htm: 'POST' } });
      expect(await outcome([post], undefined, { method: 'POST' })).toBe('accepted');
    });
  });

  describe('htu', () => {
    it.each([
      ['the query and fragment ignored', `${URL}?page=2#top`],
      ['scheme and host case, the default port', 'HTTPS://API.Example.com:443/accounts'],
      ['dot segments and unreserved percent-encoding', 'https://api.example.com/x/../%61ccounts'],
    ])('accepts an equivalent URI: %s', async (_name, htu) => {
      expect(await outcome([await proof({ claims: { htu } })])).toBe('accepted');
    });

    it.each([
      ['another path', 'https://api.example.com/accounts/1'],
      ['the path in another case', 'https://api.example.com/Accounts'],
      ['another host', 'https://evil.example.com/accounts'],
      ['another scheme', 'http://api.example.com/accounts'],
      ['another port', 'https://api.example.com:8443/accounts'],
      ['userinfo', 'https://user@api.example.com/accounts'],
      ['a relative reference', '/accounts'],
      ['missing', undefined],
      ['not a string', 42],
    ])('refuses %s', async (_name, htu) => {
      expect(await outcome([await proof({ claims: { htu } })])).toBe('dpop_proof_invalid');
    });

    it('accepts any of the request’s candidate URIs, and refuses when there is none', async () => {
      const jwt = await proof({ claims: { htu: 'https://internal.example.com/accounts' } });
      expect(await outcome([jwt], undefined, { htu: [URL, 'https://internal.example.com/accounts'] })).toBe(
        'accepted',
      );
      expect(await outcome([await proof()], undefined, { htu: [] })).toBe('dpop_proof_invalid');
    });
  });

  describe('iat', () => {
    it('accepts a proof up to proofMaxAgeSeconds plus the tolerance old, and no older', async () => {
      expect(await outcome([await proof({ claims: { iat: NOW - 65 } })])).toBe('accepted');
      expect(await outcome([await proof({ claims: { iat: NOW - 66 } })])).toBe('dpop_proof_invalid');
    });

    it('accepts a proof up to the tolerance ahead, and no further', async () => {
      expect(await outcome([await proof({ claims: { iat: NOW + 5 } })])).toBe('accepted');
      expect(await outcome([await proof({ claims: { iat: NOW + 6 } })])).toBe('dpop_proof_invalid');
    });

    it('uses the configured age and tolerance', async () => {
      const rules = rulesWith({ proofMaxAgeSeconds: 10, clockToleranceSeconds: 0 });
      expect(await outcome([await proof({ claims: { iat: NOW - 10 } })], rules)).toBe('accepted');
      expect(await outcome([await proof({ claims: { iat: NOW - 11 } })], rules)).toBe('dpop_proof_invalid');
      expect(await outcome([await proof({ claims: { iat: NOW } })], rules)).toBe('accepted');
      expect(await outcome([await proof({ claims: { iat: NOW + 1 } })], rules)).toBe('dpop_proof_invalid');
    });

    it('gives the proof’s own window: its replay entry lives until it could no longer be accepted', async () => {
      const verified = await verify([await proof({ claims: { iat: NOW - 30 } })]);
      expect(verified.acceptableUntil).toBe((NOW - 30 + 60 + 5) * 1000);
    });

    it.each([
      ['missing', undefined],
      ['a string', String(NOW)],
    ])('refuses an iat that is %s', async (_name, iat) => {
      expect(await outcome([await proof({ claims: { iat } })])).toBe('dpop_proof_invalid');
    });
  });

  describe('jti', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['longer than 256 characters', 'j'.repeat(257)],
      ['a number', 7],
    ])('refuses a jti that is %s', async (_name, jti) => {
      expect(await outcome([await proof({ claims: { jti } })])).toBe('dpop_proof_invalid');
    });

    it('accepts a jti of 256 characters', async () => {
      expect((await verify([await proof({ claims: { jti: 'j'.repeat(256) } })])).jti).toBe('j'.repeat(256));
    });
  });

  describe('ath', () => {
    it.each([
      ['missing', undefined],
      ['the hash of another token', athOf('another-token')],
      ['padded', `${athOf(TOKEN)}=`],
      ['in hex', createHash('sha256').update(TOKEN).digest('hex')],
    ])('refuses an ath that is %s', async (_name, ath) => {
      expect(await outcome([await proof({ claims: { ath } })])).toBe('dpop_proof_invalid');
    });

    it('binds the proof to the access token sent with it', async () => {
      expect(await outcome([await proof()], undefined, { accessToken: `${TOKEN}x` })).toBe(
        'dpop_proof_invalid',
      );
    });
  });

  describe('nonce', () => {
    const issuer = new NonceIssuer(new TextEncoder().encode('n'.repeat(32)), 300);
    const rules = () => rulesWith({ nonce: issuer });

    it('asks for the current nonce with dpop_nonce_required (use_dpop_nonce) when the proof has none', async () => {
      const error = await failure(verify([await proof()], rules()));
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect(error).toMatchObject({
        status: 401,
        error: 'use_dpop_nonce',
        code: 'dpop_nonce_required',
        description: 'The DPoP proof must carry the nonce the resource server provided',
        dpopNonce: issuer.current(),
      });
      expect(error.headers['dpop-nonce']).toBe(issuer.current());
    });

    it('refuses a nonce it did not issue, or one two steps old, the same way', async () => {
      const old = issuer.current(Date.now() - 600_000);
      for (const nonce of ['made-up', old, 42]) {
        const error = await failure(verify([await proof({ claims: { nonce } })], rules()));
        expect({ code: error.code, dpopNonce: error.dpopNonce }).toEqual({
          code: 'dpop_nonce_required',
          dpopNonce: issuer.current(),
        });
      }
    });

    it('accepts the current nonce and the previous step’s', async () => {
      expect(await outcome([await proof({ claims: { nonce: issuer.current() } })], rules())).toBe('accepted');
      const previous = issuer.current(Date.now() - 300_000);
      expect(await outcome([await proof({ claims: { nonce: previous } })], rules())).toBe('accepted');
    });

    it('checks the nonce last: an otherwise invalid proof is dpop_proof_invalid', async () => {
      expect(await outcome([await proof({ claims: { htm: 'POST' } })], rules())).toBe('dpop_proof_invalid');
    });
  });

  describe('the DPoP field', () => {
    it('refuses a request without one as dpop_proof_missing', async () => {
      const error = await failure(verify([]));
      expect(error).toMatchObject({
        name: 'InvalidTokenError',
        status: 401,
        error: 'invalid_dpop_proof',
        code: 'dpop_proof_missing',
        description: 'A DPoP proof is required',
      });
    });

    it('refuses two fields, even the same proof twice', async () => {
      const jwt = await proof();
      expect(await outcome([jwt, jwt])).toBe('dpop_proof_invalid');
      expect(await outcome([jwt, await proof()])).toBe('dpop_proof_invalid');
    });

    it(`refuses a field over ${MAX_PROOF_LENGTH} characters before parsing it`, async () => {
      expect(MAX_PROOF_LENGTH).toBe(8192);
      const jwt = await proof({ claims: { pad: 'p'.repeat(8000) } });
      expect(jwt.length).toBeGreaterThan(MAX_PROOF_LENGTH);
      expect(await outcome([jwt])).toBe('dpop_proof_invalid');
      const fits = await proof({ claims: { pad: 'p'.repeat(5000) } });
      expect(fits.length).toBeLessThanOrEqual(MAX_PROOF_LENGTH);
      expect(await outcome([fits])).toBe('accepted');
    });

    it.each([
      ['empty', ''],
      ['blank', '   '],
      ['two segments', 'a.b'],
      ['four segments', 'a.b.c.d'],
      ['an empty signature', 'a.b.'],
      ['a character outside base64url', 'a.b+.c'],
      ['not a JWS', 'not a proof'],
    ])('refuses a field that is %s', async (_name, field) => {
      expect(await outcome([field])).toBe('dpop_proof_invalid');
    });
  });
});

describe('proofField', () => {
  it('gives the one field, without surrounding whitespace', () => {
    expect(proofField(['  a.b.c\t'])).toBe('a.b.c');
  });

  it('refuses no field, several fields, and a field that is not a JWS', () => {
    expect(outcomeOf(() => proofField([]), InvalidTokenError)).toBe('dpop_proof_missing');
    expect(outcomeOf(() => proofField(['a.b.c', 'a.b.c']), InvalidTokenError)).toBe('dpop_proof_invalid');
    expect(outcomeOf(() => proofField(['a.b']), InvalidTokenError)).toBe('dpop_proof_invalid');
    expect(outcomeOf(() => proofField([`a.b.${'c'.repeat(8192)}`]), InvalidTokenError)).toBe(
      'dpop_proof_invalid',
    );
  });
});
