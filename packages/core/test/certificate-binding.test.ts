import { checkCertificateBinding, InvalidTokenError } from '@certbound/core';
import { describe, expect, it } from 'vitest';
import {
  APPENDIX_A_DER as der,
  OTHER_THUMBPRINT as OTHER,
  APPENDIX_A_PEM as pem,
  APPENDIX_A_THUMBPRINT as THUMBPRINT,
} from './support/certificates.js';
import { outcomeOf } from './support/outcomes.js';

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
    expect(() => checkCertificateBinding({}, 'not a certificate')).toThrow(TypeError);
  });
});
