/**
 * DPoP proof verification (RFC 9449 §4.3, §7.1), for one request: exactly one `DPoP` field of
 * bounded size; a JWS whose `typ` is `dpop+jwt`, whose `alg` is allowed, whose `jwk` is a public
 * key (no private members) that verifies the signature; `htm` the request method; `htu` the
 * request URI (normalized, query and fragment ignored); `iat` within the window; `jti` present
 * and unseen (checked last, by the caller); `ath` the hash of the access token; the nonce when
 * the resource server requires one. Returns the key's RFC 7638 thumbprint for the binding check.
 * The proof is never cached; every failure is 401 `invalid_dpop_proof` (or `use_dpop_nonce`).
 */
import { hash } from 'node:crypto';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { InvalidTokenError } from '../errors.js';
import { normalizeHtu } from './htu.js';
import type { NonceIssuer } from './nonce.js';

/** Longest `DPoP` field value accepted before any parsing, characters (an RSA-4096 proof is ~2.5 KiB). */
export const MAX_PROOF_LENGTH = 8192;
/** Longest `jti` accepted, characters. */
const MAX_JTI_LENGTH = 256;
/** JWK members that only a private key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export interface ProofRules {
  /** Proof keys already imported, by thumbprint and `alg`: a client signs every proof with the same key. */
  importedKeys?: Map<string, CryptoKey>;
  algorithms: readonly string[];
  proofMaxAgeSeconds: number;
  clockToleranceSeconds: number;
  nonce: NonceIssuer | undefined;
}

export interface ProofRequest {
  /** Every `DPoP` field line of the request. */
  fields: readonly string[];
  method: string;
  /** The normalized request URI (`normalizeHtu`), or the candidates when several origins are configured. */
  htu: readonly string[];
  accessToken: string;
}

export interface VerifiedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key. */
  jkt: string;
  jti: string;
  /** Epoch ms until which the proof could still be accepted (its replay entry lives that long). */
  acceptableUntil: number;
  alg: string;
}

function invalid(): never {
  throw new InvalidTokenError('dpop_proof_invalid');
}

/** The one `DPoP` field value, or `dpop_proof_missing` / `dpop_proof_invalid`. */
export function proofField(fields: readonly string[]): string {
  if (fields.length === 0) throw new InvalidTokenError('dpop_proof_missing');
  if (fields.length > 1) invalid();
  const value = fields[0]!.trim();
  if (value.length === 0 || value.length > MAX_PROOF_LENGTH || !JWS_SHAPE.test(value)) invalid();
  return value;
}

function publicJwk(jwk: unknown): JWK {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) invalid();
  for (const member of PRIVATE_MEMBERS) if (Object.hasOwn(jwk, member)) invalid();
  if (typeof (jwk as JWK).kty !== 'string' || (jwk as JWK).kty === 'oct') invalid();
  return jwk as JWK;
}

/** Most imported proof keys kept (clients reuse one key: the hit rate is what matters). */
const IMPORTED_KEYS_MAX = 10_000;

/**
 * The proof key as a CryptoKey. Keyed by the RFC 7638 thumbprint, which covers every member that
 * makes the public key, and by `alg`: the same key material imports to the same key.
 */
async function importedKey(
  jwk: JWK,
  alg: string,
  jkt: string,
  cache: Map<string, CryptoKey> | undefined,
): Promise<CryptoKey> {
  const id = `${alg}:${jkt}`;
  const known = cache?.get(id);
  if (known !== undefined) return known;
  const key = (await importJWK(jwk, alg)) as CryptoKey;
  if (cache !== undefined) {
    if (cache.size >= IMPORTED_KEYS_MAX) cache.delete(cache.keys().next().value!);
    cache.set(id, key);
  }
  return key;
}

/** Verifies the request's proof; the `jti` is the caller's to record. */
export async function verifyProof(request: ProofRequest, rules: ProofRules): Promise<VerifiedProof> {
  const proof = proofField(request.fields);
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    invalid();
  }
  const alg = header.alg;
  // `typ` is a media type (RFC 7515 §4.1.9): case-insensitive, `application/` implied.
  const typ =
    typeof header.typ === 'string' ? header.typ.toLowerCase().replace(/^application\//, '') : undefined;
  if (typ !== 'dpop+jwt' || typeof alg !== 'string' || !rules.algorithms.includes(alg)) invalid();
  const jwk = publicJwk(header.jwk);
  let payload: JWTPayload;
  let jkt: string;
  try {
    jkt = await calculateJwkThumbprint(jwk, 'sha256');
    const key = await importedKey(jwk, alg, jkt, rules.importedKeys);
    ({ payload } = await jwtVerify(proof, key, { algorithms: [alg] }));
  } catch {
    invalid();
  }
  const { jti, htm, htu, iat, ath } = payload as Record<string, unknown>;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) invalid();
  if (typeof htm !== 'string' || htm !== request.method) invalid();
  const proofHtu = typeof htu === 'string' ? normalizeHtu(htu) : undefined;
  if (proofHtu === undefined || !request.htu.includes(proofHtu)) invalid();
  const now = Date.now() / 1000;
  if (
    typeof iat !== 'number' ||
    !Number.isFinite(iat) ||
    iat > now + rules.clockToleranceSeconds ||
    iat < now - rules.proofMaxAgeSeconds - rules.clockToleranceSeconds
  ) {
    invalid();
  }
  if (typeof ath !== 'string' || ath !== hash('sha256', request.accessToken, 'base64url')) invalid();
  if (rules.nonce !== undefined && !rules.nonce.accepts((payload as Record<string, unknown>).nonce)) {
    throw new InvalidTokenError('dpop_nonce_required', { dpopNonce: rules.nonce.current() });
  }
  return {
    jkt,
    jti,
    acceptableUntil: (iat + rules.proofMaxAgeSeconds + rules.clockToleranceSeconds) * 1000,
    alg,
  };
}
