/**
 * The certificate-header formats (docs/architecture.md#header-formats; docs/proxies.md, decoding
 * rules): each decoder turns one header value into the leaf certificate's DER, exactly as sent, or
 * throws a {@link CertificateHeaderError}. Pure functions: trust, repeats and emptiness are the
 * caller's.
 */
import { decodeAwsAlb } from './aws-alb.js';
import { decodeBase64Der } from './base64-der.js';
import { MAX_CHAIN_HEADER_LENGTH } from './header-encoding.js';
import { decodePem } from './pem.js';
import { decodeRfc9440 } from './rfc9440.js';
import { decodeTraefik } from './traefik.js';
import { decodeUrlPem } from './url-pem.js';
import { decodeXfcc } from './xfcc.js';

export type HeaderFormat = 'rfc9440' | 'xfcc' | 'url-pem' | 'aws-alb' | 'traefik' | 'base64-der' | 'pem';

export const HEADER_FORMATS: readonly HeaderFormat[] = Object.freeze([
  'rfc9440',
  'xfcc',
  'url-pem',
  'aws-alb',
  'traefik',
  'base64-der',
  'pem',
] as const);

/** Default header names (lower case): docs/architecture.md#header-formats. */
export const DEFAULT_HEADER_NAMES: Record<HeaderFormat, string> = Object.freeze({
  rfc9440: 'client-cert',
  xfcc: 'x-forwarded-client-cert',
  'url-pem': 'x-ssl-client-cert',
  'aws-alb': 'x-amzn-mtls-clientcert-leaf',
  traefik: 'x-forwarded-tls-client-cert',
  'base64-der': 'x-arr-clientcert',
  pem: 'x-ssl-client-cert',
});

export interface DecodeOptions {
  /** xfcc: take the element appended by the n-th trusted hop from the end (0 = last) instead of requiring exactly one element. */
  trustedAppendingHops?: number;
  /** aws-alb passthrough header (x-amzn-mtls-clientcert): the value is a chain, leaf first; use the first PEM block. Otherwise exactly one block. */
  chain?: boolean;
}

/**
 * Decodes one header value (a single field line, already known non-empty after trimming SP/HTAB)
 * into the leaf certificate's DER, exactly as sent. Throws CertificateHeaderError for anything
 * else, never another error type.
 */
export type HeaderDecoder = (value: string, options?: DecodeOptions) => Buffer;

export const HEADER_DECODERS: Record<HeaderFormat, HeaderDecoder> = Object.freeze({
  rfc9440: decodeRfc9440,
  xfcc: decodeXfcc,
  'url-pem': decodeUrlPem,
  'aws-alb': decodeAwsAlb,
  traefik: decodeTraefik,
  'base64-der': decodeBase64Der,
  pem: decodePem,
});

/**
 * Upper bound of a header value accepted before any decoding (characters; header values are
 * latin1, so bytes): 64 KiB, the largest per-format cap. Each decoder then applies its own first:
 * 16 KiB for one certificate (`rfc9440`, `base64-der`, `url-pem`, `pem`, `aws-alb` verify mode,
 * and Traefik's first element), 64 KiB where a chain may come along (`xfcc`, `traefik`, `aws-alb`
 * with `chain`) — docs/proxies.md, decoding rule 4.
 */
export const MAX_CERTIFICATE_HEADER_LENGTH: number = MAX_CHAIN_HEADER_LENGTH;

/**
 * Decodes one certificate header value in `format` (what a proxy sends) into the leaf
 * certificate's DER. For tools and tests: requests go through `certificate: { from: 'header' }`,
 * which also checks the peer is a trusted proxy.
 *
 * @throws CertificateHeaderError (its `reason` says why) for anything but one well-formed value.
 */
export function decodeCertificateHeader(
  value: string,
  format: HeaderFormat,
  options?: DecodeOptions,
): Buffer {
  return HEADER_DECODERS[format](value.trim(), options);
}
