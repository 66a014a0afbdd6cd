/**
 * Certificates as callers give them (DER bytes, a PEM string, an `X509Certificate`): strict
 * decoding into exactly one certificate's DER, with a memo of byte strings already checked, and
 * the public `x5tS256()`.
 */
import { X509Certificate } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { thumbprintOfDer } from './thumbprint.js';

/** A certificate as `verify` and `x5tS256` accept it. */
export type CertificateInput = Uint8Array | string | X509Certificate;

/** Certificates remembered as checked (by thumbprint): a memo, not a trust decision. */
const CHECKED_CERTIFICATES_MAX = 1024;
const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\r\n ]+)-----END CERTIFICATE-----$/;
const BASE64_BODY = /^[A-Za-z0-9+/]+={0,2}$/;

/** Thumbprints of DER byte strings already checked to be exactly one certificate. */
const checkedCertificates = new LRUCache<string, true>({ max: CHECKED_CERTIFICATES_MAX });

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
