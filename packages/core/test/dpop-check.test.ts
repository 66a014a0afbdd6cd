import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createDpopProof } from '@certbound/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { trustedProxyMatcher } from '../src/client-certificate/trusted-proxies.js';
import { DpopCheck } from '../src/dpop/dpop-check.js';
import { NonceIssuer } from '../src/dpop/nonce.js';
import { readDpop } from '../src/options/dpop-options.js';
import { rfc7638, type TestKey, testKey } from './support/keys.js';
import { failure, outcomeOf } from './support/outcomes.js';

const TOKEN = 'the-access-token';
const NONCE_SECRET = 'n'.repeat(32);

let alice: TestKey;

beforeAll(async () => {
  alice = await testKey('ES256');
});

afterEach(() => {
  vi.useRealTimers();
});

/** A DpopCheck for the `dpop` option (read as the verifier reads it), 5 s of tolerance. */
function check(dpop: Record<string, unknown> = {}, trustedProxy?: (peer: string | undefined) => boolean) {
  return new DpopCheck(readDpop(dpop, 'dpop')!, 5, trustedProxy);
}

const proofFor = (url: string, extra: { nonce?: string; jti?: string } = {}) =>
  createDpopProof({ key: alice, method: 'GET', url, accessToken: TOKEN, ...extra });

