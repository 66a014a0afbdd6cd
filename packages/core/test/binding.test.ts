import { describe, expect, it } from 'vitest';
import { type BindingInput, type BindingMode, checkBinding, decideBinding } from '../src/binding/binding.js';
import { type BindingConfirmation, bindingConfirmation } from '../src/binding/confirmation.js';
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
    const bytes = bindingConfirmation({ cnf: { 'x5t#S256': confirmation } })!.x5t;
    for (const mode of ['required', 'if-present'] as const) {
      const error = rejectionOf(() => checkBinding(bytes, certificate, mode));
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect(error).toMatchObject(CNF_MISMATCH);
    }
  });

  it('accepts the certificate’s exact thumbprint read the same way', () => {
    const bytes = bindingConfirmation({ cnf: { 'x5t#S256': certificate.thumbprint } })!.x5t;
    expect(checkBinding(bytes, certificate, 'required')).toBe(true);
  });
});

/** The DPoP key thumbprint tokens below are bound to, and the key of a proof made with another key. */
const JKT = OTHER;
const OTHER_JKT = THUMBPRINT;

const CONFIRMATIONS: Record<'unbound' | 'x5t' | 'jkt' | 'both', BindingConfirmation | undefined> = {
  unbound: undefined,
  x5t: { x5t: Buffer.from(certificate.thumbprint, 'ascii'), jkt: undefined },
  jkt: { x5t: undefined, jkt: JKT },
  both: { x5t: Buffer.from(certificate.thumbprint, 'ascii'), jkt: JKT },
};

const DPOP_SETTINGS = { off: undefined, on: { required: false }, required: { required: true } } as const;

/**
 * The decision for a request with the certificate the token names (if any) and, under the DPoP
 * scheme, a verified proof of the key the token names (of `JKT` for a token bound to no key).
 */
function decide(overrides: Partial<BindingInput>): string {
  const input: BindingInput = {
    confirmation: undefined,
    dpopTokenType: false,
    scheme: 'Bearer',
    certificate,
    proofJkt: undefined,
    mode: 'required',
    dpop: DPOP_SETTINGS.on,
    ...overrides,
  };
  try {
    return String(decideBinding(input));
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenError);
    return (error as InvalidTokenError).code;
  }
}

