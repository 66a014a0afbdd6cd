/**
 * RFC 8705 §3.1 certificate thumbprints: `x5t#S256` = base64url(SHA-256(DER)), no padding.
 */
import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';

/** A certificate as `verify` and `x5tS256` accept it. */
export type CertificateInput = Uint8Array | string | X509Certificate;

/**
 * A canonical `x5t#S256` value: 43 base64url characters whose last one has zero padding bits
 * (SHA-256 is 32 bytes, so the last character carries 4 data bits).
 */
export const X5T_S256_PATTERN = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\r\n ]+)-----END CERTIFICATE-----$/;
const BASE64_BODY = /^[A-Za-z0-9+/]+={0,2}$/;

/** Hashes DER bytes exactly as given. The caller has checked they are one certificate. */
export function thumbprintOfDer(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/**
 * Decodes one PEM `CERTIFICATE` block strictly: one block, nothing around it but whitespace, a
 * body of the base64 alphabet, line breaks and
 * spaces (Apache folds lines into spaces); TAB-folded (obsolete) PEM is refused. Returns `undefined` otherwise.
 */
export function pemToDer(pem: string): Buffer | undefined {
  const match = PEM_CERTIFICATE.exec(pem.trim());
  if (!match?.[1]) return undefined;
  const body = match[1].replace(/[\r\n ]+/g, '');
  if (!BASE64_BODY.test(body) || body.length % 4 !== 0) return undefined;
  return Buffer.from(body, 'base64');
}

/**
 * Checks that `der` is exactly one well-formed certificate (no trailing bytes, no alternative
 * encoding) and returns it as a Buffer, or `undefined`.
 */
export function parseCertificateDer(der: Uint8Array): Buffer | undefined {
  const bytes = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    const parsed = new X509Certificate(bytes);
    return parsed.raw.equals(bytes) ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** The DER of a certificate input, or `undefined` if it is not exactly one certificate. */
export function certificateDer(certificate: CertificateInput): Buffer | undefined {
  if (certificate instanceof X509Certificate) return certificate.raw;
  if (typeof certificate === 'string') {
    const der = pemToDer(certificate);
    return der && parseCertificateDer(der);
  }
  if (certificate instanceof Uint8Array) return parseCertificateDer(certificate);
  return undefined;
}

/**
 * The RFC 8705 §3.1 thumbprint (`x5t#S256`) of a certificate given as DER bytes, a PEM string or
 * an `X509Certificate`: base64url of the SHA-256 of the DER encoding, without padding.
 *
 * @throws TypeError if the input is not exactly one certificate.
 * @example
 * x5tS256(fs.readFileSync('client.pem', 'utf8')) // 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0'
 */
export function x5tS256(certificate: CertificateInput): string {
  const der = certificateDer(certificate);
  if (der === undefined) {
    throw new TypeError('x5tS256: the input is not a DER, PEM or X509Certificate certificate');
  }
  return thumbprintOfDer(der);
}

/**
 * Compares a canonical confirmation value with a computed thumbprint, in constant time. Both must
 * already be 43 ASCII characters (the confirmation checked against {@link X5T_S256_PATTERN}).
 */
export function thumbprintsEqual(confirmation: Buffer, thumbprint: Buffer): boolean {
  return confirmation.length === thumbprint.length && timingSafeEqual(confirmation, thumbprint);
}
