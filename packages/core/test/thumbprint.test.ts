import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { certificateBytes, pemToDer, x5tS256 } from '../src/certificate-input.js';
import { X5T_S256_PATTERN } from '../src/thumbprint.js';

const pem = readFileSync(new URL('./fixtures/rfc8705-appendix-a.pem', import.meta.url), 'utf8');
/** RFC 8705 Appendix A: the expected `x5t#S256` of the (expired) example certificate. */
const EXPECTED = 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0';
const der = pemToDer(pem)!;

describe('x5tS256', () => {
  it('gives the RFC 8705 Appendix A value for the PEM certificate', () => {
    expect(x5tS256(pem)).toBe(EXPECTED);
  });

  it('gives the same value for DER bytes, a Uint8Array view and an X509Certificate', () => {
    expect(x5tS256(der)).toBe(EXPECTED);
    expect(x5tS256(new Uint8Array(der))).toBe(EXPECTED);
    expect(x5tS256(new X509Certificate(der))).toBe(EXPECTED);
  });

  it('binds an expired certificate: validity is not its concern (RFC 8705 §6.2)', () => {
    expect(new Date(new X509Certificate(der).validTo).getTime()).toBeLessThan(Date.now());
    expect(x5tS256(der)).toBe(EXPECTED);
  });

  it('is 43 canonical base64url characters without padding', () => {
    expect(EXPECTED).toMatch(X5T_S256_PATTERN);
    expect(x5tS256(pem)).not.toContain('=');
  });

  it('accepts PEM with CRLF line breaks or with line breaks folded into spaces (Apache)', () => {
    expect(x5tS256(pem.replace(/\n/g, '\r\n'))).toBe(EXPECTED);
    const body = pem.split('\n').slice(1, -2).join(' ');
    expect(x5tS256(`-----BEGIN CERTIFICATE----- ${body} -----END CERTIFICATE-----`)).toBe(EXPECTED);
  });

  it.each([
    ['TAB-folded PEM (nginx $ssl_client_cert)', pem.replace(/\n(?=[A-Za-z0-9+/])/g, '\n\t')],
    ['two PEM blocks', pem + pem],
    ['a private key block', pem.replace(/CERTIFICATE/g, 'PRIVATE KEY')],
    ['PEM with a character outside base64', pem.replace('MIIBBjCB', 'MIIB*jCB')],
    ['empty string', ''],
  ])('rejects %s', (_name, input) => {
    expect(() => x5tS256(input)).toThrow(TypeError);
  });

  it('rejects DER with trailing bytes, truncated DER and random bytes', () => {
    expect(() => x5tS256(Buffer.concat([der, Buffer.from([0])]))).toThrow(TypeError);
    expect(() => x5tS256(der.subarray(0, der.length - 1))).toThrow(TypeError);
    expect(() => x5tS256(Buffer.from('not a certificate'))).toThrow(TypeError);
    expect(certificateBytes(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('X5T_S256_PATTERN (canonical confirmation values)', () => {
  it.each([
    ['padded', `${EXPECTED}=`],
    ['standard base64 alphabet', 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v+'],
    ['non-canonical last character (same bytes)', 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v1'],
    ['hex', '0380ed2f626650c840b2f263e6d2b29fae12ab39ae5db32b25ad27efad72e6fd'],
    ['too short', EXPECTED.slice(1)],
    ['with whitespace', ` ${EXPECTED}`],
  ])('refuses %s', (_name, value) => {
    expect(X5T_S256_PATTERN.test(value)).toBe(false);
  });
});
