import { describe, expect, it } from 'vitest';
import { checkBinding } from '../src/binding/binding.js';
import { confirmationBytes } from '../src/binding/confirmation.js';
import { presentedCertificate } from '../src/client-certificate/presented.js';
import { InvalidTokenError } from '../src/errors.js';
import { X5T_S256_PATTERN } from '../src/thumbprint.js';
import {
  APPENDIX_A_DER,
  OTHER_THUMBPRINT as OTHER,
  APPENDIX_A_THUMBPRINT as THUMBPRINT,
} from './support/certificates.js';
import { CNF_MISMATCH, NEAR_MISSES } from './support/near-misses.js';
import { outcomeOf, rejectionOf } from './support/outcomes.js';

const certificate = presentedCertificate(APPENDIX_A_DER);
const codeOf = (run: () => unknown) => outcomeOf(run, InvalidTokenError);

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

describe('checkBinding against a confirmation close to the certificate’s thumbprint', () => {
  it.each(NEAR_MISSES)('rejects a confirmation that $name (cnf_mismatch)', (nearMiss) => {
    const confirmation = nearMiss.from(certificate.thumbprint);
    expect(confirmation).toMatch(X5T_S256_PATTERN);
    expect(confirmation).not.toBe(certificate.thumbprint);
    const bytes = confirmationBytes({ cnf: { 'x5t#S256': confirmation } });
    for (const mode of ['required', 'if-present'] as const) {
      const error = rejectionOf(() => checkBinding(bytes, certificate, mode));
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect(error).toMatchObject(CNF_MISMATCH);
    }
  });

  it('accepts the certificate’s exact thumbprint read the same way', () => {
    const bytes = confirmationBytes({ cnf: { 'x5t#S256': certificate.thumbprint } });
    expect(checkBinding(bytes, certificate, 'required')).toBe(true);
  });
});
