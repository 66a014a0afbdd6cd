/**
 * Turns input bytes into one client certificate: DER, PEM, or the value of a proxy's
 * client-certificate header, decoded by `@certbound/core` exactly as the verifier decodes it.
 * Without `--format` the encoding is detected: DER (starts with a SEQUENCE, 0x30), PEM text,
 * else each header format in `HEADER_FORMATS` order, the first that decodes winning.
 */
import { X509Certificate } from 'node:crypto';
import {
  type CERTIFICATE_HEADER_REASONS,
  CertificateHeaderError,
  decodeCertificateHeader,
  HEADER_FORMATS,
  type HeaderFormat,
  x5tS256,
} from '@certbound/core';
import { CliError, UsageError } from './errors.js';
import { printable } from './format.js';

/** `der` for raw DER bytes, or one of the header formats (`pem` included). */
export type CertificateFormat = 'der' | HeaderFormat;

export const CERTIFICATE_FORMATS: readonly CertificateFormat[] = ['der', ...HEADER_FORMATS];

export interface ReadCertificate {
  der: Buffer;
  /** RFC 8705 §3.1 `x5t#S256`, from core's `x5tS256`. */
  thumbprint: string;
  /** Subject DN, RDNs joined with `, `, printable. */
  subject: string;
  /** The format that decoded the input. */
  format: CertificateFormat;
  /** When detected: other header formats the same input is also valid in (same certificate). */
  alsoValidAs: HeaderFormat[];
}

const REASONS: Record<(typeof CERTIFICATE_HEADER_REASONS)[number], string> = {
  'not-a-string': 'not text',
  'too-large': 'too large for one certificate',
  'not-rfc9440-byte-sequence': 'not an RFC 9440 byte sequence (:base64 DER:)',
  'base64-malformed': 'malformed base64',
  'percent-malformed': 'malformed percent-encoding',
  'pem-missing': 'no PEM block',
  'pem-malformed': 'malformed PEM',
  'pem-tab-folded':
    "PEM folded with tabs (nginx's deprecated $ssl_client_cert): use $ssl_client_escaped_cert",
  'pem-not-certificate': 'holds a PEM block that is not a CERTIFICATE (a private key?)',
  'pem-multiple-blocks': 'holds several PEM blocks: give only the client (leaf) certificate',
  'traefik-leaf-missing': 'no leaf certificate before the first comma',
  'xfcc-malformed': 'malformed x-forwarded-client-cert',
  'xfcc-unterminated-quote': 'unterminated quoted string',
  'xfcc-element-count': 'not exactly one element (each proxy hop appends one)',
  'xfcc-hop-out-of-range': 'fewer elements than trusted hops',
  'xfcc-duplicate-key': 'a key appears twice in the element',
  'xfcc-cert-missing': 'no Cert= in the element (Envoy: set_current_client_cert_details cert: true)',
  'xfcc-hash-malformed': 'Hash= is not 64 hex digits',
  'xfcc-hash-mismatch': 'Hash= does not match Cert=',
  'xfcc-chain-mismatch': 'Chain= does not start with Cert=',
  'not-a-certificate': 'decodes to bytes that are not exactly one X.509 certificate',
};

/** `--format`, checked: `undefined` means detect. */
export function parseFormat(value: string | undefined, usage: string): CertificateFormat | undefined {
  if (value === undefined) return undefined;
  if ((CERTIFICATE_FORMATS as readonly string[]).includes(value)) return value as CertificateFormat;
  throw new UsageError(`--format must be one of ${CERTIFICATE_FORMATS.join(', ')}`, usage);
}

function reasonText(error: CertificateHeaderError): string {
  return REASONS[error.reason as keyof typeof REASONS] ?? printable(error.reason);
}

function describe(der: Buffer, format: CertificateFormat, alsoValidAs: HeaderFormat[]): ReadCertificate {
  const subject = new X509Certificate(der).subject.split('\n').join(', ');
  return { der, thumbprint: x5tS256(der), subject: printable(subject), format, alsoValidAs };
}

function decodeAs(text: string, format: HeaderFormat, name: string): Buffer {
  try {
    return decodeCertificateHeader(text, format);
  } catch (error) {
    if (!(error instanceof CertificateHeaderError)) throw error;
    throw new CliError(`${name} is not a valid ${format} certificate: ${reasonText(error)}`);
  }
}

function decodeDer(bytes: Buffer, name: string): Buffer {
  try {
    x5tS256(bytes);
    return bytes;
  } catch {
    throw new CliError(`${name} is not a DER certificate: its bytes are not exactly one X.509 certificate`);
  }
}

/** Tries every header format in `HEADER_FORMATS` order; returns those that decode. */
function detectHeaderFormat(text: string): Array<[HeaderFormat, Buffer]> {
  const matches: Array<[HeaderFormat, Buffer]> = [];
  for (const format of HEADER_FORMATS) {
    try {
      matches.push([format, decodeCertificateHeader(text, format)]);
    } catch (error) {
      if (!(error instanceof CertificateHeaderError)) throw error;
    }
  }
  return matches;
}

/**
 * The certificate in `bytes` (named `name` in messages), in `format` or detected.
 *
 * @throws CliError (exit 2) when the input is not exactly one certificate in that format.
 */
export function readCertificate(
  bytes: Buffer,
  format: CertificateFormat | undefined,
  name: string,
): ReadCertificate {
  if (format === 'der') return describe(decodeDer(bytes, name), 'der', []);
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  if (format !== undefined) return describe(decodeAs(text, format, name), format, []);

  if (bytes[0] === 0x30) return describe(decodeDer(bytes, name), 'der', []);
  // `-----BEGIN ` with its space: URL-encoded PEM (`-----BEGIN%20`) is a header format.
  if (text.trimStart().startsWith('-----BEGIN ')) return describe(decodeAs(text, 'pem', name), 'pem', []);
  const [first, ...others] = detectHeaderFormat(text);
  if (first === undefined) {
    throw new CliError(
      `no certificate found in ${name}: not PEM, DER or a value in any header format ` +
        `(${HEADER_FORMATS.join(', ')}); pass --format to see why it does not decode`,
    );
  }
  return describe(
    first[1],
    first[0],
    others.map(([other]) => other),
  );
}