describe('DpopCheck', () => {
  it('exposes whether DPoP is required and the accepted algorithms (a frozen copy)', () => {
    const required = check({ required: true, algorithms: ['ES256', 'EdDSA'] });
    expect(required.required).toBe(true);
    expect(required.algorithms).toEqual(['ES256', 'EdDSA']);
    expect(Object.isFrozen(required.algorithms)).toBe(true);
    expect(check().required).toBe(false);
  });

  describe('fromRequest', () => {
    it('names the request URI at each configured origin, query dropped, originalUrl first', () => {
      const dpop = check({ origins: ['https://api.example.com', 'https://internal.example.com:8443'] });
      const req = {
        method: 'POST',
        url: '/accounts?page=2',
        originalUrl: '/v1/accounts?page=2',
        headers: { host: 'ignored.example.com' },
      };
      expect(dpop.fromRequest(req, ['proof'])).toEqual({
        fields: ['proof'],
        method: 'POST',
        htu: ['https://api.example.com/v1/accounts', 'https://internal.example.com:8443/v1/accounts'],
      });
    });

    it('names the request URI at the request’s own origin when none is configured', () => {
      const req = {
        method: 'GET',
        url: '/a/../accounts',
        headers: { host: 'API.example.com' },
        socket: { encrypted: true, remoteAddress: '192.0.2.1' },
      };
      expect(check().fromRequest(req, [])).toEqual({
        fields: [],
        method: 'GET',
        htu: ['https://api.example.com/accounts'],
      });
    });

    it('follows a trusted proxy’s Forwarded field in header mode', () => {
      const dpop = check({}, trustedProxyMatcher(['10.0.0.1']));
      const req = {
        method: 'GET',
        url: '/accounts',
        headers: { host: 'internal:8080', forwarded: 'proto=https;host=api.example.com' },
        socket: { encrypted: false, remoteAddress: '10.0.0.1' },
      };
      expect(dpop.fromRequest(req, []).htu).toEqual(['https://api.example.com/accounts']);
    });

    it('names no URI when the origin or the target cannot be told', () => {
      expect(check().fromRequest({ url: '/accounts', headers: {} }, [])).toEqual({
        fields: [],
        method: '',
        htu: [],
      });
      const star = { method: 'OPTIONS', url: '*', headers: { host: 'api.example.com' } };
      expect(check({ origins: ['https://api.example.com'] }).fromRequest(star, []).htu).toEqual([]);
    });
  });

  describe('fromInput', () => {
    it('normalizes the absolute URL given to verify()', () => {
      expect(check().fromInput(['p'], 'DELETE', 'HTTPS://API.example.com:443/accounts/%7e1?x#y')).toEqual({
        fields: ['p'],
        method: 'DELETE',
        htu: ['https://api.example.com/accounts/~1'],
      });
    });

    it('names no URI without a usable URL, and no method without one', () => {
      expect(check().fromInput([], undefined, undefined)).toEqual({ fields: [], method: '', htu: [] });
      expect(check().fromInput([], 'GET', '/accounts').htu).toEqual([]);
      expect(check().fromInput([], 'GET', 'https://user@api.example.com/').htu).toEqual([]);
    });
  });

  it('prechecks the field before any other work: none is dpop_proof_missing, two are dpop_proof_invalid', () => {
    const dpop = check();
    const input = (fields: string[]) => ({ fields, method: 'GET', htu: [] });
    expect(outcomeOf(() => dpop.precheck(input([])))).toBe('dpop_proof_missing');
    expect(outcomeOf(() => dpop.precheck(input(['a.b.c', 'a.b.c'])))).toBe('dpop_proof_invalid');
    expect(outcomeOf(() => dpop.precheck(input(['a.b.c'])))).toBe('accepted');
  });

  describe('verify and remember', () => {
    let events: unknown[];
    const listener = (message: unknown) => events.push(message);

    beforeEach(() => {
      events = [];
      subscribe('certbound:dpop', listener);
    });

    afterEach(() => {
      unsubscribe('certbound:dpop', listener);
    });

    it('verifies a proof, publishing accepted with its alg, then refuses it once remembered', async () => {
      const dpop = check();
      const url = 'https://api.example.com/accounts';
      const input = dpop.fromInput([await proofFor(url)], 'GET', url);
      const verified = await dpop.verify(input, TOKEN);
      expect(verified.jkt).toBe(rfc7638(alice.jwk));
      expect(events).toEqual([{ outcome: 'accepted', code: undefined, alg: 'ES256' }]);
      await expect(dpop.remember(verified)).resolves.toBeUndefined();
      expect((await failure(dpop.remember(await dpop.verify(input, TOKEN)))).code).toBe(
        'dpop_proof_replayed',
      );
    });

    it('publishes rejected with the code of a refused proof', async () => {
      const dpop = check();
      const input = dpop.fromInput(
        [await proofFor('https://api.example.com/other')],
        'GET',
        'https://api.example.com/a',
      );
      expect((await failure(dpop.verify(input, TOKEN))).code).toBe('dpop_proof_invalid');
      expect(events).toEqual([{ outcome: 'rejected', code: 'dpop_proof_invalid', alg: undefined }]);
    });

    it('remembers a proof until its window ends, in the configured store too', async () => {
      vi.useFakeTimers({ toFake: ['Date'], now: 1_800_000_000_000 });
      const calls: [string, number][] = [];
      const dpop = check({
        proofMaxAgeSeconds: 30,
        replay: {
          store: {
            setIfAbsent: async (key: string, ttlMs: number) => {
              calls.push([key, ttlMs]);
              return true;
            },
          },
        },
      });
      const url = 'https://api.example.com/a';
      const verified = await dpop.verify(dpop.fromInput([await proofFor(url)], 'GET', url), TOKEN);
      await dpop.remember(verified);
      // iat is now: the proof could be accepted 30 s + 5 s of tolerance more.
      expect(calls).toEqual([[expect.stringMatching(/^certbound:dpop-jti:[A-Za-z0-9_-]{43}$/), 35_000]]);
    });

    it('forgets remembered proofs on clear()', async () => {
      const dpop = check();
      const url = 'https://api.example.com/a';
      const input = dpop.fromInput([await proofFor(url)], 'GET', url);
      await dpop.remember(await dpop.verify(input, TOKEN));
      dpop.clear();
      await expect(dpop.remember(await dpop.verify(input, TOKEN))).resolves.toBeUndefined();
    });

    it('asks for a nonce when nonces are on, and accepts the one it hands out', async () => {
      vi.useFakeTimers({ toFake: ['Date'], now: 1_800_000_000_000 });
      const dpop = check({ nonce: { secret: NONCE_SECRET } });
      const url = 'https://api.example.com/a';
      const error = await failure(dpop.verify(dpop.fromInput([await proofFor(url)], 'GET', url), TOKEN));
      const nonce = new NonceIssuer(new TextEncoder().encode(NONCE_SECRET), 300).current();
      expect({ code: error.code, dpopNonce: error.dpopNonce }).toEqual({
        code: 'dpop_nonce_required',
        dpopNonce: nonce,
      });
      const withNonce = dpop.fromInput([await proofFor(url, { nonce })], 'GET', url);
      await expect(dpop.verify(withNonce, TOKEN)).resolves.toMatchObject({ jkt: rfc7638(alice.jwk) });
    });
  });

  describe('responseHeaders', () => {
    it('is Cache-Control: no-store alone without nonces', () => {
      expect(check().responseHeaders()).toEqual({ 'cache-control': 'no-store' });
    });

    it('adds the current nonce when nonces are on', () => {
      vi.useFakeTimers({ toFake: ['Date'], now: 1_800_000_000_000 });
      const nonce = new NonceIssuer(new TextEncoder().encode(NONCE_SECRET), 60).current();
      expect(check({ nonce: { secret: NONCE_SECRET, lifetimeSeconds: 60 } }).responseHeaders()).toEqual({
        'cache-control': 'no-store',
        'dpop-nonce': nonce,
      });
    });
  });
});
