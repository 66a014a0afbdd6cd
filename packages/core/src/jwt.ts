/**
 * JWT access token validation (RFC 9068 §4, RFC 8725) with jose: algorithm allowlist, signature
 * with the issuer's keys only, explicit `typ`, exact `iss`, `aud` containing ours, time claims,
 * and the required claims. The result is what may be cached; time and binding are re-checked per
 * request by the verifier.
 */
import { type CryptoKey, errors, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose';
import { readConfirmation } from './binding.js';
import { CertboundError, InvalidTokenError } from './errors.js';
import type { KeyResolver } from './signing-keys.js';
import { readTimes } from './token-time.js';
import type { ValidatedToken } from './validated-token.js';

/** RFC 9068 §2.2 claims, required by default. */
export const DEFAULT_REQUIRED_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'] as const;
/**
 * Algorithms accepted by default (STANDARDS §2.4): asymmetric only, RS256 included as RFC 9068
 * §2.1 requires. Add others (RS384, ES384, …) with the `algorithms` option.
 */
export const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
/** Every JWS algorithm the `algorithms` option accepts (jose's, minus `none`). */
export const SUPPORTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'HS256',
  'HS384',
  'HS512',
] as const;
/** RFC 9068 §4 step 1. */
export const DEFAULT_ACCEPTED_TYP = ['at+jwt'] as const;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** base64url of a UTF-8 byte order mark (EF BB BF) at the start of a segment (RFC 8725 §3.7). */
const BOM_SEGMENT = '77u_';

export interface JwtRules {
  /** Normalized (lower case, without `application/`). */
  acceptedTyp: readonly string[];
  /** Always includes `exp`: a token without an expiry is never accepted (RFC 6750 §5.2). */
  requiredClaims: readonly string[];
  /** jose's options, built once. */
  verifyOptions: JWTVerifyOptions;
}

/** The JWT rules of a verifier, built once at start-up. */
export function jwtRules(options: {
  issuer: string;
  audience: string[];
  algorithms: string[];
  acceptedTyp: readonly string[];
  requiredClaims: readonly string[];
  clockToleranceSeconds: number;
}): JwtRules {
  const requiredClaims = options.requiredClaims.includes('exp')
    ? [...options.requiredClaims]
    : [...options.requiredClaims, 'exp'];
  return {
    acceptedTyp: options.acceptedTyp,
    requiredClaims,
    verifyOptions: {
      algorithms: options.algorithms,
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSeconds,
      requiredClaims,
    },
  };
}

/** Whether a token looks like a JWS compact serialization (three base64url segments). */
export function isJwtShaped(token: string): boolean {
  return JWT_SHAPE.test(token);
}

/** Media type comparison for `typ` (RFC 7515 §4.1.9): case-insensitive, `application/` optional. */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

type TokenErrorCode = ConstructorParameters<typeof InvalidTokenError>[0];

function joseErrorCode(error: unknown): TokenErrorCode {
  if (error instanceof errors.JWTExpired) return 'token_expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return 'token_claims_missing';
    if (error.reason === 'invalid') return 'token_malformed';
    switch (error.claim) {
      case 'iss':
        return 'token_issuer_mismatch';
      case 'aud':
        return 'token_audience_mismatch';
      case 'nbf':
      case 'iat':
        return 'token_not_yet_valid';
      default:
        return 'token_malformed';
    }
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JWKSNoMatchingKey
  ) {
    return 'token_signature_invalid';
  }
  return 'token_malformed';
}

function optionalString(claims: JWTPayload, name: string): string | undefined {
  if (!Object.hasOwn(claims, name)) return undefined;
  const value = claims[name];
  if (typeof value !== 'string') throw new InvalidTokenError('token_malformed');
  return value;
}

/** `scope` as a space-delimited string (RFC 9068 §2.2.3), or absent. */
export function readScopes(claims: Record<string, unknown>): readonly string[] {
  if (!Object.hasOwn(claims, 'scope')) return Object.freeze([]);
  const scope = claims.scope;
  if (typeof scope !== 'string') throw new InvalidTokenError('token_malformed');
  return Object.freeze(scope.split(' ').filter((s) => s.length > 0));
}

/**
 * The cause kept on a token error: jose's code and message only. jose's claim errors carry the
 * whole payload, which must not reach logs through `cause`.
 */
function safeCause(error: unknown): Error {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return new Error(`${typeof code === 'string' ? code : 'ERR_JOSE'}: ${String(message)}`);
}

/** Verifies with each candidate when the JWK Set has several keys for the header (a rotation). */
async function verifyWithCandidates(token: string, keys: KeyResolver, options: JWTVerifyOptions) {
  try {
    return await jwtVerify(token, keys, options);
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const candidate of error as unknown as AsyncIterable<CryptoKey>) {
      try {
        return await jwtVerify(token, candidate, options);
      } catch (attempt) {
        if (!(attempt instanceof errors.JWSSignatureVerificationFailed)) throw attempt;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

/** Freezes a JSON value and everything in it (claims are shared by every request with the token). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/** Validates a JWT access token; throws {@link CertboundError} on any failure. */
export async function validateJwt(
  token: string,
  keys: KeyResolver,
  rules: JwtRules,
): Promise<ValidatedToken> {
  if (
    !isJwtShaped(token) ||
    token.startsWith(BOM_SEGMENT) ||
    token.startsWith(BOM_SEGMENT, token.indexOf('.') + 1)
  ) {
    throw new InvalidTokenError('token_malformed');
  }
  let payload: JWTPayload;
  let typ: unknown;
  try {
    const result = await verifyWithCandidates(token, keys, rules.verifyOptions);
    payload = result.payload;
    typ = result.protectedHeader.typ;
  } catch (error) {
    if (error instanceof CertboundError) throw error;
    throw new InvalidTokenError(joseErrorCode(error), { cause: safeCause(error) });
  }
  if (typeof typ !== 'string' || !rules.acceptedTyp.includes(normalizeTyp(typ))) {
    throw new InvalidTokenError('token_type_invalid');
  }
  // jose checks presence too; own properties only, whatever its version does.
  for (const claim of rules.requiredClaims) {
    if (!Object.hasOwn(payload, claim)) throw new InvalidTokenError('token_claims_missing');
  }
  const times = readTimes(payload);
  return {
    format: 'jwt',
    claims: deepFreeze(payload),
    subject: optionalString(payload, 'sub'),
    clientId: optionalString(payload, 'client_id'),
    scopes: readScopes(payload),
    times,
    confirmation: readConfirmation(payload),
  };
}
