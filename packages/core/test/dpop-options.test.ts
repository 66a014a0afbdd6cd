import { createVerifier } from '@certbound/core';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DPOP_ALGORITHMS,
  DEFAULT_NONCE_LIFETIME_SECONDS,
  DEFAULT_PROOF_MAX_AGE_SECONDS,
  DEFAULT_REPLAY_MAX,
  MIN_NONCE_SECRET_BYTES,
  readDpop,
} from '../src/options/dpop-options.js';
import { normalizeOptions } from '../src/options/verifier-options.js';
import { thrownBy } from './support/outcomes.js';

const base = { issuer: 'https://as.example.com', audience: 'https://api.example.com' };
const store = { setIfAbsent: async () => true };

const DEFAULTS = {
  required: false,
  algorithms: ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'],
  proofMaxAgeSeconds: 60,
  origins: undefined,
  nonce: undefined,
  replay: { store: undefined, max: 1_000_000 },
};

describe('readDpop', () => {
  it('turns DPoP on with the documented defaults when the option is absent or empty', () => {
    expect({
      algorithms: DEFAULT_DPOP_ALGORITHMS,
      proofMaxAgeSeconds: DEFAULT_PROOF_MAX_AGE_SECONDS,
      nonceLifetimeSeconds: DEFAULT_NONCE_LIFETIME_SECONDS,
      replayMax: DEFAULT_REPLAY_MAX,
      nonceSecretBytes: MIN_NONCE_SECRET_BYTES,
    }).toEqual({
      algorithms: ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'],
      proofMaxAgeSeconds: 60,
      nonceLifetimeSeconds: 300,
      replayMax: 1_000_000,
      nonceSecretBytes: 32,
    });
    expect(readDpop(undefined, 'dpop')).toEqual(DEFAULTS);
    expect(readDpop({}, 'dpop')).toEqual(DEFAULTS);
    expect(normalizeOptions(base).dpop).toEqual(DEFAULTS);
  });

  it('turns DPoP off with false', () => {
    expect(readDpop(false, 'dpop')).toBeUndefined();
    expect(normalizeOptions({ ...base, dpop: false }).dpop).toBeUndefined();
  });

  it('reads every option given', () => {
    const secret = new Uint8Array(40).fill(7);
    expect(
      readDpop(
        {
          required: true,
          algorithms: 'EdDSA',
          proofMaxAgeSeconds: 3600,
          origins: ['HTTPS://API.example.com:443/', 'http://localhost:3000'],
          nonce: { secret, lifetimeSeconds: 86_400 },
          replay: { store, max: 10_000_000 },
        },
        'dpop',
      ),
    ).toEqual({
      required: true,
      algorithms: ['EdDSA'],
      proofMaxAgeSeconds: 3600,
      origins: ['https://api.example.com', 'http://localhost:3000'],
      nonce: { secret, lifetimeSeconds: 86_400 },
      replay: { store, max: 10_000_000 },
    });
  });

  it('takes a nonce secret as a string of at least 32 bytes (UTF-8), with the default lifetime', () => {
    expect(readDpop({ nonce: { secret: 'é'.repeat(16) } }, 'dpop')).toMatchObject({
      nonce: { secret: new TextEncoder().encode('é'.repeat(16)), lifetimeSeconds: 300 },
    });
  });

  it('takes every asymmetric algorithm jose offers for proofs', () => {
    const all = [
      'ES256',
      'ES384',
      'ES512',
      'EdDSA',
      'Ed25519',
      'PS256',
      'PS384',
      'PS512',
      'RS256',
      'RS384',
      'RS512',
    ];
    expect(readDpop({ algorithms: all }, 'dpop')?.algorithms).toEqual(all);
  });

  const ORIGINS = 'origins such as "https://api.example.com" (http only for localhost)';
  const ALGORITHMS =
    'asymmetric JWS algorithms among ES256, ES384, ES512, EdDSA, Ed25519, PS256, PS384, PS512, RS256, RS384, RS512';

  it.each([
    [true, '"dpop" must be false or an object { required?, algorithms?, … }'],
    ['on', '"dpop" must be false or an object { required?, algorithms?, … }'],
    [[], '"dpop" must be false or an object { required?, algorithms?, … }'],
    [{ required: 'yes' }, '"dpop.required" must be a boolean'],
    [{ algorithms: [] }, '"dpop.algorithms" must be a non-empty string or array of strings'],
    [{ algorithms: [''] }, '"dpop.algorithms" must be made of non-empty strings'],
    [{ algorithms: ['HS256'] }, `"dpop.algorithms" must be ${ALGORITHMS} (got "HS256")`],
    [{ algorithms: ['ES256', 'none'] }, `"dpop.algorithms" must be ${ALGORITHMS} (got "none")`],
    [{ algorithms: ['es256'] }, `"dpop.algorithms" must be ${ALGORITHMS} (got "es256")`],
    [{ proofMaxAgeSeconds: 0 }, '"dpop.proofMaxAgeSeconds" must be a positive integer up to 3600'],
    [{ proofMaxAgeSeconds: 1.5 }, '"dpop.proofMaxAgeSeconds" must be a positive integer up to 3600'],
    [{ proofMaxAgeSeconds: 3601 }, '"dpop.proofMaxAgeSeconds" must be a positive integer up to 3600'],
    [{ proofMaxAgeSeconds: '60' }, '"dpop.proofMaxAgeSeconds" must be a positive integer up to 3600'],
    [{ origins: [] }, '"dpop.origins" must be a non-empty string or array of strings'],
    [{ origins: ['http://api.example.com'] }, `"dpop.origins" must be ${ORIGINS}`],
    [{ origins: ['https://api.example.com/v1'] }, `"dpop.origins" must be ${ORIGINS}`],
    [{ origins: ['https://api.example.com/?tenant=1'] }, `"dpop.origins" must be ${ORIGINS}`],
    [{ origins: ['https://api.example.com#'] }, `"dpop.origins" must be ${ORIGINS}`],
    [{ origins: ['https://user@api.example.com'] }, `"dpop.origins" must be ${ORIGINS}`],
    [{ origins: ['api.example.com'] }, `"dpop.origins" must be ${ORIGINS}`],
    [{ nonce: 'secret' }, '"dpop.nonce" must be an object { secret, lifetimeSeconds? }'],
    [{ nonce: {} }, '"dpop.nonce.secret" must be a string or Uint8Array of at least 32 bytes'],
    [
      { nonce: { secret: 'n'.repeat(31) } },
      '"dpop.nonce.secret" must be a string or Uint8Array of at least 32 bytes',
    ],
    [
      { nonce: { secret: new Uint8Array(31) } },
      '"dpop.nonce.secret" must be a string or Uint8Array of at least 32 bytes',
    ],
    [
      { nonce: { secret: 'n'.repeat(32), lifetimeSeconds: 0 } },
      '"dpop.nonce.lifetimeSeconds" must be a positive integer up to 86400',
    ],
    [
      { nonce: { secret: 'n'.repeat(32), lifetimeSeconds: 86_401 } },
      '"dpop.nonce.lifetimeSeconds" must be a positive integer up to 86400',
    ],
    [{ replay: 'redis' }, '"dpop.replay" must be an object { store?, max? }'],
    [{ replay: { store: {} } }, '"dpop.replay.store" must be a ReplayStore { setIfAbsent }'],
    [{ replay: { store: { get: () => 1 } } }, '"dpop.replay.store" must be a ReplayStore { setIfAbsent }'],
    [{ replay: { max: 0 } }, '"dpop.replay.max" must be a positive integer up to 10000000'],
    [{ replay: { max: 10_000_001 } }, '"dpop.replay.max" must be a positive integer up to 10000000'],
  ])('refuses dpop %j: %s', (dpop, expectation) => {
    const message = `Invalid certbound option: ${expectation}`;
    const error = thrownBy(() => readDpop(dpop, 'dpop'));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe(message);
    const fromVerifier = thrownBy(() => createVerifier({ ...base, dpop } as never));
    expect(fromVerifier).toBeInstanceOf(TypeError);
    expect((fromVerifier as TypeError).message).toBe(message);
  });

  it.each([
    [{ nonces: {} }, 'unknown option "dpop.nonces" (did you mean "dpop.nonce"?)'],
    [{ Required: true }, 'unknown option "dpop.Required" (did you mean "dpop.required"?)'],
    [
      { nonce: { secret: 'n'.repeat(32), lifetime: 60 } },
      'unknown option "dpop.nonce.lifetime" (did you mean "dpop.nonce.lifetimeSeconds"?)',
    ],
    [{ replay: { max: 1, ttl: 5 } }, 'unknown option "dpop.replay.ttl"'],
  ])('refuses the unknown option in %j, suggesting the known one', (dpop, expectation) => {
    const error = thrownBy(() => createVerifier({ ...base, dpop } as never));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe(`Invalid certbound option: ${expectation}`);
  });
});
