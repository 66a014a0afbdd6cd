/** The `introspection` option group (RFC 7662), read at start-up. */
import type { JWK } from 'jose';
import type { CacheStore } from '../cache-store.js';
import {
  fail,
  httpsUrl,
  isRecord,
  nonEmptyString,
  oneOf,
  optional,
  positiveNumber,
  type Reader,
} from './checks.js';
import { type Normalized, readGroup } from './schema.js';

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
/** Default bound of the in-process results' memory, bytes (estimated from each response's JSON). */
export const DEFAULT_INTROSPECTION_CACHE_MAX_BYTES = 32 * 1024 * 1024;
/**
 * Default cap on introspection calls in flight at once (distinct tokens: one call per token is
 * shared by its requests). Requests beyond it are answered 503 at once, so one client sending
 * many random tokens cannot turn each into a call to the authorization server.
 */
export const DEFAULT_MAX_CONCURRENT_INTROSPECTIONS = 64;

export interface IntrospectionCacheOptions {
  /** Results kept in process. Default 10000. */
  max?: number;
  /** Longest reuse of an active result, seconds; never past the token's `exp`. Default 60. */
  maxTtlSeconds?: number;
  /** Reuse of an `active: false` result, seconds. Default 10. */
  negativeTtlSeconds?: number;
  /** Bound of the results' memory in process, bytes (an estimate). Default 32 MiB. */
  maxBytes?: number;
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
  /**
   * Introspection calls in flight at once, at most; a request that would need one more is answered
   * 503 (`Retry-After: 1`) without calling, and reported on `certbound:introspection`. Default 64.
   */
  maxConcurrentCalls?: number;
  /** The result cache; `false` introspects every request (concurrent ones still share a call). */
  cache?: IntrospectionCacheOptions | false;
}

/** Whether the method authenticates with the TLS client certificate (RFC 8705 §2). */
export function isMtlsMethod(method: ClientAuthMethod): boolean {
  return method === 'tls_client_auth' || method === 'self_signed_tls_client_auth';
}

const readStore: Reader<CacheStore | undefined> = optional((store, name) => {
  if (!(isRecord(store) && ['get', 'set', 'delete'].every((m) => typeof store[m] === 'function'))) {
    fail(name, 'a CacheStore { get, set, delete }');
  }
  return store as unknown as CacheStore;
});

const CACHE_OPTIONS = {
  max: positiveNumber(DEFAULT_INTROSPECTION_CACHE_MAX, { integer: true }),
  maxTtlSeconds: positiveNumber(DEFAULT_INTROSPECTION_MAX_TTL_SECONDS),
  negativeTtlSeconds: positiveNumber(DEFAULT_NEGATIVE_TTL_SECONDS),
  maxBytes: positiveNumber(DEFAULT_INTROSPECTION_CACHE_MAX_BYTES, { integer: true }),
  store: readStore,
} satisfies Record<keyof IntrospectionCacheOptions, Reader<unknown>>;

export type NormalizedIntrospectionCache = Normalized<typeof CACHE_OPTIONS>;

const readCache: Reader<NormalizedIntrospectionCache | false> = (value, name) =>
  value === false
    ? false
    : readGroup(
        value ?? {},
        name,
        CACHE_OPTIONS,
        'false or an object { max, maxTtlSeconds, negativeTtlSeconds, maxBytes, store }',
      );

/** A private JWK or a PKCS #8 PEM string (checked against the method below). */
const readPrivateKey: Reader<JWK | string | undefined> = (value) =>
  value === undefined ? undefined : (value as JWK | string);

const INTROSPECTION_OPTIONS = {
  endpoint: optional(httpsUrl),
  clientId: nonEmptyString,
  clientSecret: optional(nonEmptyString),
  clientAuthMethod: oneOf(CLIENT_AUTH_METHODS, 'client_secret_basic'),
  privateKey: readPrivateKey,
  signingAlg: optional(nonEmptyString),
  /** `undefined`: the verifier's `timeoutMs`. */
  timeoutMs: optional(positiveNumber(0, { integer: true })),
  maxConcurrentCalls: positiveNumber(DEFAULT_MAX_CONCURRENT_INTROSPECTIONS, { integer: true, max: 100_000 }),
  cache: readCache,
} satisfies Record<keyof IntrospectionOptions, Reader<unknown>>;

export type NormalizedIntrospection = Omit<Normalized<typeof INTROSPECTION_OPTIONS>, 'timeoutMs'> & {
  timeoutMs: number;
};

/**
 * Reads `introspection`. `verifier` gives what comes from the other options: the default timeout
 * and whether `tls` configures a client certificate (needed by the mTLS methods).
 */
export function readIntrospection(
  value: unknown,
  verifier: { timeoutMs: number; hasClientCertificate: boolean },
): NormalizedIntrospection {
  const o = readGroup(
    value,
    'introspection',
    INTROSPECTION_OPTIONS,
    'an object { clientId, clientSecret?, clientAuthMethod?, … }',
  );
  const method = o.clientAuthMethod;
  if ((method === 'client_secret_basic' || method === 'client_secret_post') && !o.clientSecret) {
    fail('introspection.clientSecret', `a non-empty string with clientAuthMethod "${method}"`);
  }
  let signingAlg: string | undefined;
  if (method === 'private_key_jwt') {
    const key = o.privateKey;
    const isPem = typeof key === 'string' && key.includes('PRIVATE KEY');
    const isJwk = isRecord(key) && typeof key.kty === 'string' && typeof key.d === 'string';
    if (!isPem && !isJwk)
      fail('introspection.privateKey', 'a private JWK or a PKCS #8 PEM string with "private_key_jwt"');
    signingAlg = o.signingAlg ?? (isJwk && typeof key.alg === 'string' ? key.alg : undefined);
    if (!signingAlg || /^(none|HS\d+)$/i.test(signingAlg)) {
      fail('introspection.signingAlg', 'an asymmetric JWS algorithm (or the private JWK must carry "alg")');
    }
  }
  if (isMtlsMethod(method) && !verifier.hasClientCertificate) {
    fail('tls', `given "cert" and "key" with introspection clientAuthMethod "${method}"`);
  }
  return {
    ...o,
    privateKey: method === 'private_key_jwt' ? o.privateKey : undefined,
    signingAlg,
    timeoutMs: o.timeoutMs ?? verifier.timeoutMs,
  };
}
