/** The `dpop` option group (RFC 9449): DPoP-bound tokens beside certificate-bound ones. */
import { isAllowedUrl } from '../authorization-server/url-policy.js';
import { normalizeOrigin } from '../dpop/htu.js';
import type { ReplayStore } from '../dpop/replay-store.js';
import { fail, isRecord, optional, positiveNumber, type Reader, stringList, withDefault } from './checks.js';
import { type Normalized, readGroup } from './schema.js';

/** DPoP proof algorithms accepted by default (asymmetric only, RFC 9449 §4.3 step 5). */
export const DEFAULT_DPOP_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'] as const;
/** Every algorithm `dpop.algorithms` may list. */
export const DPOP_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
] as const;
/** Default longest age of a proof (its `iat`), seconds, before the clock tolerance. */
export const DEFAULT_PROOF_MAX_AGE_SECONDS = 60;
/** Default lifetime of a resource-server nonce, seconds (accepted that long, at most twice). */
export const DEFAULT_NONCE_LIFETIME_SECONDS = 300;
/** Shortest nonce secret accepted, bytes. */
export const MIN_NONCE_SECRET_BYTES = 32;
/** Default number of proofs remembered in process (each until its `iat` window ends). */
export const DEFAULT_REPLAY_MAX = 1_000_000;

export interface DpopNonceOptions {
  /** HMAC secret shared by every instance (at least 32 bytes). */
  secret: string | Uint8Array;
  /** Seconds a nonce is accepted: at least this long, at most twice. Default 300. */
  lifetimeSeconds?: number;
}

export interface DpopReplayOptions {
  /** A store shared by every instance (e.g. `redisReplayStore()` from `@certbound/redis`). */
  store?: ReplayStore;
  /** Proofs remembered in process; when full, new proofs are refused with 503. Default 1000000. */
  max?: number;
}

export interface DpopOptions {
  /** Accept only DPoP-bound tokens (certificate-bound and unbound ones get `token_unbound`). Default false. */
  required?: boolean;
  /** Proof algorithms accepted (asymmetric only). Default `ES256 ES384 EdDSA PS256 RS256`. */
  algorithms?: string[];
  /** Longest age of a proof's `iat`, seconds (plus `clockToleranceSeconds`). Default 60. */
  proofMaxAgeSeconds?: number;
  /**
   * The public origins the API is reached at (`https://api.example.com`): a proof's `htu` must be
   * one of them plus the request path. Default: the request's own origin (`Host`, or a trusted
   * proxy's `Forwarded` / `X-Forwarded-*` in header mode).
   */
  origins?: string[];
  /** Resource-server nonces (RFC 9449 §9), stateless: instances sharing the secret accept each other's. */
  nonce?: DpopNonceOptions;
  /** Replay detection of proofs (`jti`, RFC 9449 §11.1). */
  replay?: DpopReplayOptions;
}

const readAlgorithms: Reader<string[]> = withDefault(
  () => [...DEFAULT_DPOP_ALGORITHMS],
  (value, name) => {
    const algorithms = stringList(value, name);
    for (const alg of algorithms) {
      if (!(DPOP_ALGORITHMS as readonly string[]).includes(alg)) {
        fail(
          name,
          `asymmetric JWS algorithms among ${DPOP_ALGORITHMS.join(', ')} (got ${JSON.stringify(alg)})`,
        );
      }
    }
    return algorithms;
  },
);

const readOrigins: Reader<string[] | undefined> = optional((value, name) =>
  stringList(value, name).map((origin) => {
    const normalized = isAllowedUrl(origin) ? normalizeOrigin(origin) : undefined;
    return normalized ?? fail(name, 'origins such as "https://api.example.com" (http only for localhost)');
  }),
);

const NONCE_OPTIONS = {
  secret: (value: unknown, name: string): Uint8Array => {
    const secret = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    if (!(secret instanceof Uint8Array) || secret.byteLength < MIN_NONCE_SECRET_BYTES) {
      fail(name, `a string or Uint8Array of at least ${MIN_NONCE_SECRET_BYTES} bytes`);
    }
    return secret;
  },
  lifetimeSeconds: positiveNumber(DEFAULT_NONCE_LIFETIME_SECONDS, { integer: true, max: 86_400 }),
} satisfies Record<keyof DpopNonceOptions, Reader<unknown>>;

const REPLAY_OPTIONS = {
  store: optional((store, name): ReplayStore => {
    if (!(isRecord(store) && typeof store.setIfAbsent === 'function'))
      fail(name, 'a ReplayStore { setIfAbsent }');
    return store as unknown as ReplayStore;
  }),
  max: positiveNumber(DEFAULT_REPLAY_MAX, { integer: true, max: 10_000_000 }),
} satisfies Record<keyof DpopReplayOptions, Reader<unknown>>;

const DPOP_OPTIONS = {
  required: withDefault(
    () => false,
    (value, name) => (typeof value === 'boolean' ? value : fail(name, 'a boolean')),
  ),
  algorithms: readAlgorithms,
  proofMaxAgeSeconds: positiveNumber(DEFAULT_PROOF_MAX_AGE_SECONDS, { integer: true, max: 3600 }),
  origins: readOrigins,
  nonce: optional((value, name) =>
    readGroup(value, name, NONCE_OPTIONS, 'an object { secret, lifetimeSeconds? }'),
  ),
  replay: (value: unknown, name: string) =>
    readGroup(value ?? {}, name, REPLAY_OPTIONS, 'an object { store?, max? }'),
} satisfies Record<keyof DpopOptions, Reader<unknown>>;

export type NormalizedDpop = Normalized<typeof DPOP_OPTIONS>;

/** Reads `dpop`: `false` turns DPoP off (`undefined`); absent means on with the defaults. */
export const readDpop: Reader<NormalizedDpop | undefined> = (value, name) => {
  if (value === false) return undefined;
  return readGroup(value ?? {}, name, DPOP_OPTIONS, 'false or an object { required?, algorithms?, … }');
};
