import { describe, expect, it } from 'vitest';
import { CertboundError, InvalidTokenError } from '../src/errors.js';
import { optionalString, readScopes } from '../src/token/claims.js';
import { outcomeOf } from './support/outcomes.js';

describe('readScopes', () => {
  it('splits a space-delimited scope and refuses other shapes', async () => {
    expect(readScopes({ scope: 'a  b c' })).toEqual(['a', 'b', 'c']);
    expect(readScopes({})).toEqual([]);
    expect(() => readScopes({ scope: ['a'] })).toThrow(CertboundError);
  });

  it('gives frozen arrays, empty for an empty scope', () => {
    expect(Object.isFrozen(readScopes({ scope: 'a b' }))).toBe(true);
    expect(Object.isFrozen(readScopes({}))).toBe(true);
    expect(readScopes({ scope: '' })).toEqual([]);
  });

  it.each([
    ['an array', ['a', 'b']],
    ['a number', 42],
    ['null', null],
  ])('refuses a scope that is %s as token_malformed', (_name, scope) => {
    expect(outcomeOf(() => readScopes({ scope }), InvalidTokenError)).toBe('token_malformed');
  });

  it('ignores an inherited scope', () => {
    expect(readScopes(Object.create({ scope: 'admin' }) as Record<string, unknown>)).toEqual([]);
  });
});

describe('optionalString', () => {
  it('reads a string member, and nothing for an absent or inherited one', () => {
    expect(optionalString({ sub: 'user-1' }, 'sub')).toBe('user-1');
    expect(optionalString({ sub: '' }, 'sub')).toBe('');
    expect(optionalString({}, 'sub')).toBeUndefined();
    expect(optionalString(Object.create({ sub: 'x' }) as Record<string, unknown>, 'sub')).toBeUndefined();
  });

  it.each([
    ['a number', 7],
    ['null', null],
    ['undefined, present', undefined],
    ['an object', { id: 'x' }],
  ])('refuses a member that is %s as token_malformed', (_name, value) => {
    expect(outcomeOf(() => optionalString({ sub: value }, 'sub'), InvalidTokenError)).toBe('token_malformed');
  });
});
