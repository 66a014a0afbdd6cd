import { type JWK, jwtVerify, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CandidateKey,
  localKeys,
  MAX_CANDIDATE_KEYS,
  secretKey,
  selectCandidates,
  setMembers,
} from '../src/jwt/signing-keys.js';
import { rfc7638, type TestKey, testKey } from './support/keys.js';

let es256: TestKey;
let rs256: TestKey;
let eddsa: TestKey;

beforeAll(async () => {
  [es256, rs256, eddsa] = await Promise.all([
    testKey('ES256', 'es-1'),
    testKey('RS256', 'rs-1'),
    testKey('EdDSA', 'ed-1'),
  ]);
});

/** A token signed with `key` under `header`. */
function signed(key: TestKey, header: Record<string, unknown>): Promise<string> {
  return new SignJWT({ sub: 's' }).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
}

const ids = (candidates: readonly CandidateKey[]) => candidates.map((candidate) => candidate.id);

describe('localKeys', () => {
  it('gives the one key a header names by kid and alg, identified by its RFC 7638 thumbprint', async () => {
    const keys = localKeys({ keys: [es256.jwk, rs256.jwk, eddsa.jwk] });
    for (const [key, alg] of [
      [es256, 'ES256'],
      [rs256, 'RS256'],
      [eddsa, 'EdDSA'],
    ] as const) {
      const candidates = await keys.candidates({ alg, kid: key.jwk.kid });
      expect(ids(candidates)).toEqual([rfc7638(key.jwk)]);
      const token = await signed(key, { alg, kid: key.jwk.kid });
      await expect(jwtVerify(token, candidates[0]!.key)).resolves.toMatchObject({ payload: { sub: 's' } });
    }
  });

  it('gives nothing for a kid the set does not have, or a kid whose key is of another type', async () => {
    const keys = localKeys({ keys: [es256.jwk, rs256.jwk] });
    expect(await keys.candidates({ alg: 'ES256', kid: 'no-such-key' })).toEqual([]);
    expect(await keys.candidates({ alg: 'RS256', kid: es256.jwk.kid })).toEqual([]);
    expect(await keys.candidates({ alg: 'PS256', kid: es256.jwk.kid })).toEqual([]);
  });

  it('gives nothing for an algorithm no JWK type serves (HMAC, none, a missing alg)', async () => {
    const keys = localKeys({ keys: [es256.jwk, rs256.jwk, eddsa.jwk] });
    expect(await keys.candidates({ alg: 'HS256' })).toEqual([]);
    expect(await keys.candidates({ alg: 'none' })).toEqual([]);
    expect(await keys.candidates({})).toEqual([]);
  });

  it('keeps jose’s rules per key: a JWK for another alg, for encryption, or on another curve is never a candidate', async () => {
    const keys = localKeys({
      keys: [
        { ...es256.jwk, kid: 'es384', alg: 'ES384' },
        { ...es256.jwk, kid: 'enc', use: 'enc' },
        { ...es256.jwk, kid: 'p384', crv: 'P-384' },
        { ...es256.jwk, kid: 'sign-only', key_ops: ['sign'] },
      ],
    });
    for (const kid of ['es384', 'enc', 'p384', 'sign-only']) {
      expect(await keys.candidates({ alg: 'ES256', kid })).toEqual([]);
    }
  });

  it(`tries at most ${MAX_CANDIDATE_KEYS} keys for a header without kid, in JWK Set order`, async () => {
    expect(MAX_CANDIDATE_KEYS).toBe(4);
    const many = await Promise.all(Array.from({ length: 6 }, (_, i) => testKey('ES256', `k${i}`)));
    const keys = localKeys({ keys: [rs256.jwk, ...many.map((key) => key.jwk)] });
    expect(ids(await keys.candidates({ alg: 'ES256' }))).toEqual(
      many.slice(0, 4).map((key) => rfc7638(key.jwk)),
    );
    expect(ids(await keys.candidates({ alg: 'RS256' }))).toEqual([rfc7638(rs256.jwk)]);
  });

  it('gives every key sharing a kid (a rotation that kept the kid), at most four', async () => {
    const next = await testKey('ES256', 'es-1');
    const keys = localKeys({ keys: [es256.jwk, next.jwk] });
    expect(ids(await keys.candidates({ alg: 'ES256', kid: 'es-1' }))).toEqual([
      rfc7638(es256.jwk),
      rfc7638(next.jwk),
    ]);
  });

  it('never makes a candidate of a member it cannot use, and still gives the others', async () => {
    const keys = localKeys({
      keys: [
        null as unknown as JWK,
        'a string' as unknown as JWK,
        { kty: 'EC' },
        { kty: 'magic', kid: 'es-1' },
        { ...es256.jwk, kid: 'broken', x: `AAAA${es256.jwk.x!.slice(4)}` },
        es256.jwk,
      ],
    });
    expect(ids(await keys.candidates({ alg: 'ES256', kid: 'es-1' }))).toEqual([rfc7638(es256.jwk)]);
    // A header without kid reaches the broken member first: it is skipped, not fatal.
    expect(ids(await keys.candidates({ alg: 'ES256' }))).toEqual([rfc7638(es256.jwk)]);
  });
});

describe('setMembers and selectCandidates', () => {
  it('prepare each usable member once, with its thumbprint, kid and kty', async () => {
    const members = await setMembers({
      keys: [es256.jwk, { ...rs256.jwk, kid: undefined }, { kty: 'RSA' }, eddsa.jwk],
    });
    expect(members.map(({ id, kid, kty }) => ({ id, kid, kty }))).toEqual([
      { id: rfc7638(es256.jwk), kid: 'es-1', kty: 'EC' },
      { id: rfc7638(rs256.jwk), kid: undefined, kty: 'RSA' },
      { id: rfc7638(eddsa.jwk), kid: 'ed-1', kty: 'OKP' },
    ]);
    expect(ids(await selectCandidates(members, { alg: 'EdDSA' }))).toEqual([rfc7638(eddsa.jwk)]);
    expect(ids(await selectCandidates(members, { alg: 'RS256', kid: 'rs-1' }))).toEqual([]);
    expect(ids(await selectCandidates(members, { alg: 'RS256' }))).toEqual([rfc7638(rs256.jwk)]);
  });

  it('read a set without a keys array as empty', async () => {
    expect(await setMembers({} as never)).toEqual([]);
    expect(await setMembers({ keys: 'none' } as never)).toEqual([]);
  });
});

describe('secretKey', () => {
  it('gives the configured secret, identified as "secret", whatever the header', async () => {
    const secret = new TextEncoder().encode('s'.repeat(32));
    const keys = secretKey(secret);
    const candidates = await keys.candidates({ alg: 'HS256' });
    expect(candidates).toEqual([{ id: 'secret', key: secret }]);
    expect(candidates[0]!.key).toBe(secret);
    expect(Object.isFrozen(candidates)).toBe(true);
    expect(await keys.candidates({ alg: 'HS512', kid: 'anything' })).toBe(candidates);
  });
});
