import { checkCertificateBinding, InvalidTokenError } from '@certbound/core';
import { describe, expect, it } from 'vitest';
import {
  APPENDIX_A_DER as der,
  OTHER_THUMBPRINT as OTHER,
  APPENDIX_A_PEM as pem,
  APPENDIX_A_THUMBPRINT as THUMBPRINT,
} from './support/certificates.js';
import { CNF_MISMATCH, NEAR_MISSES } from './support/near-misses.js';
import { outcomeOf, rejectionOf } from './support/outcomes.js';

describe('checkCertificateBinding', () => {
  it('accepts claims bound to the certificate, given as PEM or DER', () => {
    const claims = { cnf: { 'x5t#S256': THUMBPRINT } };
    expect(checkCertificateBinding(claims, pem)).toBe(true);
    expect(checkCertificateBinding(claims, der)).toBe(true);
  });

  it('gives the verifier codes for every way the binding fails', () => {
    expect(
      outcomeOf(() => checkCertificateBinding({ cnf: { 'x5t#S256': OTHER } }, pem), InvalidTokenError),
    ).toBe('cnf_mismatch');
    expect(
      outcomeOf(() => checkCertificateBinding({ cnf: { 'x5t#S256': THUMBPRINT } }, null), InvalidTokenError),
    ).toBe('certificate_missing');
    expect(outcomeOf(() => checkCertificateBinding({}, pem), InvalidTokenError)).toBe('token_unbound');
    expect(
      outcomeOf(
        () => checkCertificateBinding({ cnf: { 'x5t#S256': `${THUMBPRINT}=` } }, pem),
        InvalidTokenError,
      ),
    ).toBe('cnf_malformed');
    expect(
      outcomeOf(() => checkCertificateBinding({ cnf: { jkt: THUMBPRINT } }, pem), InvalidTokenError),
    ).toBe('cnf_unsupported');
  });

  it('lets unbound claims pass under if-present', () => {
    expect(checkCertificateBinding({}, undefined, 'if-present')).toBe(false);
  });

  it('refuses an input that is not a certificate', () => {
    const message = 'checkCertificateBinding: the certificate is not a DER, PEM or X509Certificate';
    expect(() => checkCertificateBinding({}, 'not a certificate')).toThrow(new TypeError(message));
    expect(() => checkCertificateBinding({ cnf: { 'x5t#S256': THUMBPRINT } }, der.subarray(1))).toThrow(
      new TypeError(message),
    );
  });
});

describe('checkCertificateBinding against a confirmation close to the certificate’s thumbprint', () => {
  it.each(NEAR_MISSES)('rejects a confirmation that $name (cnf_mismatch)', (nearMiss) => {
    const claims = { cnf: { 'x5t#S256': nearMiss.from(THUMBPRINT) } };
    for (const certificate of [pem, der]) {
      const error = rejectionOf(() => checkCertificateBinding(claims, certificate));
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect(error).toMatchObject(CNF_MISMATCH);
    }
    expect(rejectionOf(() => checkCertificateBinding(claims, pem, 'if-present'))).toMatchObject(CNF_MISMATCH);
  });
});
