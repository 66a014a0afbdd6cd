/**
 * Observability through `node:diagnostics_channel` (no logger dependency): one channel per kind
 * of event. Messages never carry tokens, certificates, header values or `Authorization`; nothing
 * is computed for a channel nobody subscribes to.
 */
import { channel } from 'node:diagnostics_channel';
import { VerifiedAuth } from './auth-info.js';
import {
  type CertboundErrorCode,
  isCertboundError,
  ServiceUnavailableError,
  type UnavailableReason,
} from './errors.js';

/** Published when a certificate header is ignored: {@link CertificateHeaderIgnored}. */
export const CERTIFICATE_HEADER_CHANNEL = 'certbound:certificate-header-ignored';

/** The names of every certbound channel. */
export const DIAGNOSTICS_CHANNELS = Object.freeze({
  /** Every authentication: {@link DecisionEvent}. */
  decision: 'certbound:decision',
  /** Every call to the introspection endpoint: {@link IntrospectionEvent}. */
  introspection: 'certbound:introspection',
  /** Token and introspection cache lookups: {@link CacheEvent}. */
  cache: 'certbound:cache',
  /** Every JWK Set fetch: {@link JwksEvent}. */
  jwks: 'certbound:jwks',
  /** Certificate headers ignored: {@link CertificateHeaderIgnored}. */
  certificateHeaderIgnored: CERTIFICATE_HEADER_CHANNEL,
  /** Every DPoP proof checked: {@link DpopProofEvent}. */
  dpop: 'certbound:dpop',
  /** DPoP replay detection: {@link ReplayEvent}. */
  replay: 'certbound:replay',
} as const);

export interface CertificateHeaderIgnored {
  /** `untrusted-peer`, `repeated`, `too-large`, or the decoder's reason. */
  reason: string;
  /** The header name. */
  header: string;
  /** The immediate peer's address. */
  peer: string | undefined;
}

export interface DecisionEvent {
  outcome: 'accepted' | 'rejected';
  /** 200 when accepted, else the error's status. */
  status: number;
  /** The stable reason of a rejection. */
  code: CertboundErrorCode | undefined;
  /** `jwt` or `opaque`, when the token got that far. */
  format: 'jwt' | 'opaque' | undefined;
  /** Where the certificate was looked for: the TLS connection, a proxy header, or `verify()` input. */
  certificateSource: 'tls' | 'header' | 'input';
  /** Whether a usable client certificate was found. */
  certificatePresented: boolean;
  /** Whether the accepted token is certificate-bound. */
  bound: boolean | undefined;
  /** The accepted token's client, for per-client metrics. */
  clientId: string | undefined;
  /** Time spent in certbound, milliseconds. */
  durationMs: number;
  /** On 503: why the authorization server gave no usable answer (fixed vocabulary). */
  reason?: UnavailableReason;
  /** On 503: the origin of the URL that failed. */
  origin?: string;
}

export interface DpopProofEvent {
  outcome: 'accepted' | 'rejected';
  /** The stable reason of a rejection (`dpop_proof_invalid`, `dpop_nonce_required`, …). */
  code: CertboundErrorCode | undefined;
  /** The proof's `alg`, when it got that far. */
  alg: string | undefined;
}

export interface ReplayEvent {
  /**
   * `replayed`: a proof was used again; `full`: the in-process cache held `dpop.replay.max` live
   * proofs and a new one was refused (503); `store_error`: the shared store failed or timed out and
   * the in-process cache decided alone.
   */
  outcome: 'replayed' | 'full' | 'store_error';
}

export interface IntrospectionEvent {
  /**
   * `active`/`inactive` as answered; `error` when no usable answer came (a 503); `overloaded`
   * when no call was made because `introspection.maxConcurrentCalls` were in flight (a 503).
   */
  outcome: 'active' | 'inactive' | 'error' | 'overloaded';
  durationMs: number;
}

export interface CacheEvent {
  cache: 'token' | 'introspection';
  /**
   * `hit`: a cached validation was used; `negative`: a cached refusal was used (an inactive token, a forged signature);
   * `miss`: the token is validated or introspected now; `coalesced`: it joined a lookup in flight.
   */
  event: 'hit' | 'negative' | 'miss' | 'coalesced';
}

export interface JwksEvent {
  outcome: 'ok' | 'error';
  /** The HTTP status, when there was a response. */
  status: number | undefined;
  /** The JWK Set URL (public). */
  url: string;
  durationMs: number;
}

