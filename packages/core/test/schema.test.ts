import { createVerifier } from '@certbound/core';
import { describe, expect, it } from 'vitest';
import { readGroup, unknownOption } from '../src/options/schema.js';
import { thrownBy } from './support/outcomes.js';

const base = { issuer: 'https://as.example.com', audience: 'https://api.example.com' };

/** The message of the TypeError `run` throws (it must throw one). */
function typeErrorOf(run: () => unknown): string {
  const error = thrownBy(run);
  expect(error).toBeInstanceOf(TypeError);
  return (error as TypeError).message;
}

const SCHEMA = {
  max: (value: unknown, name: string) => ({ value: value ?? 10, name }),
  maxTtlSeconds: (value: unknown, name: string) => ({ value: value ?? 60, name }),
};

describe('readGroup', () => {
  it('reads every option of the schema with its reader, under its dotted name', () => {
    expect(readGroup({ max: 5 }, 'tokenCache', SCHEMA, 'an object')).toEqual({
      max: { value: 5, name: 'tokenCache.max' },
      maxTtlSeconds: { value: 60, name: 'tokenCache.maxTtlSeconds' },
    });
    expect(readGroup({}, '', SCHEMA, '')).toEqual({
      max: { value: 10, name: 'max' },
      maxTtlSeconds: { value: 60, name: 'maxTtlSeconds' },
    });
  });

  it('refuses a top level that is not an object, and a group that is not one, naming its shape', () => {
    expect(typeErrorOf(() => readGroup(null, '', SCHEMA, ''))).toBe(
      'Invalid certbound options: expected an object',
    );
    expect(typeErrorOf(() => readGroup([1], 'tokenCache', SCHEMA, 'an object { max }'))).toBe(
      'Invalid certbound option: "tokenCache" must be an object { max }',
    );
  });

  it('refuses unknown names, with the group’s prefix', () => {
    expect(typeErrorOf(() => readGroup({ size: 1 }, 'tokenCache', SCHEMA, ''))).toBe(
      'Invalid certbound option: unknown option "tokenCache.size"',
    );
  });

  it('refuses names inherited by every object, which are not options', () => {
    expect(typeErrorOf(() => readGroup({ toString: 1 }, '', SCHEMA, ''))).toBe(
      'Invalid certbound option: unknown option "toString"',
    );
  });

  it('lets unknown names through when not strict (helpers reading their part of the options)', () => {
    expect(readGroup({ max: 1, issuer: 'x' }, '', SCHEMA, '', false)).toEqual({
      max: { value: 1, name: 'max' },
      maxTtlSeconds: { value: 60, name: 'maxTtlSeconds' },
    });
  });
});

describe('unknownOption', () => {
  const known = ['issuer', 'audience', 'clockToleranceSeconds'];

  it.each([
    ['a typo', 'isuer', 'Invalid certbound option: unknown option "isuer" (did you mean "issuer"?)'],
    [
      'the start of a known name',
      'clockTolerance',
      'Invalid certbound option: unknown option "clockTolerance" (did you mean "clockToleranceSeconds"?)',
    ],
    [
      'another case',
      'AUDIENCE',
      'Invalid certbound option: unknown option "AUDIENCE" (did you mean "audience"?)',
    ],
    ['a far-off name', 'store', 'Invalid certbound option: unknown option "store"'],
    ['an empty name', '', 'Invalid certbound option: unknown option ""'],
  ])('words the refusal of %s exactly', (_name, name, message) => {
    expect(typeErrorOf(() => unknownOption('', name, known))).toBe(message);
  });

  it('names the option and the suggestion with the group’s prefix', () => {
    expect(typeErrorOf(() => unknownOption('introspection', 'clientID', ['clientId', 'clientSecret']))).toBe(
      'Invalid certbound option: unknown option "introspection.clientID" (did you mean "introspection.clientId"?)',
    );
  });

  it('suggests nothing for a name longer than any option could be', () => {
    const name = `issuer${'x'.repeat(70)}`;
    expect(typeErrorOf(() => unknownOption('', name, known))).toBe(
      `Invalid certbound option: unknown option "${name}"`,
    );
  });
});

describe('did-you-mean suggestions for the verifier options', () => {
  it.each([
    [
      'audiance',
      { ...base, audiance: 'x' },
      'Invalid certbound option: unknown option "audiance" (did you mean "audience"?)',
    ],
    [
      'clockTolerance',
      { ...base, clockTolerance: 5 },
      'Invalid certbound option: unknown option "clockTolerance" (did you mean "clockToleranceSeconds"?)',
    ],
    [
      'introspection.clientID',
      { ...base, introspection: { clientID: 'a', clientSecret: 'b' } },
      'Invalid certbound option: unknown option "introspection.clientID" (did you mean "introspection.clientId"?)',
    ],
    [
      'tokenCache.mx',
      { ...base, tokenCache: { mx: 5 } },
      'Invalid certbound option: unknown option "tokenCache.mx" (did you mean "tokenCache.max"?)',
    ],
    [
      'certificate.trustedProxy',
      { ...base, certificate: { from: 'header', format: 'rfc9440', trustedProxy: ['10.0.0.1'] } },
      'Invalid certbound option: unknown option "certificate.trustedProxy" (did you mean "certificate.trustedProxies"?)',
    ],
  ])('suggests the option %s was meant to be', (_name, options, message) => {
    expect(typeErrorOf(() => createVerifier(options as never))).toBe(message);
  });

  it('suggests nothing for a name far from every option', () => {
    expect(typeErrorOf(() => createVerifier({ ...base, frobnicate: true } as never))).toBe(
      'Invalid certbound option: unknown option "frobnicate"',
    );
    expect(
      typeErrorOf(() =>
        createVerifier({ ...base, introspection: { clientId: 'a', clientSecret: 'b', zzz: 1 } } as never),
      ),
    ).toBe('Invalid certbound option: unknown option "introspection.zzz"');
  });
});
