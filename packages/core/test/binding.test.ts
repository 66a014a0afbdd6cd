import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkBinding } from '../src/binding/binding.js';
import { readConfirmation } from '../src/binding/confirmation.js';
import { pemToDer } from '../src/certificate-input.js';
import { presentedCertificate } from '../src/client-certificate/presented.js';
import { InvalidTokenError } from '../src/errors.js';

const der = pemToDer(readFileSync(new URL('./fixtures/rfc8705-appendix-a.pem', import.meta.url), 'utf8'))!;
const certificate = presentedCertificate(der);
const THUMBPRINT = 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0';
const OTHER = 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    return (error as InvalidTokenError).code;
  }
  return undefined;
}

describe('readConfirmation', () => {
  it('returns nothing when the token has no cnf', () => {
    expect(readConfirmation({})).toBeUndefined();
  });

  it('reads a canonical x5t#S256', () => {
    expect(readConfirmation({ cnf: { 'x5t#S256': THUMBPRINT } })?.x5tS256).toBe(THUMBPRINT);
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

describe('checkBinding (decision matrix)', () => {
  const bound = Buffer.from(THUMBPRINT);
  const other = Buffer.from(OTHER);

  it('allows an unbound token only under if-present', () => {
    expect(checkBinding(undefined, certificate, 'if-present')).toBe(false);
    expect(checkBinding(undefined, undefined, 'if-present')).toBe(false);
    expect(codeOf(() => checkBinding(undefined, certificate, 'required'))).toBe('token_unbound');
  });

  it('allows a bound token with the matching certificate in both modes', () => {
    expect(checkBinding(bound, certificate, 'required')).toBe(true);
    expect(checkBinding(bound, certificate, 'if-present')).toBe(true);
  });

  it('rejects a bound token without a certificate in both modes (certificate_missing)', () => {
    expect(codeOf(() => checkBinding(bound, undefined, 'required'))).toBe('certificate_missing');
    expect(codeOf(() => checkBinding(bound, undefined, 'if-present'))).toBe('certificate_missing');
  });

  it('rejects a bound token with another certificate in both modes (cnf_mismatch)', () => {
    expect(codeOf(() => checkBinding(other, certificate, 'required'))).toBe('cnf_mismatch');
    expect(codeOf(() => checkBinding(other, certificate, 'if-present'))).toBe('cnf_mismatch');
  });
});