const certificateHeaderChannel = channel(CERTIFICATE_HEADER_CHANNEL);
export const decisionChannel = channel(DIAGNOSTICS_CHANNELS.decision);
export const introspectionChannel = channel(DIAGNOSTICS_CHANNELS.introspection);
export const cacheChannel = channel(DIAGNOSTICS_CHANNELS.cache);
export const jwksChannel = channel(DIAGNOSTICS_CHANNELS.jwks);
export const dpopChannel = channel(DIAGNOSTICS_CHANNELS.dpop);
export const replayChannel = channel(DIAGNOSTICS_CHANNELS.replay);

export function reportIgnoredCertificateHeader(message: CertificateHeaderIgnored): void {
  if (certificateHeaderChannel.hasSubscribers) certificateHeaderChannel.publish(message);
}

const CACHE_EVENTS = {
  token: {
    hit: Object.freeze({ cache: 'token', event: 'hit' }),
    negative: Object.freeze({ cache: 'token', event: 'negative' }),
    miss: Object.freeze({ cache: 'token', event: 'miss' }),
    coalesced: Object.freeze({ cache: 'token', event: 'coalesced' }),
  },
  introspection: {
    hit: Object.freeze({ cache: 'introspection', event: 'hit' }),
    negative: Object.freeze({ cache: 'introspection', event: 'negative' }),
    miss: Object.freeze({ cache: 'introspection', event: 'miss' }),
    coalesced: Object.freeze({ cache: 'introspection', event: 'coalesced' }),
  },
} as const satisfies Record<CacheEvent['cache'], Record<CacheEvent['event'], CacheEvent>>;

/** Publishes a cache event (preallocated messages: nothing is allocated on the hot path). */
export function reportCache(cache: CacheEvent['cache'], event: CacheEvent['event']): void {
  if (cacheChannel.hasSubscribers) cacheChannel.publish(CACHE_EVENTS[cache][event]);
}

/** A start time when `target` has subscribers (0 otherwise), for {@link elapsedSince}. */
export function startTimer(target: { hasSubscribers: boolean }): number {
  return target.hasSubscribers ? performance.now() : 0;
}

export function elapsedSince(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}

/** Publishes the outcome of one authentication (no token, no certificate, no header value). */
export function publishDecision(
  start: number,
  certificateSource: DecisionEvent['certificateSource'],
  certificatePresented: boolean,
  result: unknown,
): void {
  const auth = result instanceof VerifiedAuth ? result : undefined;
  const error = auth === undefined && isCertboundError(result) ? result : undefined;
  decisionChannel.publish({
    outcome: auth ? 'accepted' : 'rejected',
    status: auth ? 200 : (error?.status ?? 500),
    code: error?.code,
    format: auth?.format,
    certificateSource,
    certificatePresented,
    bound: auth?.bound,
    clientId: auth?.clientId,
    durationMs: elapsedSince(start),
    ...(result instanceof ServiceUnavailableError ? { reason: result.reason, origin: result.origin } : {}),
  } satisfies DecisionEvent);
}

const warnedReasons = new Set<UnavailableReason>();

/**
 * The first 503 of each kind, said once per process as a warning (`process.emitWarning`), so an
 * app that subscribes to no channel still learns why: the reason and the origin, never a token or
 * a response body. The client's response does not change.
 */
export function warnUnavailable(error: unknown): void {
  if (!(error instanceof ServiceUnavailableError) || warnedReasons.has(error.reason)) return;
  warnedReasons.add(error.reason);
  const where = error.origin === undefined ? '' : ` at ${error.origin}`;
  process.emitWarning(
    `the authorization server${where} gave no usable answer (${error.reason}): requests needing it get 503`,
    {
      type: 'CertboundWarning',
      code: 'CERTBOUND_AUTHORIZATION_SERVER_UNAVAILABLE',
      detail: HINTS[error.reason],
    },
  );
}

const HINTS: Partial<Record<UnavailableReason, string>> = {
  tls_untrusted: 'Its TLS certificate is not trusted: give its CA as PEM text in the "tls.ca" option.',
  connection_refused:
    'Nothing listens at that address: check the issuer URL (and jwksUri / introspection.endpoint).',
  timeout: 'No answer within "timeoutMs".',
  http_status:
    "It answered with an error status (for introspection: are the resource server's credentials right?).",
  redirect: 'It answered with a redirect, which certbound never follows: configure the final URL.',
  issuer_mismatch: 'Its metadata names another issuer: "issuer" must equal the metadata\'s "issuer" exactly.',
  metadata_incomplete:
    'Its metadata lacks jwks_uri or introspection_endpoint: configure "jwksUri" or "introspection.endpoint".',
};
