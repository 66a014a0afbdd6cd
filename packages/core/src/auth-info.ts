/** What handlers see about an authenticated request. */
import type { ChallengeParams } from './challenge.js';

/** JWT claims or introspection response members. */
export type TokenClaims = Record<string, unknown>;

/**
 * The result of a successful authentication. `claims` is the verified JWT payload or the
 * introspection response, shared between requests with the same token and deeply frozen;
 * `scopes` is a fresh array per request.
 */
export interface AuthInfo<Claims extends TokenClaims = TokenClaims> {
  /** The access token as presented. Never log it. */
  token: string;
  /** How it was validated. */
  format: 'jwt' | 'opaque';
  /** The authorization server that issued it (one of `issuers`, or `issuer`). */
  issuer: string;
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
  /** Whether the token is sender-constrained, to the certificate or a DPoP key (and the binding held). */
  bound: boolean;
  /** The `Authorization` scheme the token came with. */
  scheme: 'Bearer' | 'DPoP';
  /** The RFC 7638 thumbprint of the request's DPoP proof key (DPoP scheme only). */
  jkt: string | undefined;
  /**
   * Headers every adapter sets on the successful response, before the handler runs (so it may
   * override them): `Cache-Control: no-store`, so no cache keeps a response meant for one token's
   * holder (docs/architecture.md#no-store-on-success), and a fresh `DPoP-Nonce` when the resource
   * server issues nonces (RFC 9449 §9).
   */
  responseHeaders: Readonly<Record<string, string>>;
}

/** The response headers of every successful authentication. */
export const SUCCESS_RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
});

/**
 * The AuthInfo the verifier hands out. It also remembers the verifier's challenge parameters in
 * a private field, so errors raised later about it (insufficient scope) carry the same `realm`.
 */
export class VerifiedAuth<Claims extends TokenClaims = TokenClaims> implements AuthInfo<Claims> {
  readonly #challenge: ChallengeParams;
  token: string;
  format: 'jwt' | 'opaque';
  issuer: string;
  claims: Claims;
  subject: string | undefined;
  clientId: string | undefined;
  scopes: string[];
  expiresAt: Date | undefined;
  thumbprint: string | undefined;
  bound: boolean;
  scheme: 'Bearer' | 'DPoP';
  jkt: string | undefined;
  responseHeaders: Readonly<Record<string, string>>;

  readonly #clockToleranceSeconds: number;

  constructor(fields: AuthInfo<Claims>, challenge: ChallengeParams, clockToleranceSeconds = 0) {
    this.#challenge = challenge;
    this.#clockToleranceSeconds = clockToleranceSeconds;
    this.token = fields.token;
    this.format = fields.format;
    this.issuer = fields.issuer;
    this.claims = fields.claims;
    this.subject = fields.subject;
    this.clientId = fields.clientId;
    this.scopes = fields.scopes;
    this.expiresAt = fields.expiresAt;
    this.thumbprint = fields.thumbprint;
    this.bound = fields.bound;
    this.scheme = fields.scheme;
    this.jkt = fields.jkt;
    this.responseHeaders = fields.responseHeaders;
  }

  /** The challenge parameters for errors about `auth` (e.g. insufficient scope). */
  static challengeOf(auth: AuthInfo): ChallengeParams {
    return #challenge in auth ? (auth as VerifiedAuth).#challenge : {};
  }

  /** The clock tolerance of the verifier that produced `auth` (0 for another object). */
  static clockToleranceOf(auth: AuthInfo): number {
    return #challenge in auth ? (auth as VerifiedAuth).#clockToleranceSeconds : 0;
  }
}

/** The challenge parameters of the verifier that produced `auth`. */
export function challengeOf(auth: AuthInfo): ChallengeParams {
  return VerifiedAuth.challengeOf(auth);
}
