/**
 * The error every certificate-header decoder throws. The header is then unusable and the request
 * has no certificate (one source, no fallback: docs/architecture.md#one-certificate-source), so a
 * bound token fails with 401 `invalid_token` / `certificate_missing` (RFC 8705 §3).
 */
import { InvalidTokenError } from '../errors.js';

/**
 * Every reason a decoder gives. Short constants for diagnostics and tests; a reason never contains
 * any part of the header value.
 */
export const CERTIFICATE_HEADER_REASONS = [
  'not-a-string',
  'too-large',
  'not-rfc9440-byte-sequence',
  'base64-malformed',
  'percent-malformed',
  'pem-missing',
  'pem-malformed',
  'pem-tab-folded',
  'pem-not-certificate',
  'pem-multiple-blocks',
  'traefik-leaf-missing',
  'xfcc-malformed',
  'xfcc-unterminated-quote',
  'xfcc-element-count',
  'xfcc-hop-out-of-range',
  'xfcc-duplicate-key',
  'xfcc-cert-missing',
  'xfcc-hash-malformed',
  'xfcc-hash-mismatch',
  'xfcc-chain-mismatch',
  'not-a-certificate',
] as const;

export type CertificateHeaderReason = (typeof CERTIFICATE_HEADER_REASONS)[number];

/**
 * A certificate header that cannot be used: the request has no certificate
 * (docs/architecture.md#one-certificate-source).
 */
export class CertificateHeaderError extends InvalidTokenError {
  override name = 'CertificateHeaderError';
  /** Why the header was refused: one of {@link CERTIFICATE_HEADER_REASONS}, never the header value. */
  readonly reason: string;

  constructor(reason: string) {
    super('certificate_missing', { cause: new Error(reason) });
    this.reason = reason;
  }
}

/** Throws a {@link CertificateHeaderError} for a known reason. */
export function refuse(reason: CertificateHeaderReason): never {
  throw new CertificateHeaderError(reason);
}
