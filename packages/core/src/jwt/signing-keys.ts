/**
 * Where token signature keys come from: a local JWK Set, the issuer's `jwks_uri` (configured or
 * discovered), or a shared secret for HS* when explicitly configured. Keys are looked up by the
 * header's `kid`/`alg` only; `jku`, `x5u`, `jwk` and `x5c` in a token header are never used
 * (RFC 8725 §3.10).
 *
 * Failure to fetch keys is a 503, never a 401: while the JWK Set cannot be fetched, the keys last
 * fetched keep verifying for {@link JWKS_STALE_IF_ERROR_SECONDS}. A token naming a key we do not
 * have is a 401 (jose refetches for an unknown `kid` at most once per cooldown). Several keys
 * matching one header are all tried (a rotation).
 */

import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
} from 'jose';
import type { AuthorizationServer } from '../authorization-server/authorization-server.js';
import type { HttpResponse } from '../authorization-server/http-client.js';
import { elapsedSince, jwksChannel, startTimer } from '../diagnostics.js';
import { InvalidTokenError, ServiceUnavailableError } from '../errors.js';

/** Seconds after a JWKS fetch before an unknown `kid` may trigger another fetch. */
export const DEFAULT_JWKS_COOLDOWN_SECONDS = 30;
/** Seconds a fetched JWKS is used before it is fetched again. */
export const DEFAULT_JWKS_MAX_AGE_SECONDS = 600;
/** Seconds the last fetched JWKS keeps verifying while it cannot be fetched again. */
export const JWKS_STALE_IF_ERROR_SECONDS = 3600;

export type KeyResolver = (
  header: JWSHeaderParameters,
  token?: FlattenedJWSInput,
) => Promise<CryptoKey | Uint8Array>;

type LocalResolver = ReturnType<typeof createLocalJWKSet>;

/** Runs a JWK Set lookup: an unknown key is the token's fault; several candidates go to the caller. */
async function lookUp(resolve: LocalResolver, header: JWSHeaderParameters, token?: FlattenedJWSInput) {
  try {
    return await resolve(header, token);
  } catch (cause) {
    if (cause instanceof errors.JWKSNoMatchingKey)
      throw new InvalidTokenError('token_signature_invalid', { cause });
    throw cause;
  }
}

/** A resolver over a fixed JWK Set. */
export function localKeys(jwks: JSONWebKeySet): KeyResolver {
  const resolve = createLocalJWKSet(jwks);
  return (header, token) => lookUp(resolve, header, token);
}

/** A resolver for a shared secret (HS*), used only when configured explicitly. */
export function secretKey(secret: Uint8Array): KeyResolver {
  return async () => secret;
}

/**
 * A resolver over the authorization server's remote JWK Set (jose's cooldown, max age and single
 * in-flight fetch), each fetch published on `certbound:jwks`. The URL is resolved lazily (it may
 * come from discovery).
 */
export function remoteKeys(server: AuthorizationServer, timeoutMs: number): KeyResolver {
  let remote: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  let fetchedAt = 0;
  let stale: { fetchedAt: number; resolve: LocalResolver } | undefined;

  const fetchThroughAgent = async (url: string, init: { headers: Headers }): Promise<Response> => {
    const start = startTimer(jwksChannel);
    let response: HttpResponse;
    try {
      response = await server.http.send(url, { headers: Object.fromEntries(init.headers), timeoutMs });
    } catch (error) {
      server.endpointFailed();
      if (start !== 0) {
        jwksChannel.publish({ outcome: 'error', status: undefined, url, durationMs: elapsedSince(start) });
      }
      throw error;
    }
    if (start !== 0) {
      const outcome = response.status === 200 ? 'ok' : 'error';
      jwksChannel.publish({ outcome, status: response.status, url, durationMs: elapsedSince(start) });
    }
    if (response.status === 200) fetchedAt = Date.now();
    return new Response(new Uint8Array(response.body), { status: response.status });
  };
  const resolver = () =>
    (remote ??= server.jwksUri().then(
      (uri) =>
        createRemoteJWKSet(new URL(uri), {
          timeoutDuration: timeoutMs,
          cooldownDuration: DEFAULT_JWKS_COOLDOWN_SECONDS * 1000,
          cacheMaxAge: DEFAULT_JWKS_MAX_AGE_SECONDS * 1000,
          [customFetch]: fetchThroughAgent,
        }),
      (cause: unknown) => {
        remote = undefined;
        throw cause;
      },
    ));

  /** The keys last fetched, while they are recent enough to stand in during an outage. */
  const staleKeys = (set: ReturnType<typeof createRemoteJWKSet> | undefined): LocalResolver | undefined => {
    if (set === undefined || Date.now() - fetchedAt > JWKS_STALE_IF_ERROR_SECONDS * 1000) return undefined;
    if (stale?.fetchedAt !== fetchedAt) {
      const jwks = set.jwks();
      if (jwks === undefined) return undefined;
      stale = { fetchedAt, resolve: createLocalJWKSet(jwks) };
    }
    return stale.resolve;
  };

  return async (header, token) => {
    let set: ReturnType<typeof createRemoteJWKSet> | undefined;
    try {
      set = await resolver();
      return await set(header, token);
    } catch (cause) {
      // An unknown key is the token's fault (401); jose refetches for it once the cooldown is over,
      // so an issuer that publishes keys before signing with them (as it should) is never refused.
      if (cause instanceof errors.JWKSNoMatchingKey)
        throw new InvalidTokenError('token_signature_invalid', { cause });
      if (cause instanceof errors.JWKSMultipleMatchingKeys) throw cause;
      const fallback = staleKeys(set);
      if (fallback !== undefined) return lookUp(fallback, header, token);
      if (cause instanceof ServiceUnavailableError) throw cause;
      throw new ServiceUnavailableError({ cause });
    }
  };
}
