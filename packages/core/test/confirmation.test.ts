import { describe, expect, it } from 'vitest';
import { bindingConfirmation, readConfirmation } from '../src/binding/confirmation.js';
import { InvalidTokenError } from '../src/errors.js';
import { OTHER_THUMBPRINT as JKT, APPENDIX_A_THUMBPRINT as THUMBPRINT } from './support/certificates.js';
import { outcomeOf } from './support/outcomes.js';

const codeOf = (run: () => unknown) => outcomeOf(run, InvalidTokenError);

describe('readConfirmation', () => {
  it('returns nothing when the token has no cnf', () => {
    expect(readConfirmation({})).toBeUndefined();
  });

  it('reads a canonical x5t#S256', () => {
    expect(readConfirmation({ cnf: { 'x5t#S256': THUMBPRINT } })).toEqual({ x5tS256: THUMBPRINT });
  });

  it('reads a canonical jkt (a DPoP-bound token, RFC 9449 §6.1)', () => {
    expect(readConfirmation({ cnf: { jkt: JKT } })).toEqual({ jkt: JKT });
  });

  it('has no member for what the token is not bound to (not even an undefined one)', () => {
    expect(Object.keys(readConfirmation({ cnf: { jkt: JKT } })!)).toEqual(['jkt']);
    expect(Object.keys(readConfirmation({ cnf: { 'x5t#S256': THUMBPRINT } })!)).toEqual(['x5tS256']);
  });

  it('reads both members of a token bound to the certificate and the DPoP key', () => {
    expect(readConfirmation({ cnf: { 'x5t#S256': THUMBPRINT, jkt: JKT } })).toEqual({
      x5tS256: THUMBPRINT,
      jkt: JKT,
    });
  });

  it.each([
    ['null', null],
    ['an array', [THUMBPRINT]],
    ['a string', THUMBPRINT],
    ['an empty object', {}],
    ['a padded value', { 'x5t#S256': `${THUMBPRINT}=` }],
    ['a standard-base64 value', { 'x5t#S256': THUMBPRINT.replace('y5v0', 'y5+0') }],
    ['a hex value', { 'x5t#S256': '0380ed2f626650c840b2f263e6d2b29fae12ab39ae5db32b25ad27efad72e6fd' }],
    ['a non-canonical last character', { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' }],
    ['a number', { 'x5t#S256': 42 }],
    // A one-element array reads as its element once turned into text: never a thumbprint.
    ['an array holding the thumbprint', { 'x5t#S256': [THUMBPRINT] }],
    ['an object whose text is the thumbprint', { 'x5t#S256': { toString: () => THUMBPRINT } }],
    ['a jkt array holding a thumbprint', { jkt: [JKT] }],
    ['a jkt that is not a thumbprint', { jkt: 'x' }],
    ['a padded jkt', { jkt: `${JKT}=` }],
    ['a jkt that is a number', { jkt: 42 }],
    ['a good x5t#S256 beside a malformed jkt', { 'x5t#S256': THUMBPRINT, jkt: 'x' }],
    ['a good jkt beside a malformed x5t#S256', { 'x5t#S256': `${THUMBPRINT}=`, jkt: JKT }],
  ])('rejects cnf that is %s as cnf_malformed', (_name, cnf) => {
    expect(codeOf(() => readConfirmation({ cnf }))).toBe('cnf_malformed');
  });

  it.each([
    ['only unknown members', { x5t: 'abc' }],
    ['an unknown member beside x5t#S256', { 'x5t#S256': THUMBPRINT, kid: 'k' }],
    ['an unknown member beside jkt', { jkt: JKT, jwk: { kty: 'EC' } }],
    ['an unknown member beside both', { 'x5t#S256': THUMBPRINT, jkt: JKT, kid: 'k' }],
  ])('fails closed on %s (cnf_unsupported)', (_name, cnf) => {
    expect(codeOf(() => readConfirmation({ cnf }))).toBe('cnf_unsupported');
  });

  it('ignores an inherited cnf', () => {
    const claims = Object.create({ cnf: { 'x5t#S256': THUMBPRINT } }) as Record<string, unknown>;
    expect(readConfirmation(claims)).toBeUndefined();
  });
});

describe('bindingConfirmation', () => {
  it('keeps the certificate thumbprint as its ASCII bytes', () => {
    expect(bindingConfirmation({ cnf: { 'x5t#S256': THUMBPRINT } })).toEqual({
      x5t: Buffer.from(THUMBPRINT, 'ascii'),
      jkt: undefined,
    });
  });

  it('keeps the DPoP key thumbprint as it is, alone or beside the certificate’s', () => {
    expect(bindingConfirmation({ cnf: { jkt: JKT } })).toEqual({ x5t: undefined, jkt: JKT });
    expect(bindingConfirmation({ cnf: { 'x5t#S256': THUMBPRINT, jkt: JKT } })).toEqual({
      x5t: Buffer.from(THUMBPRINT, 'ascii'),
      jkt: JKT,
    });
  });

  it('returns nothing for an unbound token, and refuses what readConfirmation refuses', () => {
    expect(bindingConfirmation({})).toBeUndefined();
    expect(codeOf(() => bindingConfirmation({ cnf: { 'x5t#S256': `${THUMBPRINT}=` } }))).toBe(
      'cnf_malformed',
    );
    expect(codeOf(() => bindingConfirmation({ cnf: { jkt: 'x' } }))).toBe('cnf_malformed');
    expect(codeOf(() => bindingConfirmation({ cnf: { x5t: THUMBPRINT } }))).toBe('cnf_unsupported');
  });
});
