import { createVerifier, type Verifier } from '@certbound/core';
import { assertVerifierSource, createsVerifier, isVerifier, resolveVerifier } from '@certbound/core/adapter';
import { afterAll, describe, expect, it } from 'vitest';
import { VERIFIER } from '../src/verifier.js';

const options = { issuer: 'https://as.example.com', audience: 'https://api.example.com', jwks: { keys: [] } };
const verifiers: Verifier[] = [];

function verifierFor(): Verifier {
  const verifier = createVerifier(options);
  verifiers.push(verifier);
  return verifier;
}

afterAll(() => Promise.all(verifiers.map((verifier) => verifier.close())));

describe('isVerifier and resolveVerifier', () => {
  it('is recognised by isVerifier and passed through by resolveVerifier', () => {
    const verifier = verifierFor();
    expect(isVerifier(verifier)).toBe(true);
    expect(isVerifier({})).toBe(false);
    expect(resolveVerifier(verifier)).toBe(verifier);
  });

  it('recognises a verifier from another copy of the module by its brand, and nothing else', () => {
    expect(isVerifier({ [VERIFIER]: true })).toBe(true);
    expect(isVerifier({ [Symbol('certbound.verifier')]: true })).toBe(false);
    expect(isVerifier(null)).toBe(false);
    expect(isVerifier('verifier')).toBe(false);
  });

  it('unwraps { verifier } and creates a verifier from options', () => {
    const verifier = verifierFor();
    expect(resolveVerifier({ verifier })).toBe(verifier);
    const created = resolveVerifier(options);
    verifiers.push(created);
    expect(isVerifier(created)).toBe(true);
    expect(created).not.toBe(verifier);
  });
});

describe('createsVerifier', () => {
  it('says the adapter owns the verifier only when it is made from options', () => {
    const verifier = verifierFor();
    expect(createsVerifier(options)).toBe(true);
    expect(createsVerifier(verifier)).toBe(false);
    expect(createsVerifier({ verifier })).toBe(false);
  });
});

describe('assertVerifierSource', () => {
  it('throws the TypeError createVerifier would throw, for options only', () => {
    expect(() => assertVerifierSource({ ...options, audience: [] })).toThrow(
      new TypeError('Invalid certbound option: "audience" must be a non-empty string or array of strings'),
    );
    expect(() => assertVerifierSource(options)).not.toThrow();
    expect(() => assertVerifierSource(verifierFor())).not.toThrow();
  });
});
