/**
 * The options object shared by `createVerifier` and every adapter, read once at start-up by the
 * schema below (the one list of option names). Every problem throws a TypeError naming the
 * option: `Invalid certbound option: "<name>" must be …`.
 */
import type { JSONWebKeySet } from 'jose';
import type { OutboundTlsOptions } from '../authorization-server/http-client.js';
import type { BindingMode } from '../binding/binding.js';
import { DEFAULT_ACCEPTED_TYP, DEFAULT_REQUIRED_CLAIMS, normalizeTyp } from '../jwt/jwt-rules.js';
import { DEFAULT_JWKS_MAX_AGE_SECONDS } from '../jwt/remote-key-set.js';
import { protectedResourceEndpoint } from '../resource-metadata.js';
import {
  DEFAULT_TOKEN_CACHE_MAX,
  DEFAULT_TOKEN_CACHE_MAX_BYTES,
  DEFAULT_TOKEN_CACHE_MAX_TTL_SECONDS,
  type TokenCacheOptions,
} from '../token/token-memo.js';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS } from '../token/token-time.js';
import { type CertificateSourceOptions, readCertificateSource } from './certificate-options.js';
import {
  fail,
  httpsUrl,
  isRecord,
  nonEmptyString,
  oneOf,
  optional,
  positiveNumber,
  type Reader,
  stringList,
  withDefault,
} from './checks.js';
import { type DpopOptions, readDpop } from './dpop-options.js';
import { type IntrospectionOptions, readIntrospection } from './introspection-options.js';
import {
  type IssuerOptions,
  readAlgorithms,
  readIssuer,
  readIssuers,
  readJwks,
  resolveIssuers,
} from './issuer-options.js';
import { type ProtectedResourceOptions, readProtectedResource } from './protected-resource-options.js';
import { type Normalized, readGroup } from './schema.js';

/** Default timeout of each request to the authorization server, milliseconds. */
export const DEFAULT_TIMEOUT_MS = 5_000;
/** Largest clock tolerance accepted, seconds (RFC 9068 §4: "no more than a few minutes"). */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;
/** Longest timeout accepted for calls to the authorization server, milliseconds. */
export const MAX_TIMEOUT_MS = 300_000;
/** Shortest HMAC secret accepted for HS* algorithms, bytes (RFC 8725 §3.5). */
export const MIN_SECRET_BYTES = 32;

export interface CertboundOptions {
  /**
   * The authorization server's issuer identifier, compared exactly with `iss`. Required, unless
   * `issuers` lists several (exactly one of the two).
   */
  issuer?: string;
  /**
   * Several authorization servers for JWT access tokens, instead of `issuer`: the token's `iss`
   * selects exactly one entry, whose keys alone verify it. Not with `introspection`.
   */
  issuers?: IssuerOptions[];
  /** This resource's identifier(s); a token's `aud` must contain at least one. Required (per issuer or here). */
  audience?: string | string[];
  /** The issuer's JWK Set URL. Default: `jwks_uri` from the issuer's metadata (RFC 8414 / OIDC). */
  jwksUri?: string;
  /** A local JWK Set instead of fetching one. */
  jwks?: JSONWebKeySet;
  /**
   * Longest reuse of the fetched JWK Set, seconds: a key the issuer removes stops verifying new
   * tokens within this time (and validations made with it are forgotten). Default 300.
   */
  jwksMaxAgeSeconds?: number;
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
  /**
   * `required` (default): every token must be sender-constrained, bound to the client certificate
   * (`cnf["x5t#S256"]`) or to a DPoP key (`cnf.jkt`). `if-present`: unbound tokens pass too.
   * Bound tokens are always enforced.
   */
  binding?: BindingMode;
  /**
   * DPoP-bound tokens (RFC 9449) beside certificate-bound ones: on by default with the defaults of
   * {@link DpopOptions}; `false` turns DPoP off (a `cnf.jkt` token then fails closed).
   */
  dpop?: DpopOptions | false;
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
  /**
   * The memo of validated tokens (`max` entries, default 10000; `maxBytes` of memory, default
   * 32 MiB; `maxTtlSeconds`, default 300); `false` validates every request from scratch.
   */
  tokenCache?: Partial<TokenCacheOptions> | false;
}

