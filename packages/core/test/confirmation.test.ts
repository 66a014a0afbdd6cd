import { describe, expect, it } from 'vitest';
import { confirmationBytes, readConfirmation } from '../src/binding/confirmation.js';
import { InvalidTokenError } from '../src/errors.js';
import { APPENDIX_A_THUMBPRINT as THUMBPRINT } from './support/certificates.js';
import { outcomeOf } from './support/outcomes.js';

const codeOf = (run: () => unknown) => outcomeOf(run, InvalidTokenError);

describe('readConfirmation', () => {
  it('returns nothing when the token has no cnf', () => {
    expect(readConfirmation({})).toBeUndefined();
  });

  it('reads a canonical x5t#S256', () => {
    expect(readConfirmation({ cnf: { 'x5t#S256': THUMBPRINT } })).toEqual({ x5tS256: THUMBPRINT });
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
  ])('rejects cnf that is %s as cnf_malformed', (_name, cnf) => {
    expect(codeOf(() => readConfirmation({ cnf }))).toBe('cnf_malformed');
  });

  it.each([
    ['jkt (DPoP-bound, RFC 9449 §7.2)', { jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' }],
    ['jkt together with x5t#S256', { 'x5t#S256': THUMBPRINT, jkt: 'x' }],
    ['only unknown members', { x5t: 'abc' }],
    ['an unknown member beside x5t#S256', { 'x5t#S256': THUMBPRINT, kid: 'k' }],
  ])('fails closed on %s (cnf_unsupported)', (_name, cnf) => {
    expect(codeOf(() => readConfirmation({ cnf }))).toBe('cnf_unsupported');
  });

  it('ignores an inherited cnf', () => {
    const claims = Object.create({ cnf: { 'x5t#S256': THUMBPRINT } }) as Record<string, unknown>;
    expect(readConfirmation(claims)).toBeUndefined();
  });
});

describe('confirmationBytes', () => {
  it('keeps the confirmation as the ASCII bytes of the thumbprint', () => {
    expect(confirmationBytes({ cnf: { 'x5t#S256': THUMBPRINT } })).toEqual(Buffer.from(THUMBPRINT, 'ascii'));
  });

  it('returns nothing for an unbound token, and refuses what readConfirmation refuses', () => {
    expect(confirmationBytes({})).toBeUndefined();
    expect(codeOf(() => confirmationBytes({ cnf: { 'x5t#S256': `${THUMBPRINT}=` } }))).toBe('cnf_malformed');
    expect(codeOf(() => confirmationBytes({ cnf: { jkt: THUMBPRINT } }))).toBe('cnf_unsupported');
  });
});