describe('decideBinding (the whole decision matrix)', () => {
  /** [token, scheme, mode, outcome with DPoP off, on, required]; `true`/`false` is whether the token is bound. */
  const MATRIX: [keyof typeof CONFIRMATIONS, 'Bearer' | 'DPoP', BindingMode, string, string, string][] = [
    ['unbound', 'Bearer', 'required', 'token_unbound', 'token_unbound', 'token_unbound'],
    ['unbound', 'Bearer', 'if-present', 'false', 'false', 'token_unbound'],
    ['unbound', 'DPoP', 'required', 'dpop_key_mismatch', 'dpop_key_mismatch', 'dpop_key_mismatch'],
    ['unbound', 'DPoP', 'if-present', 'dpop_key_mismatch', 'dpop_key_mismatch', 'dpop_key_mismatch'],
    ['x5t', 'Bearer', 'required', 'true', 'true', 'token_unbound'],
    ['x5t', 'Bearer', 'if-present', 'true', 'true', 'token_unbound'],
    ['x5t', 'DPoP', 'required', 'dpop_key_mismatch', 'dpop_key_mismatch', 'dpop_key_mismatch'],
    ['x5t', 'DPoP', 'if-present', 'dpop_key_mismatch', 'dpop_key_mismatch', 'dpop_key_mismatch'],
    ['jkt', 'Bearer', 'required', 'cnf_unsupported', 'dpop_scheme_required', 'dpop_scheme_required'],
    ['jkt', 'Bearer', 'if-present', 'cnf_unsupported', 'dpop_scheme_required', 'dpop_scheme_required'],
    ['jkt', 'DPoP', 'required', 'cnf_unsupported', 'true', 'true'],
    ['jkt', 'DPoP', 'if-present', 'cnf_unsupported', 'true', 'true'],
    ['both', 'Bearer', 'required', 'cnf_unsupported', 'dpop_scheme_required', 'dpop_scheme_required'],
    ['both', 'Bearer', 'if-present', 'cnf_unsupported', 'dpop_scheme_required', 'dpop_scheme_required'],
    ['both', 'DPoP', 'required', 'cnf_unsupported', 'true', 'true'],
    ['both', 'DPoP', 'if-present', 'cnf_unsupported', 'true', 'true'],
  ];

  it.each(MATRIX)(
    'decides a %s token under %s, binding %s: %s with DPoP off, %s on, %s required',
    (token, scheme, mode, off, on, required) => {
      const proofJkt = scheme === 'DPoP' ? JKT : undefined;
      const confirmation = CONFIRMATIONS[token];
      expect({
        off: decide({ confirmation, scheme, mode, proofJkt, dpop: DPOP_SETTINGS.off }),
        on: decide({ confirmation, scheme, mode, proofJkt, dpop: DPOP_SETTINGS.on }),
        required: decide({ confirmation, scheme, mode, proofJkt, dpop: DPOP_SETTINGS.required }),
      }).toEqual({ off, on, required });
    },
  );

  it('refuses a DPoP-bound token whose proof is made with another key, or with no verified proof', () => {
    for (const confirmation of [CONFIRMATIONS.jkt, CONFIRMATIONS.both]) {
      for (const mode of ['required', 'if-present'] as const) {
        expect(decide({ confirmation, scheme: 'DPoP', mode, proofJkt: OTHER_JKT })).toBe('dpop_key_mismatch');
        expect(decide({ confirmation, scheme: 'DPoP', mode, proofJkt: undefined })).toBe('dpop_key_mismatch');
      }
    }
  });

  it('refuses a jkt that differs from the proof key in one letter’s case', () => {
    const flipped = JKT.replace(/[a-z]/, (letter) => letter.toUpperCase());
    expect(flipped).not.toBe(JKT);
    expect(decide({ confirmation: CONFIRMATIONS.jkt, scheme: 'DPoP', proofJkt: flipped })).toBe(
      'dpop_key_mismatch',
    );
  });

  it('refuses a proof key thumbprint of another length as dpop_key_mismatch, never with a RangeError', () => {
    // timingSafeEqual throws on buffers of different lengths: the length check comes first.
    for (const proofJkt of [JKT.slice(0, 16), `${JKT}A`, '']) {
      expect(decide({ confirmation: CONFIRMATIONS.jkt, scheme: 'DPoP', proofJkt })).toBe('dpop_key_mismatch');
    }
  });

  it('needs the certificate too for a token bound to both (RFC 8705 §3 after RFC 9449 §7.1)', () => {
    const both = { confirmation: CONFIRMATIONS.both, scheme: 'DPoP' as const, proofJkt: JKT };
    const other = presentedCertificate(APPENDIX_A_DER, OTHER);
    for (const mode of ['required', 'if-present'] as const) {
      expect(decide({ ...both, mode, certificate: undefined })).toBe('certificate_missing');
      expect(decide({ ...both, mode, certificate: other })).toBe('cnf_mismatch');
    }
  });

  it('treats an introspected token_type DPoP as DPoP-bound, even without cnf.jkt', () => {
    const dpopType = { dpopTokenType: true, confirmation: undefined };
    expect(decide({ ...dpopType, dpop: DPOP_SETTINGS.off })).toBe('cnf_unsupported');
    expect(decide({ ...dpopType, scheme: 'Bearer' })).toBe('dpop_scheme_required');
    expect(decide({ ...dpopType, scheme: 'Bearer', mode: 'if-present' })).toBe('dpop_scheme_required');
    // No jkt to compare the proof key with: never bound to it.
    expect(decide({ ...dpopType, scheme: 'DPoP', proofJkt: JKT })).toBe('dpop_key_mismatch');
    expect(
      decide({ dpopTokenType: true, confirmation: CONFIRMATIONS.jkt, scheme: 'DPoP', proofJkt: JKT }),
    ).toBe('true');
  });

  it('says in token_unbound which binding the API asks for: a certificate, a DPoP key, or either', () => {
    const unboundAs = (confirmation: BindingConfirmation | undefined, dpop: BindingInput['dpop']) =>
      rejectionOf(() =>
        decideBinding({
          confirmation,
          dpopTokenType: false,
          scheme: 'Bearer',
          certificate,
          proofJkt: undefined,
          mode: 'required',
          dpop,
        }),
      );
    const refusal = (description: string) => ({
      status: 401,
      error: 'invalid_token',
      code: 'token_unbound',
      description,
    });
    expect(unboundAs(undefined, DPOP_SETTINGS.off)).toMatchObject(
      refusal('A certificate-bound access token is required'),
    );
    expect(unboundAs(undefined, DPOP_SETTINGS.on)).toMatchObject(
      refusal('A certificate-bound or DPoP-bound access token is required'),
    );
    // Under dpop.required a certificate-bound token is not what the API asks for either.
    for (const confirmation of [undefined, CONFIRMATIONS.x5t]) {
      expect(unboundAs(confirmation, DPOP_SETTINGS.required)).toMatchObject(
        refusal('A DPoP-bound access token is required'),
      );
    }
  });

  it('refuses with the whole 401 of a DPoP-bound token sent as Bearer', () => {
    const error = rejectionOf(() =>
      decideBinding({
        confirmation: CONFIRMATIONS.jkt,
        dpopTokenType: false,
        scheme: 'Bearer',
        certificate: undefined,
        proofJkt: undefined,
        mode: 'required',
        dpop: { required: false },
      }),
    );
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({
      status: 401,
      error: 'invalid_token',
      code: 'dpop_scheme_required',
      description: 'The access token is DPoP-bound and must be sent with the DPoP scheme',
    });
  });
});