/** The secret as bytes; its length is checked against the algorithms below. */
const readSecret: Reader<Uint8Array | undefined> = optional((value, name) => {
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return value;
  return fail(
    name,
    `a string or Uint8Array of at least ${MIN_SECRET_BYTES} bytes when HS* algorithms are used`,
  );
});

const readClockTolerance: Reader<number> = withDefault(
  () => DEFAULT_CLOCK_TOLERANCE_SECONDS,
  (value, name) => {
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < 0 ||
      value > MAX_CLOCK_TOLERANCE_SECONDS
    ) {
      fail(name, `a number of seconds from 0 to ${MAX_CLOCK_TOLERANCE_SECONDS}`);
    }
    return value;
  },
);

/** PEM text (`-----BEGIN …`), as a string or Buffer; a file path gets a message saying to read it. */
function checkPem(value: unknown, name: string, what: string): void {
  if (typeof value !== 'string' && !Buffer.isBuffer(value)) fail(name, what);
  const text = typeof value === 'string' ? value : value.subarray(0, 4096).toString('latin1');
  if (text.includes('-----BEGIN ')) return;
  if (typeof value === 'string' && !text.includes('\n') && text.length < 1024) {
    fail(
      name,
      `PEM text, not a file name: read the file first (fs.readFileSync(${JSON.stringify(text)}, 'utf8'))`,
    );
  }
  fail(name, `${what} in PEM form (-----BEGIN …)`);
}

const readTls: Reader<OutboundTlsOptions> = (value, name) => {
  if (value === undefined) return {};
  if (!isRecord(value)) fail(name, 'an object { ca?, cert?, key? }');
  if (value.ca !== undefined) {
    const what = 'a PEM string, a Buffer, or an array of them';
    for (const ca of Array.isArray(value.ca) ? value.ca : [value.ca]) checkPem(ca, `${name}.ca`, what);
  }
  if (value.cert !== undefined) checkPem(value.cert, `${name}.cert`, 'a PEM string or Buffer');
  if (value.key !== undefined) checkPem(value.key, `${name}.key`, 'a PEM string or Buffer');
  if ((value.cert === undefined) !== (value.key === undefined))
    fail(name, 'given both "cert" and "key", or neither');
  return value as OutboundTlsOptions;
};

const readRealm: Reader<string | undefined> = optional((value, name) => {
  const realm = nonEmptyString(value, name);
  if (!/^[\x20-\x7E]*$/.test(realm)) fail(name, 'printable ASCII');
  return realm;
});

const readRequiredClaims: Reader<string[]> = withDefault(
  () => [...DEFAULT_REQUIRED_CLAIMS],
  (value, name) =>
    Array.isArray(value) && value.every((c) => typeof c === 'string' && c !== '')
      ? [...(value as string[])]
      : fail(name, 'an array of claim names'),
);

const TOKEN_CACHE_OPTIONS = {
  max: positiveNumber(DEFAULT_TOKEN_CACHE_MAX, { integer: true }),
  maxTtlSeconds: positiveNumber(DEFAULT_TOKEN_CACHE_MAX_TTL_SECONDS),
  maxBytes: positiveNumber(DEFAULT_TOKEN_CACHE_MAX_BYTES, { integer: true }),
} satisfies Record<keyof TokenCacheOptions, Reader<unknown>>;

const readTokenCache: Reader<TokenCacheOptions | false> = (value, name) =>
  value === false
    ? false
    : readGroup(
        value ?? {},
        name,
        TOKEN_CACHE_OPTIONS,
        'false or an object { max, maxTtlSeconds, maxBytes }',
      );

