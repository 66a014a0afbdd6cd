/**
 * The rules a JWT access token is held to (RFC 9068 §4, RFC 8725), fixed at start-up: the
 * algorithm allowlist, accepted `typ` values, required claims, and jose's verify options.
 */
import type { JWTVerifyOptions } from 'jose';

/** RFC 9068 §2.2 claims, required by default. */
export const DEFAULT_REQUIRED_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'] as const;
/**
 * Algorithms accepted by default (docs/architecture.md#jwt-algorithms): asymmetric only, RS256
 * included as RFC 9068 §2.1 requires. Add others (RS384, ES384, …) with the `algorithms` option.
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

export const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** base64url of a UTF-8 byte order mark (EF BB BF) at the start of a segment (RFC 8725 §3.7). */
export const BOM_SEGMENT = '77u_';

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
