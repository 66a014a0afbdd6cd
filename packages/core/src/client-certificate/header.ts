/**
 * The client certificate from a header set by a trusted TLS-terminating proxy (RFC 8705 §6.5,
 * RFC 9440). One configured source, no fallback: a header that is absent, empty, repeated,
 * too large, malformed or sent by any peer not listed in `trustedProxies` means the request has no
 * certificate (the socket's certificate is never used instead: behind an mTLS proxy it is the
 * proxy's own). Ignored headers are reported on {@link CERTIFICATE_HEADER_CHANNEL}.
 */
import { LRUCache } from 'lru-cache';
import { reportIgnoredCertificateHeader } from '../diagnostics.js';
import { fieldLines } from '../field-lines.js';
import {
  type DecodeOptions,
  HEADER_DECODERS,
  type HeaderFormat,
  MAX_CERTIFICATE_HEADER_LENGTH,
} from './decoders.js';
import { CertificateHeaderError } from './header-error.js';
import { type PresentedCertificate, presentedCertificate } from './presented.js';
import type { IsTrustedProxy } from './trusted-proxies.js';

/** Header values already decoded, so the hot path does not parse a certificate again. */
const DECODED_HEADERS_MAX = 1024;
/** ... and the bound of their memory, bytes (a value is at most 64 KiB: 64 of the largest). */
const DECODED_HEADERS_MAX_BYTES = 4 * 1024 * 1024;
/** ALB passthrough mode: the whole client chain, leaf first. */
const AWS_ALB_PASSTHROUGH_HEADER = 'x-amzn-mtls-clientcert';

export interface HeaderSourceOptions {
  format: HeaderFormat;
  /** Lower-case header name. */
  header: string;
  isTrustedProxy: IsTrustedProxy;
  trustedAppendingHops: number | undefined;
}

type HeaderRequest = {
  rawHeaders?: readonly string[];
  socket?: { remoteAddress?: string } | null;
};

/** Strips SP and HTAB at both ends (no regex: linear on any input). */
function trimSpaces(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 0x20 || value.charCodeAt(start) === 0x09)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 0x20 || value.charCodeAt(end - 1) === 0x09)) end--;
  return value.slice(start, end);
}

/** Builds the header source from the normalized `certificate` option. */
export function headerCertificateSource(
  options: HeaderSourceOptions,
): (req: HeaderRequest) => PresentedCertificate | undefined {
  const isTrusted = options.isTrustedProxy;
  const decode = HEADER_DECODERS[options.format];
  const decodeOptions: DecodeOptions = {
    trustedAppendingHops: options.trustedAppendingHops,
    chain: options.format === 'aws-alb' && options.header === AWS_ALB_PASSTHROUGH_HEADER,
  };
  const decoded = new LRUCache<string, PresentedCertificate>({
    max: DECODED_HEADERS_MAX,
    maxSize: DECODED_HEADERS_MAX_BYTES,
    // The value (latin1 text) and the DER it decodes to.
    sizeCalculation: (certificate, value) => value.length + certificate.der.length,
  });
  const header = options.header;

  return (req) => {
    const lines = fieldLines(req, header);
    if (lines.length === 0) return undefined;
    const peer = req.socket?.remoteAddress;
    const ignore = (reason: string) => {
      reportIgnoredCertificateHeader({ reason, header, peer });
      return undefined;
    };
    if (!isTrusted(peer)) return ignore('untrusted-peer');
    if (lines.length > 1) return ignore('repeated');
    const line = lines[0]!;
    if (line.length > MAX_CERTIFICATE_HEADER_LENGTH) return ignore('too-large');
    const value = trimSpaces(line);
    if (value === '') return undefined; // an empty expansion (HAProxy, nginx) means no certificate
    const known = decoded.get(value);
    if (known !== undefined) return known;
    try {
      const certificate = presentedCertificate(decode(value, decodeOptions));
      decoded.set(value, certificate);
      return certificate;
    } catch (error) {
      return ignore(error instanceof CertificateHeaderError ? error.reason : 'undecodable');
    }
  };
}
