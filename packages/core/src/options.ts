/**
 * The options object shared by `createVerifier` and every adapter, validated once at start-up.
 * Every problem throws a TypeError naming the option: `Invalid certbound option: "<name>" must be …`.
 */
import type { JSONWebKeySet } from 'jose';
import type { BindingMode } from './binding.js';
import { DEFAULT_HEADER_NAMES, HEADER_FORMATS, type HeaderFormat } from './client-certificate/decoders.js';
import { trustedProxyMatcher } from './client-certificate/trusted-proxies.js';
import type { OutboundTlsOptions } from './http-client.js';
import {
  type IntrospectionOptions,
  type NormalizedIntrospection,
  normalizeIntrospection,
} from './introspection-options.js';
import {
  DEFAULT_ACCEPTED_TYP,
  DEFAULT_ALGORITHMS,
  DEFAULT_REQUIRED_CLAIMS,
  normalizeTyp,
  SUPPORTED_ALGORITHMS,
} from './jwt.js';
import {
  fail,
  httpsUrl,
  isRecord,
  nonEmptyString,
  oneOf,
  positiveNumber,
  stringList,
} from './option-checks.js';
import {
  type ProtectedResourceEndpoint,
  type ProtectedResourceOptions,
  protectedResourceEndpoint,
} from './resource-metadata.js';
import {
  DEFAULT_TOKEN_CACHE_MAX,
  DEFAULT_TOKEN_CACHE_MAX_TTL_SECONDS,
  type TokenCacheOptions,
} from './token-cache.js';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS } from './token-time.js';

/** Default timeout of each request to the authorization server, milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5_000;
/** Largest clock tolerance accepted, seconds (RFC 9068 §4: "no more than a few minutes"). */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;
/** Longest timeout accepted for calls to the authorization server, milliseconds. */
export const MAX_TIMEOUT_MS = 300_000;
/** Shortest HMAC secret accepted for HS* algorithms, bytes (RFC 8725 §3.5). */
export const MIN_SECRET_BYTES = 32;

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

/** The certificate source with defaults applied. */
export type NormalizedCertificateSource =
  | { from: 'tls' }
  | {
      from: 'header';
      format: HeaderFormat;
      header: string;
      trustedProxies: string[];
      trustedAppendingHops: number | undefined;
    };

export interface CertboundOptions {
  /** The authorization server's issuer identifier, compared exactly with `iss`. Required. */
  issuer: string;
  /** This resource's identifier(s); a token's `aud` must contain at least one. Required. */
  audience: string | string[];
  /** The issuer's JWK Set URL. Default: `jwks_uri` from the issuer's metadata (RFC 8414 / OIDC). */
  jwksUri?: string;
  /** A local JWK Set instead of fetching one. */
  jwks?: JSONWebKeySet;
  /** Accepted JWS algorithms. Default: asymmetric ones only; `none` is never accepted. */
  algorithms?: string[];
  /** HMAC secret (≥ 32 bytes), only with HS* `algorithms` (and then only HS*). */
  secret?: string | Uint8Array;
  /** Leeway for `exp`, `nbf` and `iat`, seconds. Default 5, at most 300. */
  clockToleranceSeconds?: number;
  /**
   * `auto` (default): JWT-shaped tokens are validated locally, others introspected (when
   * `introspection` is set). `jwt`: only JWTs. `opaque`: every token is introspected.
   */
  tokenFormat?: 'auto' | 'jwt' | 'opaque';
  /** RFC 7662 introspection of opaque tokens. */
  introspection?: IntrospectionOptions;
  /** TLS options for every connection to the authorization server. */
  tls?: OutboundTlsOptions;
  /** `required` (default): every token must carry `cnf["x5t#S256"]`. `if-present`: unbound tokens pass. */
  binding?: BindingMode;
  /** Where the client certificate comes from. Default `{ from: 'tls' }`. */
  certificate?: CertificateSourceOptions;
  /** `realm` of `WWW-Authenticate` challenges. Default `api`. */
  realm?: string;
  /**
   * `resource_metadata` of challenges (RFC 9728 §5.1): this resource's metadata URL. Defaults to
   * the URL of the document `protectedResource` describes, when that is set.
   */
  resourceMetadata?: string;
  /** RFC 9728 Protected Resource Metadata: adapters serve it and challenges point to it. */
  protectedResource?: ProtectedResourceOptions;
  /** JWT `typ` values accepted (case-insensitive, `application/` optional). Default `['at+jwt']`. */
  acceptedTyp?: string[];
  /** Claims a JWT must carry. Default RFC 9068's `iss exp aud sub client_id iat jti`. */
  requiredClaims?: string[];
  /** Timeout of each request to the authorization server (discovery, JWKS), ms. Default 5000. */
  timeoutMs?: number;
  /** The memo of validated tokens; `false` validates every request from scratch. */
  tokenCache?: Partial<TokenCacheOptions> | false;
}

