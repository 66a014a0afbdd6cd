/**
 * Where token signature keys come from: a local JWK Set, the issuer's `jwks_uri` (configured or
 * discovered), or a shared secret for HS* when explicitly configured. Keys are looked up by the
 * header's `kid`/`alg` only; `jku`, `x5u`, `jwk` and `x5c` in a token header are never used
 * (RFC 8725 §3.10). Failure to fetch keys is a 503; a key that does not exist is the token's fault.
 */
import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type JSONWebKeySet,
  type JWSHeaderParameters,
} from 'jose';
import { InvalidTokenError, ServiceUnavailableError } from './errors.js';
import type { HttpClient } from './http-client.js';

/** Seconds after a JWKS fetch before an unknown `kid` may trigger another fetch. */
export const DEFAULT_JWKS_COOLDOWN_SECONDS = 30;
/** Seconds a fetched JWKS is used before it is fetched again. */
export const DEFAULT_JWKS_MAX_AGE_SECONDS = 600;

export type KeyResolver = (header: JWSHeaderParameters) => Promise<CryptoKey | Uint8Array>;

/** A resolver over a fixed JWK Set. */
export function localKeys(jwks: JSONWebKeySet): KeyResolver {
  const resolve = createLocalJWKSet(jwks);
  return async (header) => {
    try {
      return await resolve(header);
    } catch (cause) {
      throw new InvalidTokenError('token_signature_invalid', { cause });
    }
  };
}

/** A resolver for a shared secret (HS*), used only when configured explicitly. */
export function secretKey(secret: Uint8Array): KeyResolver {
  return async () => secret;
}

/**
 * A resolver over a remote JWK Set fetched through `http` (jose's cooldown, max age and single
 * in-flight fetch). `jwksUri` is resolved lazily (it may come from discovery).
 */
export function remoteKeys(jwksUri: () => Promise<string>, http: HttpClient, timeoutMs: number): KeyResolver {
  let remote: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const fetchThroughAgent = async (url: string, init: { headers: Headers }): Promise<Response> => {
    const response = await http.send(url, { headers: Object.fromEntries(init.headers), timeoutMs });
    return new Response(new Uint8Array(response.body), { status: response.status });
  };
  const resolver = () =>
    (remote ??= jwksUri().then(
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
  return async (header) => {
    try {
      return await (await resolver())(header);
    } catch (cause) {
      if (cause instanceof errors.JWKSNoMatchingKey || cause instanceof errors.JWKSMultipleMatchingKeys) {
        throw new InvalidTokenError('token_signature_invalid', { cause });
      }
      if (cause instanceof ServiceUnavailableError) throw cause;
      throw new ServiceUnavailableError({ cause });
    }
  };
}
