import { readFileSync } from 'node:fs';
import {
  CertificateHeaderError,
  checkCertificateBinding,
  decodeCertificateHeader,
  InvalidTokenError,
  x5tS256,
} from '@certbound/core';
import { describe, expect, it } from 'vitest';

const pem = readFileSync(new URL('./fixtures/rfc8705-appendix-a.pem', import.meta.url), 'utf8');
const THUMBPRINT = 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0';
const OTHER = 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0';
const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    return (error as InvalidTokenError).code;
  }
  return undefined;
}

describe('checkCertificateBinding', () => {
  it('accepts claims bound to the certificate, given as PEM or DER', () => {
    const claims = { cnf: { 'x5t#S256': THUMBPRINT } };
    expect(checkCertificateBinding(claims, pem)).toBe(true);
    expect(checkCertificateBinding(claims, der)).toBe(true);
  });

  it('gives the verifier codes for every way the binding fails', () => {
    expect(codeOf(() => checkCertificateBinding({ cnf: { 'x5t#S256': OTHER } }, pem))).toBe('cnf_mismatch');
    expect(codeOf(() => checkCertificateBinding({ cnf: { 'x5t#S256': THUMBPRINT } }, null))).toBe(
      'certificate_missing',
    );
    expect(codeOf(() => checkCertificateBinding({}, pem))).toBe('token_unbound');
    expect(codeOf(() => checkCertificateBinding({ cnf: { 'x5t#S256': `${THUMBPRINT}=` } }, pem))).toBe(
      'cnf_malformed',
    );
    expect(codeOf(() => checkCertificateBinding({ cnf: { jkt: THUMBPRINT } }, pem))).toBe('cnf_unsupported');
  });

  it('lets unbound claims pass under if-present', () => {
    expect(checkCertificateBinding({}, undefined, 'if-present')).toBe(false);
  });

  it('refuses an input that is not a certificate', () => {
    expect(() => checkCertificateBinding({}, 'not a certificate')).toThrow(TypeError);
  });
});

describe('decodeCertificateHeader', () => {
  it('decodes what proxies send to the same certificate', () => {
    expect(x5tS256(decodeCertificateHeader(`:${der.toString('base64')}:`, 'rfc9440'))).toBe(THUMBPRINT);
    expect(x5tS256(decodeCertificateHeader(encodeURIComponent(pem), 'url-pem'))).toBe(THUMBPRINT);
    expect(x5tS256(decodeCertificateHeader(der.toString('base64'), 'base64-der'))).toBe(THUMBPRINT);
  });

  it('throws a CertificateHeaderError with a reason for a malformed value', () => {
    try {
      decodeCertificateHeader('not-a-certificate', 'rfc9440');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CertificateHeaderError);
      expect((error as CertificateHeaderError).reason).toMatch(/\w/);
    }
  });
});
