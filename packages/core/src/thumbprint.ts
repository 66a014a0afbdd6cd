/**
 * RFC 8705 §3.1 certificate thumbprints: `x5t#S256` = base64url(SHA-256(DER)), no padding.
 */
import { hash, timingSafeEqual, X509Certificate } from 'node:crypto';
import { LRUCache } from 'lru-cache';

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
  return hash('sha256', der, 'base64url');
}

/** Thumbprints of DER byte strings already checked to be exactly one certificate. */
const checkedCertificates = new LRUCache<string, true>({ max: 1024 });

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

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Checks that `der` is exactly one well-formed certificate (no trailing bytes, no alternative
 * encoding) and returns it as a Buffer, or `undefined`.
 */
export function parseCertificateDer(der: Uint8Array): Buffer | undefined {
  const bytes = toBuffer(der);
  try {
    const parsed = new X509Certificate(bytes);
    return parsed.raw.equals(bytes) ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** A certificate's DER bytes with their `x5t#S256`. */
export interface CertificateBytes {
  der: Buffer;
  thumbprint: string;
}

/**
 * The DER and thumbprint of a certificate input, or `undefined` if it is not exactly one
 * certificate. Byte strings seen before (by hash) are not parsed again.
 */
export function certificateBytes(certificate: CertificateInput): CertificateBytes | undefined {
  if (certificate instanceof X509Certificate) {
    const der = certificate.raw;
    return { der, thumbprint: thumbprintOfDer(der) };
  }
  const bytes = typeof certificate === 'string' ? pemToDer(certificate) : certificate;
  if (!(bytes instanceof Uint8Array)) return undefined;
  const thumbprint = thumbprintOfDer(bytes);
  if (checkedCertificates.has(thumbprint)) return { der: toBuffer(bytes), thumbprint };
  const der = parseCertificateDer(bytes);
  if (der === undefined) return undefined;
  checkedCertificates.set(thumbprint, true);
  return { der, thumbprint };
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
  const bytes = certificateBytes(certificate);
  if (bytes === undefined) {
    throw new TypeError('x5tS256: the input is not a DER, PEM or X509Certificate certificate');
  }
  return bytes.thumbprint;
}

/**
 * Compares a canonical confirmation value with a computed thumbprint, in constant time. Both must
 * already be 43 ASCII characters (the confirmation checked against {@link X5T_S256_PATTERN}).
 */
export function thumbprintsEqual(confirmation: Buffer, thumbprint: Buffer): boolean {
  return confirmation.length === thumbprint.length && timingSafeEqual(confirmation, thumbprint);
}
