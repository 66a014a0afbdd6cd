import { describe, expect, it } from 'vitest';
import { InvalidTokenError } from '../src/errors.js';
import { checkTimes, readTimes } from '../src/token/token-time.js';
import { outcomeOf } from './support/outcomes.js';

const NOW = 1_800_000_000;
const codeOf = (fn: () => unknown) => outcomeOf(fn, InvalidTokenError);

describe('time claims', () => {
  it.each([
    ['exp in the future', { exp: NOW + 1 }, 'accepted'],
    ['exp just within tolerance', { exp: NOW - 4 }, 'accepted'],
    ['exp at now minus tolerance (now must be before exp)', { exp: NOW - 5 }, 'token_expired'],
    ['exp long past', { exp: NOW - 3600 }, 'token_expired'],
    ['nbf within tolerance', { nbf: NOW + 5 }, 'accepted'],
    ['nbf beyond tolerance', { nbf: NOW + 6 }, 'token_not_yet_valid'],
    ['iat within tolerance', { iat: NOW + 5 }, 'accepted'],
    ['iat beyond tolerance', { iat: NOW + 6 }, 'token_not_yet_valid'],
  ])('%s', (_name, claims, code) => {
    expect(codeOf(() => checkTimes(readTimes(claims), NOW, 5))).toBe(code);
  });

  it.each([
    ['a string', { exp: String(NOW + 60) }],
    ['Infinity (1e400)', JSON.parse(`{"exp":1e400}`)],
    ['negative', { nbf: -1 }],
    ['beyond year 9999', { iat: 1e12 }],
    ['null', { exp: null }],
    ['NaN', { exp: Number.NaN }],
    ['one second beyond year 9999', { nbf: 253_402_300_800 }],
  ])('rejects a NumericDate that is %s as token_malformed', (_name, claims) => {
    expect(codeOf(() => readTimes(claims))).toBe('token_malformed');
  });

  it('reads the bounds of a NumericDate: 0 (the epoch) and the last second of year 9999', () => {
    expect(readTimes({ exp: 0, nbf: 0, iat: 0 })).toEqual({ exp: 0, nbf: 0, iat: 0 });
    const last = 253_402_300_799;
    expect(readTimes({ exp: last })).toEqual({ exp: last, nbf: undefined, iat: undefined });
  });
});
