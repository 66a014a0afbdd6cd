/** What handlers see about an authenticated request. */
import type { ChallengeParams } from './challenge.js';

/** JWT claims or introspection response members. */
export type TokenClaims = Record<string, unknown>;

/**
 * The result of a successful authentication. `claims` is the verified JWT payload or the
 * introspection response. The object and its arrays are frozen.
 */
export interface AuthInfo<Claims extends TokenClaims = TokenClaims> {
  /** The access token as presented. Never log it. */
  token: string;
  /** How it was validated. */
  format: 'jwt' | 'opaque';
  claims: Claims;
  /** `sub`. */
  subject: string | undefined;
  /** `client_id`. */
  clientId: string | undefined;
  /** Granted scopes (`scope`, space-delimited). */
  scopes: string[];
  /** `exp` as a Date. */
  expiresAt: Date | undefined;
  /** `x5t#S256` of the certificate presented on this request, if any. */
  thumbprint: string | undefined;
  /** Whether the token is certificate-bound (and the binding held). */
  bound: boolean;
}

const challenges = new WeakMap<object, ChallengeParams>();

/** Remembers the challenge parameters of the verifier that produced `auth`. */
export function rememberChallenge(auth: AuthInfo, params: ChallengeParams): void {
  challenges.set(auth, params);
}

/** The challenge parameters for errors about `auth` (e.g. insufficient scope). */
export function challengeOf(auth: AuthInfo): ChallengeParams {
  return challenges.get(auth) ?? {};
}