export interface NormalizedOptions {
  issuer: string;
  audience: string[];
  jwksUri: string | undefined;
  jwks: JSONWebKeySet | undefined;
  algorithms: string[];
  secret: Uint8Array | undefined;
  clockToleranceSeconds: number;
  tokenFormat: 'auto' | 'jwt' | 'opaque';
  introspection: NormalizedIntrospection | undefined;
  tls: OutboundTlsOptions;
  binding: BindingMode;
  certificate: NormalizedCertificateSource;
  realm: string | undefined;
  resourceMetadata: string | undefined;
  protectedResource: ProtectedResourceEndpoint | undefined;
  acceptedTyp: string[];
  requiredClaims: string[];
  timeoutMs: number;
  tokenCache: TokenCacheOptions | false;
}

const KNOWN_OPTIONS = new Set<string>([
  'issuer',
  'audience',
  'jwksUri',
  'jwks',
  'algorithms',
  'secret',
  'clockToleranceSeconds',
  'tokenFormat',
  'introspection',
  'tls',
  'binding',
  'certificate',
  'realm',
  'resourceMetadata',
  'protectedResource',
  'acceptedTyp',
  'requiredClaims',
  'timeoutMs',
  'tokenCache',
]);

const PRINTABLE = /^[\x20-\x7E]*$/;

function algorithmsOf(options: Record<string, unknown>): {
  algorithms: string[];
  secret: Uint8Array | undefined;
} {
  const algorithms =
    options.algorithms === undefined ? [...DEFAULT_ALGORITHMS] : stringList(options.algorithms, 'algorithms');
  if (algorithms.some((alg) => alg.toLowerCase() === 'none'))
    fail('algorithms', 'signature algorithms ("none" is never accepted)');
  for (const alg of algorithms) {
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
      fail(
        'algorithms',
        `JWS algorithms among ${SUPPORTED_ALGORITHMS.join(', ')} (got ${JSON.stringify(alg)})`,
      );
    }
  }
  const symmetric = algorithms.filter((alg) => /^HS(256|384|512)$/.test(alg));
  if (symmetric.length === 0) {
    if (options.secret !== undefined) fail('secret', 'used only with HS256, HS384 or HS512 "algorithms"');
    return { algorithms, secret: undefined };
  }
  if (symmetric.length !== algorithms.length) {
    fail('algorithms', 'either all asymmetric or all HMAC (HS*), never both (RFC 8725 §2.1)');
  }
  const secret =
    typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
  if (!(secret instanceof Uint8Array) || secret.byteLength < MIN_SECRET_BYTES) {
    fail(
      'secret',
      `a string or Uint8Array of at least ${MIN_SECRET_BYTES} bytes when HS* algorithms are used`,
    );
  }
  if (options.jwks !== undefined || options.jwksUri !== undefined)
    fail('secret', 'not combined with "jwks" or "jwksUri"');
  return { algorithms, secret };
}

