/** The `introspection` option (RFC 7662), validated at start-up. */
import type { JWK } from 'jose';
import type { CacheStore } from './cache-store.js';
import { fail, httpsUrl, isRecord, nonEmptyString, oneOf, positiveNumber } from './option-checks.js';

/** How the resource server authenticates to the introspection endpoint (RFC 7662 §2.1). */
export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth';

export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
];

/** Default number of introspection results kept in process. */
export const DEFAULT_INTROSPECTION_CACHE_MAX = 10_000;
/** Default longest reuse of an active introspection result, seconds (never past `exp`). */
export const DEFAULT_INTROSPECTION_MAX_TTL_SECONDS = 60;
/** Default reuse of an inactive result, seconds. */
export const DEFAULT_NEGATIVE_TTL_SECONDS = 10;

export interface IntrospectionCacheOptions {
  /** Results kept in process. Default 10000. */
  max?: number;
  /** Longest reuse of an active result, seconds; never past the token's `exp`. Default 60. */
  maxTtlSeconds?: number;
  /** Reuse of an `active: false` result, seconds. Default 10. */
  negativeTtlSeconds?: number;
  /** A shared store behind the in-process cache (e.g. `@certbound/redis`). */
  store?: CacheStore;
}

export interface IntrospectionOptions {
  /** The introspection endpoint. Default: discovered (`mtls_endpoint_aliases` first for mTLS methods). */
  endpoint?: string;
  /** This resource server's client_id at the authorization server. */
  clientId: string;
  /** For `client_secret_basic` and `client_secret_post`. */
  clientSecret?: string;
  /** Default `client_secret_basic`. mTLS methods use the `tls` option's certificate. */
  clientAuthMethod?: ClientAuthMethod;
  /** For `private_key_jwt`: a private JWK, or a PKCS #8 PEM string. */
  privateKey?: JWK | string;
  /** For `private_key_jwt`: the signing algorithm (default: the JWK's `alg`). */
  signingAlg?: string;
  /** Timeout of each introspection request, ms. Default: `timeoutMs`. */
  timeoutMs?: number;
  /** The result cache; `false` introspects every request (concurrent ones still share a call). */
  cache?: IntrospectionCacheOptions | false;
}

export interface NormalizedIntrospectionCache {
  max: number;
  maxTtlSeconds: number;
  negativeTtlSeconds: number;
  store: CacheStore | undefined;
}

export interface NormalizedIntrospection {
  endpoint: string | undefined;
  clientId: string;
  clientSecret: string | undefined;
  clientAuthMethod: ClientAuthMethod;
  privateKey: JWK | string | undefined;
  signingAlg: string | undefined;
  timeoutMs: number;
  cache: NormalizedIntrospectionCache | false;
}

const KNOWN = new Set([
  'endpoint',
  'clientId',
  'clientSecret',
  'clientAuthMethod',
  'privateKey',
  'signingAlg',
  'timeoutMs',
  'cache',
]);

/** Whether the method authenticates with the TLS client certificate (RFC 8705 §2). */
export function isMtlsMethod(method: ClientAuthMethod): boolean {
  return method === 'tls_client_auth' || method === 'self_signed_tls_client_auth';
}

function cacheOf(value: unknown): NormalizedIntrospectionCache | false {
  if (value === false) return false;
  const cache = value === undefined ? {} : value;
  if (!isRecord(cache))
    fail('introspection.cache', 'false or an object { max, maxTtlSeconds, negativeTtlSeconds, store }');
  const store = cache.store;
  if (
    store !== undefined &&
    !(isRecord(store) && ['get', 'set', 'delete'].every((m) => typeof store[m] === 'function'))
  ) {
    fail('introspection.cache.store', 'a CacheStore { get, set, delete }');
  }
  return {
    max: positiveNumber(cache.max, 'introspection.cache.max', DEFAULT_INTROSPECTION_CACHE_MAX, true),
    maxTtlSeconds: positiveNumber(
      cache.maxTtlSeconds,
      'introspection.cache.maxTtlSeconds',
      DEFAULT_INTROSPECTION_MAX_TTL_SECONDS,
    ),
    negativeTtlSeconds: positiveNumber(
      cache.negativeTtlSeconds,
      'introspection.cache.negativeTtlSeconds',
      DEFAULT_NEGATIVE_TTL_SECONDS,
    ),
    store: store as CacheStore | undefined,
  };
}

/** Validates `introspection`; `tls` tells whether a client certificate is configured. */
export function normalizeIntrospection(
  value: unknown,
  defaults: { timeoutMs: number; hasClientCertificate: boolean },
): NormalizedIntrospection {
  if (!isRecord(value)) fail('introspection', 'an object { clientId, clientSecret?, clientAuthMethod?, … }');
  for (const name of Object.keys(value)) {
    if (!KNOWN.has(name))
      throw new TypeError(`Invalid certbound option: unknown option "introspection.${name}"`);
  }
  const clientAuthMethod = oneOf(
    value.clientAuthMethod,
    'introspection.clientAuthMethod',
    CLIENT_AUTH_METHODS,
    'client_secret_basic',
  );
  const clientSecret =
    value.clientSecret === undefined
      ? undefined
      : nonEmptyString(value.clientSecret, 'introspection.clientSecret');
  if (
    (clientAuthMethod === 'client_secret_basic' || clientAuthMethod === 'client_secret_post') &&
    !clientSecret
  ) {
    fail('introspection.clientSecret', `a non-empty string with clientAuthMethod "${clientAuthMethod}"`);
  }
  let privateKey: JWK | string | undefined;
  let signingAlg: string | undefined;
  if (clientAuthMethod === 'private_key_jwt') {
    const key = value.privateKey;
    const isPem = typeof key === 'string' && key.includes('PRIVATE KEY');
    const isJwk = isRecord(key) && typeof key.kty === 'string' && typeof key.d === 'string';
    if (!isPem && !isJwk)
      fail('introspection.privateKey', 'a private JWK or a PKCS #8 PEM string with "private_key_jwt"');
    privateKey = key as JWK | string;
    signingAlg =
      value.signingAlg === undefined
        ? isJwk && typeof (key as JWK).alg === 'string'
          ? (key as JWK).alg
          : undefined
        : nonEmptyString(value.signingAlg, 'introspection.signingAlg');
    if (!signingAlg || /^(none|HS\d+)$/i.test(signingAlg)) {
      fail('introspection.signingAlg', 'an asymmetric JWS algorithm (or the private JWK must carry "alg")');
    }
  }
  if (isMtlsMethod(clientAuthMethod) && !defaults.hasClientCertificate) {
    fail('tls', `given "cert" and "key" with introspection clientAuthMethod "${clientAuthMethod}"`);
  }
  return {
    endpoint: value.endpoint === undefined ? undefined : httpsUrl(value.endpoint, 'introspection.endpoint'),
    clientId: nonEmptyString(value.clientId, 'introspection.clientId'),
    clientSecret,
    clientAuthMethod,
    privateKey,
    signingAlg,
    timeoutMs: positiveNumber(value.timeoutMs, 'introspection.timeoutMs', defaults.timeoutMs, true),
    cache: cacheOf(value.cache),
  };
}
