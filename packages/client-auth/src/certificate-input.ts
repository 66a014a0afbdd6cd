/**
 * The certificate a client presented, as DER bytes. The inputs and their strictness are those of
 * `x5tS256` in `@certbound/core` (exactly one DER certificate, or one PEM `CERTIFICATE` block),
 * read with `node:crypto` alone: this package does not load the resource-server core.
 */
import { X509Certificate } from 'node:crypto';

/** A certificate as `verifyClientCertificate` accepts it: DER bytes, a PEM string or an `X509Certificate`. */
export type CertificateInput = Uint8Array | string | X509Certificate;

const PEM_CERTIFICATE = /^-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\r\n ]+)-----END CERTIFICATE-----$/;
const BASE64_BODY = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Decodes one PEM `CERTIFICATE` block (RFC 7468 §5.1) strictly: one block, nothing around it but
 * whitespace, a body of the base64 alphabet, line breaks and spaces (Apache folds lines into
 * spaces); TAB-folded (obsolete) PEM is refused. Returns `undefined` otherwise.
 */
function pemToDer(pem: string): Buffer | undefined {
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
 * The DER of a certificate input, or `undefined` if it is not exactly one well-formed certificate
 * (no trailing bytes, no alternative encoding).
 */
export function certificateDer(certificate: CertificateInput): Buffer | undefined {
  if (certificate instanceof X509Certificate) return certificate.raw;
  const bytes = typeof certificate === 'string' ? pemToDer(certificate) : certificate;
  if (!(bytes instanceof Uint8Array)) return undefined;
  const der = toBuffer(bytes);
  try {
    return new X509Certificate(der).raw.equals(der) ? der : undefined;
  } catch {
    return undefined;
  }
}
