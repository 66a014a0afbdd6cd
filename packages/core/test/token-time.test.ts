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
  ])('rejects a NumericDate that is %s as token_malformed', (_name, claims) => {
    expect(codeOf(() => readTimes(claims))).toBe('token_malformed');
  });
});
