/**
 * RFC 8705 §3.1 certificate thumbprints: `x5t#S256` = base64url(SHA-256(DER)), no padding, and
 * their comparison with a token's confirmation.
 */
import { hash, timingSafeEqual } from 'node:crypto';

/**
 * A canonical `x5t#S256` value: 43 base64url characters whose last one has zero padding bits
 * (SHA-256 is 32 bytes, so the last character carries 4 data bits).
 */
export const X5T_S256_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** Hashes DER bytes exactly as given. The caller has checked they are one certificate. */
export function thumbprintOfDer(der: Uint8Array): string {
  return hash('sha256', der, 'base64url');
}

/**
 * Compares a canonical confirmation value with a computed thumbprint, in constant time. Both must
 * already be 43 ASCII characters (the confirmation checked against {@link X5T_S256_PATTERN}).
 */
export function thumbprintsEqual(confirmation: Buffer, thumbprint: Buffer): boolean {
  return confirmation.length === thumbprint.length && timingSafeEqual(confirmation, thumbprint);
}