/** Every option: its name, default, check and normalized value (groups that need the others are finished below). */
const VERIFIER_OPTIONS = {
  issuer: optional(readIssuer),
  issuers: optional(readIssuers),
  audience: optional(stringList),
  jwksUri: optional(httpsUrl),
  jwks: optional(readJwks),
  jwksMaxAgeSeconds: positiveNumber(DEFAULT_JWKS_MAX_AGE_SECONDS, { max: 86_400 }),
  algorithms: readAlgorithms,
  secret: readSecret,
  clockToleranceSeconds: readClockTolerance,
  tokenFormat: oneOf(['auto', 'jwt', 'opaque'] as const, 'auto'),
  /** Read once `timeoutMs` and `tls` are known. */
  introspection: (value: unknown) => value,
  tls: readTls,
  binding: oneOf(['required', 'if-present'] as const, 'required'),
  dpop: readDpop,
  certificate: readCertificateSource,
  realm: readRealm,
  resourceMetadata: optional(httpsUrl),
  protectedResource: optional((value) => readProtectedResource(value)),
  acceptedTyp: withDefault(
    () => [...DEFAULT_ACCEPTED_TYP],
    (value, name) => stringList(value, name).map(normalizeTyp),
  ),
  requiredClaims: readRequiredClaims,
  timeoutMs: positiveNumber(DEFAULT_TIMEOUT_MS, { integer: true, max: MAX_TIMEOUT_MS }),
  tokenCache: readTokenCache,
} satisfies Record<keyof CertboundOptions, Reader<unknown>>;

/** The options with defaults applied, as the verifier uses them. */
export type NormalizedOptions = ReturnType<typeof normalizeOptions>;

/** Validates the options and fills in defaults. Throws a TypeError naming the first bad option. */
export function normalizeOptions(input: unknown) {
  const o = readGroup(input, '', VERIFIER_OPTIONS, '');
  const issuers = resolveIssuers(o);
  checkKeys(o);
  if (o.tokenFormat === 'opaque' && o.introspection === undefined) {
    fail('introspection', 'configured with tokenFormat "opaque"');
  }
  if (o.tokenFormat === 'jwt' && o.introspection !== undefined) {
    fail('introspection', 'left out with tokenFormat "jwt" (it would never be used)');
  }
  const protectedResource =
    o.protectedResource === undefined
      ? undefined
      : protectedResourceEndpoint(
          o.protectedResource,
          issuers.map((entry) => entry.issuer),
          o.dpop,
        );
  return {
    ...o,
    /** The first (with `issuer`, the only) authorization server: introspection's. */
    issuer: issuers[0]!.issuer,
    audience: issuers[0]!.audience,
    issuers,
    introspection:
      o.introspection === undefined
        ? undefined
        : readIntrospection(o.introspection, {
            timeoutMs: o.timeoutMs,
            hasClientCertificate: o.tls.cert !== undefined,
          }),
    resourceMetadata: o.resourceMetadata ?? protectedResource?.url,
    protectedResource,
  };
}

/** The key options together: HS* with a secret only (RFC 8725 §2.1), a local or a remote JWK Set. */
function checkKeys(o: Normalized<typeof VERIFIER_OPTIONS>): void {
  if (o.jwks !== undefined && o.jwksUri !== undefined) fail('jwks', 'not combined with "jwksUri"');
  const symmetric = o.algorithms.filter((alg) => /^HS(256|384|512)$/.test(alg));
  if (symmetric.length === 0) {
    if (o.secret !== undefined) fail('secret', 'used only with HS256, HS384 or HS512 "algorithms"');
    return;
  }
  if (symmetric.length !== o.algorithms.length) {
    fail('algorithms', 'either all asymmetric or all HMAC (HS*), never both (RFC 8725 §2.1)');
  }
  if (o.secret === undefined || o.secret.byteLength < MIN_SECRET_BYTES) {
    fail(
      'secret',
      `a string or Uint8Array of at least ${MIN_SECRET_BYTES} bytes when HS* algorithms are used`,
    );
  }
  if (o.jwks !== undefined || o.jwksUri !== undefined)
    fail('secret', 'not combined with "jwks" or "jwksUri"');
}
