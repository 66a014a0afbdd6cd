/** The `certificate` option group: where the client certificate comes from. */
import { DEFAULT_HEADER_NAMES, HEADER_FORMATS, type HeaderFormat } from '../client-certificate/decoders.js';
import { type IsTrustedProxy, trustedProxyMatcher } from '../client-certificate/trusted-proxies.js';
import { fail, integerIn, isRecord, nonEmptyString, optional, type Reader } from './checks.js';
import { readGroup, unknownOption } from './schema.js';

/** Where the client certificate comes from: the TLS socket, or a header set by a trusted proxy. */
export type CertificateSourceOptions =
  | { from: 'tls' }
  | {
      from: 'header';
      /** How the proxy encodes the certificate. */
      format: HeaderFormat;
      /** The header name. Default: the format's usual one (see the docs). */
      header?: string;
      /** Addresses or CIDR ranges of the immediate peers allowed to set the header. Required. */
      trustedProxies: string[];
      /** `xfcc` only: take the element appended by the n-th trusted hop from the end. */
      trustedAppendingHops?: number;
    };

/** The certificate source as the verifier uses it. */
export type NormalizedCertificateSource =
  | { from: 'tls' }
  | {
      from: 'header';
      format: HeaderFormat;
      /** Lower case. */
      header: string;
      /** Whether an immediate peer's address is one of `trustedProxies` (parsed once, here). */
      isTrustedProxy: IsTrustedProxy;
      trustedAppendingHops: number | undefined;
    };

type HeaderSourceOptions = Extract<CertificateSourceOptions, { from: 'header' }>;

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const readFormat: Reader<HeaderFormat> = (value, name) => {
  if (!HEADER_FORMATS.includes(value as HeaderFormat)) {
    fail(name, `one of ${HEADER_FORMATS.map((f) => `"${f}"`).join(', ')}`);
  }
  return value as HeaderFormat;
};

const readHeaderName: Reader<string | undefined> = optional((value, name) => {
  const header = nonEmptyString(value, name);
  if (!HEADER_NAME.test(header)) fail(name, 'a header field name');
  return header.toLowerCase();
});

const readTrustedProxies: Reader<IsTrustedProxy> = (value, name) => {
  if (!Array.isArray(value) || value.length === 0) {
    fail(name, 'a non-empty array of IP addresses or CIDR ranges (the proxies allowed to set the header)');
  }
  return trustedProxyMatcher(
    value.map((entry) => (typeof entry === 'string' ? entry : fail(name, 'made of strings'))),
  );
};

const HEADER_SOURCE_OPTIONS = {
  from: (value: unknown) => value as 'header',
  format: readFormat,
  header: readHeaderName,
  trustedProxies: readTrustedProxies,
  trustedAppendingHops: optional(integerIn(0, 0, 16)),
} satisfies Record<keyof HeaderSourceOptions, Reader<unknown>>;

/** Reads `certificate`. */
export const readCertificateSource: Reader<NormalizedCertificateSource> = (value, name) => {
  if (value === undefined) return { from: 'tls' };
  if (!isRecord(value)) fail(name, "an object such as { from: 'tls' }");
  for (const member of Object.keys(value)) {
    if (!Object.hasOwn(HEADER_SOURCE_OPTIONS, member))
      unknownOption(name, member, Object.keys(HEADER_SOURCE_OPTIONS));
  }
  if (value.from === 'tls') {
    if (Object.keys(value).length > 1) fail(name, "just { from: 'tls' } when the certificate comes from TLS");
    return { from: 'tls' };
  }
  if (value.from !== 'header') fail(`${name}.from`, '"tls" or "header"');
  const o = readGroup(value, name, HEADER_SOURCE_OPTIONS, '');
  if (o.trustedAppendingHops !== undefined && o.format !== 'xfcc') {
    fail(`${name}.trustedAppendingHops`, 'used only with format "xfcc"');
  }
  return {
    from: 'header',
    format: o.format,
    header: o.header ?? DEFAULT_HEADER_NAMES[o.format],
    isTrustedProxy: o.trustedProxies,
    trustedAppendingHops: o.trustedAppendingHops,
  };
};