function tokenCacheOf(value: unknown): TokenCacheOptions | false {
  if (value === false) return false;
  if (value === undefined)
    return { max: DEFAULT_TOKEN_CACHE_MAX, maxTtlSeconds: DEFAULT_TOKEN_CACHE_MAX_TTL_SECONDS };
  if (!isRecord(value)) fail('tokenCache', 'false or an object { max, maxTtlSeconds }');
  return {
    max: positiveNumber(value.max, 'tokenCache.max', DEFAULT_TOKEN_CACHE_MAX, true),
    maxTtlSeconds: positiveNumber(
      value.maxTtlSeconds,
      'tokenCache.maxTtlSeconds',
      DEFAULT_TOKEN_CACHE_MAX_TTL_SECONDS,
    ),
  };
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CERTIFICATE_KEYS = new Set(['from', 'format', 'header', 'trustedProxies', 'trustedAppendingHops']);

function certificateOf(value: unknown): NormalizedCertificateSource {
  if (value === undefined) return { from: 'tls' };
  if (!isRecord(value)) fail('certificate', "an object such as { from: 'tls' }");
  for (const name of Object.keys(value)) {
    if (!CERTIFICATE_KEYS.has(name))
      throw new TypeError(`Invalid certbound option: unknown option "certificate.${name}"`);
  }
  if (value.from === 'tls') {
    if (Object.keys(value).length > 1)
      fail('certificate', "just { from: 'tls' } when the certificate comes from TLS");
    return { from: 'tls' };
  }
  if (value.from !== 'header') fail('certificate.from', '"tls" or "header"');
  if (value.format === undefined)
    fail('certificate.format', `one of ${HEADER_FORMATS.map((f) => `"${f}"`).join(', ')}`);
  const format = oneOf(value.format, 'certificate.format', HEADER_FORMATS, 'rfc9440');
  const header =
    value.header === undefined
      ? DEFAULT_HEADER_NAMES[format]
      : nonEmptyString(value.header, 'certificate.header');
  if (!HEADER_NAME.test(header)) fail('certificate.header', 'a header field name');
  if (!Array.isArray(value.trustedProxies) || value.trustedProxies.length === 0) {
    fail(
      'certificate.trustedProxies',
      'a non-empty array of IP addresses or CIDR ranges (the proxies allowed to set the header)',
    );
  }
  const trustedProxies = value.trustedProxies.map((entry) =>
    typeof entry === 'string' ? entry : fail('certificate.trustedProxies', 'made of strings'),
  );
  trustedProxyMatcher(trustedProxies); // throws for an invalid entry
  let trustedAppendingHops: number | undefined;
  if (value.trustedAppendingHops !== undefined) {
    if (format !== 'xfcc') fail('certificate.trustedAppendingHops', 'used only with format "xfcc"');
    const hops = value.trustedAppendingHops;
    if (typeof hops !== 'number' || !Number.isInteger(hops) || hops < 0 || hops > 16) {
      fail('certificate.trustedAppendingHops', 'an integer from 0 to 16');
    }
    trustedAppendingHops = hops;
  }
  return { from: 'header', format, header: header.toLowerCase(), trustedProxies, trustedAppendingHops };
}

function tlsOf(value: unknown): OutboundTlsOptions {
  if (value === undefined) return {};
  if (!isRecord(value)) fail('tls', 'an object { ca?, cert?, key? }');
  const pem = (v: unknown) => typeof v === 'string' || Buffer.isBuffer(v);
  if (value.ca !== undefined && !pem(value.ca) && !(Array.isArray(value.ca) && value.ca.every(pem))) {
    fail('tls.ca', 'a PEM string, a Buffer, or an array of them');
  }
  if (value.cert !== undefined && !pem(value.cert)) fail('tls.cert', 'a PEM string or Buffer');
  if (value.key !== undefined && !pem(value.key)) fail('tls.key', 'a PEM string or Buffer');
  if ((value.cert === undefined) !== (value.key === undefined))
    fail('tls', 'given both "cert" and "key", or neither');
  return value as OutboundTlsOptions;
}

/** Validates the options and fills in defaults. Throws a TypeError naming the first bad option. */
export function normalizeOptions(input: unknown): NormalizedOptions {
  if (!isRecord(input)) throw new TypeError('Invalid certbound options: expected an object');
  for (const name of Object.keys(input)) {
    if (!KNOWN_OPTIONS.has(name)) throw new TypeError(`Invalid certbound option: unknown option "${name}"`);
  }
  const options = input;
  const issuer = httpsUrl(options.issuer, 'issuer');
  if (issuer.includes('?')) fail('issuer', 'a URL without a query (RFC 8414 §2)');
  const audience = stringList(options.audience, 'audience');
  const binding = oneOf(options.binding, 'binding', ['required', 'if-present'] as const, 'required');
  const protectedResource =
    options.protectedResource === undefined
      ? undefined
      : protectedResourceEndpoint(options.protectedResource, { issuer, binding });
  if (options.jwks !== undefined && options.jwksUri !== undefined)
    fail('jwks', 'not combined with "jwksUri"');
  if (options.jwks !== undefined && !(isRecord(options.jwks) && Array.isArray(options.jwks.keys))) {
    fail('jwks', 'a JWK Set { keys: [...] }');
  }
  const tokenFormat = oneOf(options.tokenFormat, 'tokenFormat', ['auto', 'jwt', 'opaque'] as const, 'auto');
  const clockToleranceSeconds =
    options.clockToleranceSeconds === undefined
      ? DEFAULT_CLOCK_TOLERANCE_SECONDS
      : options.clockToleranceSeconds;
  if (
    typeof clockToleranceSeconds !== 'number' ||
    !Number.isFinite(clockToleranceSeconds) ||
    clockToleranceSeconds < 0 ||
    clockToleranceSeconds > MAX_CLOCK_TOLERANCE_SECONDS
  ) {
    fail('clockToleranceSeconds', `a number of seconds from 0 to ${MAX_CLOCK_TOLERANCE_SECONDS}`);
  }
  const realm = options.realm === undefined ? undefined : nonEmptyString(options.realm, 'realm');
  if (realm !== undefined && !PRINTABLE.test(realm)) fail('realm', 'printable ASCII');
  const acceptedTyp = (
    options.acceptedTyp === undefined
      ? [...DEFAULT_ACCEPTED_TYP]
      : stringList(options.acceptedTyp, 'acceptedTyp')
  ).map(normalizeTyp);
  const requiredClaims =
    options.requiredClaims === undefined
      ? [...DEFAULT_REQUIRED_CLAIMS]
      : Array.isArray(options.requiredClaims) &&
          options.requiredClaims.every((c) => typeof c === 'string' && c !== '')
        ? [...(options.requiredClaims as string[])]
        : fail('requiredClaims', 'an array of claim names');
  const timeoutMs = positiveNumber(options.timeoutMs, 'timeoutMs', DEFAULT_TIMEOUT_MS, true, MAX_TIMEOUT_MS);
  const tls = tlsOf(options.tls);
  if (tokenFormat === 'opaque' && options.introspection === undefined) {
    fail('introspection', 'configured with tokenFormat "opaque"');
  }
  if (tokenFormat === 'jwt' && options.introspection !== undefined) {
    fail('introspection', 'left out with tokenFormat "jwt" (it would never be used)');
  }
  const introspection =
    options.introspection === undefined
      ? undefined
      : normalizeIntrospection(options.introspection, {
          timeoutMs,
          hasClientCertificate: tls.cert !== undefined,
        });
  return {
    issuer,
    audience,
    jwksUri: options.jwksUri === undefined ? undefined : httpsUrl(options.jwksUri, 'jwksUri'),
    jwks: options.jwks as JSONWebKeySet | undefined,
    ...algorithmsOf(options),
    clockToleranceSeconds,
    tokenFormat,
    introspection,
    tls,
    binding,
    certificate: certificateOf(options.certificate),
    realm,
    resourceMetadata:
      options.resourceMetadata === undefined
        ? protectedResource?.url
        : httpsUrl(options.resourceMetadata, 'resourceMetadata'),
    protectedResource,
    acceptedTyp,
    requiredClaims,
    timeoutMs,
    tokenCache: tokenCacheOf(options.tokenCache),
  };
}
