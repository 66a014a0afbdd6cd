/**
 * Where token signature keys come from: a local JWK Set, a shared secret for HS* when explicitly
 * configured, or the issuer's remote JWK Set (`remote-key-set.ts`). Keys are looked up by the
 * header's `kid` and `alg` only; `jku`, `x5u`, `jwk` and `x5c` in a token header are never used
 * (RFC 8725 §3.10). Which JWK may verify which header is jose's rule (`createLocalJWKSet`, one
 * key at a time), so each candidate keeps its identity: the key that verified a token is known,
 * and a validation can be dropped when its key leaves the set
 * (docs/architecture.md#jwt-signing-keys).
 */
import {
  type CryptoKey,
  calculateJwkThumbprint,
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
} from 'jose';

/**
 * At most this many keys are tried for one token. A token naming no `kid` would otherwise be
 * checked against every key of its type: an unauthenticated client could multiply the cost of a
 * forged token by the size of the JWK Set. Issuers with more keys of one type must send `kid`.
 */
export const MAX_CANDIDATE_KEYS = 4;

/** A key that may have signed a token. */
export interface CandidateKey {
  /** The RFC 7638 thumbprint of the JWK (`secret` for the HS* secret): which key verified a token. */
  readonly id: string;
  /** The key, imported for the header's `alg`. */
  readonly key: CryptoKey | Uint8Array;
}

export interface KeyResolver {
  /**
   * The keys that may have verified a token with this header, at most {@link MAX_CANDIDATE_KEYS},
   * in JWK Set order; empty when none matches. Throws a 503 when the keys cannot be had.
   */
  candidates(header: JWSHeaderParameters): Promise<readonly CandidateKey[]>;
}

/** One JWK of a set, with jose's matching rules for it alone. */
export interface SetMember {
  id: string;
  kid: string | undefined;
  kty: string;
  resolve: ReturnType<typeof createLocalJWKSet>;
}

/** The `kty` a JWS `alg` needs (a cheap filter before jose's full rules). */
function ktyOf(alg: unknown): string | undefined {
  if (typeof alg !== 'string') return undefined;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return 'RSA';
  if (alg.startsWith('ES')) return 'EC';
  if (alg === 'EdDSA' || alg === 'Ed25519') return 'OKP';
  return undefined;
}

/** Prepares the members of a JWK Set; members jose cannot use (or without a thumbprint) are skipped. */
export async function setMembers(jwks: JSONWebKeySet): Promise<SetMember[]> {
  const members: SetMember[] = [];
  for (const jwk of Array.isArray(jwks.keys) ? jwks.keys : []) {
    if (typeof jwk !== 'object' || jwk === null || typeof jwk.kty !== 'string') continue;
    try {
      members.push({
        id: await calculateJwkThumbprint(jwk as JWK),
        kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
        kty: jwk.kty,
        resolve: createLocalJWKSet({ keys: [jwk] }),
      });
    } catch {
      // Not a usable public JWK (unknown kty, missing members): never a candidate.
    }
  }
  return members;
}

/** The members of `members` that may verify `header`, at most {@link MAX_CANDIDATE_KEYS}. */
export async function selectCandidates(
  members: readonly SetMember[],
  header: JWSHeaderParameters,
): Promise<CandidateKey[]> {
  const kty = ktyOf(header.alg);
  const kid = header.kid;
  const found: CandidateKey[] = [];
  for (const member of members) {
    if (member.kty !== kty || (kid !== undefined && member.kid !== kid)) continue;
    try {
      found.push({ id: member.id, key: await member.resolve(header) });
    } catch {
      // Not a match, or a member jose cannot import (a corrupted key): never a candidate.
      continue;
    }
    if (found.length === MAX_CANDIDATE_KEYS) break;
  }
  return found;
}

/** A resolver over a fixed JWK Set. */
export function localKeys(jwks: JSONWebKeySet): KeyResolver {
  const members = setMembers(jwks);
  return { candidates: async (header) => selectCandidates(await members, header) };
}

/** A resolver for a shared secret (HS*), used only when configured explicitly. */
export function secretKey(secret: Uint8Array): KeyResolver {
  const candidates: readonly CandidateKey[] = Object.freeze([{ id: 'secret', key: secret }]);
  return { candidates: async () => candidates };
}
