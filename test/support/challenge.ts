/**
 * The exact `WWW-Authenticate` value a certbound resource server sends, written out from the
 * contract (RFC 6750 §3, RFC 9449 §7.1, RFC 9728 §5.1) rather than from the core's code, so that
 * tests compare the response against an independent expectation:
 *
 * - with DPoP on (the default) both schemes are offered in one comma-joined value: the challenge
 *   of the scheme the client must use first carries the error parameters (`error`,
 *   `error_description`, `scope`, and RFC 9470 §3's `acr_values` and `max_age` for step-up), the
 *   other one none;
 * - each challenge has `realm` (when configured, or when no `resource_metadata` is) and
 *   `resource_metadata` (when configured); the DPoP one ends with `algs`;
 * - `dpop: false` offers `Bearer` alone, `dpop.required` offers `DPoP` alone.
 */

/** The default `dpop.algorithms`, as the DPoP challenge's `algs` lists them. */
export const DPOP_ALGS = 'ES256 ES384 EdDSA PS256 RS256';

export type Scheme = 'Bearer' | 'DPoP';

/** The schemes a resource server accepts: both (DPoP on), `Bearer` (`dpop: false`), `DPoP` (`dpop.required`). */
export type Accepted = 'both' | Scheme;

/** What every challenge of one resource server carries. */
export interface ChallengeParams {
  /** `realm`; left out of the challenges when absent. */
  realm?: string;
  /** `resource_metadata` (RFC 9728 §5.1). */
  resourceMetadata?: string;
  /** Default `both`. */
  accepted?: Accepted;
  /** `algs` of the DPoP challenge. Default {@link DPOP_ALGS}. */
  algs?: string;
}

/** What a refusal says, on the challenge of `scheme`. */
export interface Refusal {
  error: string;
  description: string;
  /** `scope` (403 `insufficient_scope`). */
  scope?: string;
  /** `acr_values` (RFC 9470 §3, 401 `insufficient_user_authentication`): space-separated. */
  acrValues?: string;
  /** `max_age` (RFC 9470 §3, 401 `insufficient_user_authentication`): seconds. */
  maxAge?: number;
  /** The scheme whose challenge carries the error: default `Bearer`, or `DPoP` when only DPoP is accepted. */
  scheme?: Scheme;
}

const quoted = (name: string, value: string) => `${name}="${value}"`;

function single(scheme: Scheme, params: ChallengeParams, refusal?: Refusal): string {
  const parts: string[] = [];
  if (params.realm !== undefined) parts.push(quoted('realm', params.realm));
  if (params.resourceMetadata !== undefined) parts.push(quoted('resource_metadata', params.resourceMetadata));
  if (refusal !== undefined) {
    parts.push(quoted('error', refusal.error), quoted('error_description', refusal.description));
    if (refusal.scope !== undefined) parts.push(quoted('scope', refusal.scope));
    if (refusal.acrValues !== undefined) parts.push(quoted('acr_values', refusal.acrValues));
    if (refusal.maxAge !== undefined) parts.push(quoted('max_age', String(refusal.maxAge)));
  }
  if (scheme === 'DPoP') parts.push(quoted('algs', params.algs ?? DPOP_ALGS));
  return `${scheme} ${parts.join(', ')}`;
}

/**
 * The whole `WWW-Authenticate` value: without `refusal`, the plain challenges (`Bearer` first);
 * with it, the challenge of `refusal.scheme` with the error first, then the other accepted one.
 *
 * @example
 * challenge({ realm: 'api' })
 * // 'Bearer realm="api", DPoP realm="api", algs="ES256 ES384 EdDSA PS256 RS256"'
 * challenge({ realm: 'api' }, { scheme: 'DPoP', error: 'invalid_dpop_proof', description: 'The DPoP proof is invalid' })
 * // 'DPoP realm="api", error="invalid_dpop_proof", error_description="The DPoP proof is invalid", algs="…", Bearer realm="api"'
 */
export function challenge(params: ChallengeParams, refusal?: Refusal): string {
  const accepted = params.accepted ?? 'both';
  const offered: Scheme[] = accepted === 'both' ? ['Bearer', 'DPoP'] : [accepted];
  if (refusal === undefined) return offered.map((scheme) => single(scheme, params)).join(', ');
  const first = refusal.scheme ?? (accepted === 'DPoP' ? 'DPoP' : 'Bearer');
  if (!offered.includes(first)) throw new Error(`the ${first} scheme is not accepted (${accepted})`);
  return [
    single(first, params, refusal),
    ...offered.filter((scheme) => scheme !== first).map((scheme) => single(scheme, params)),
  ].join(', ');
}

/** {@link challenge} with the parameters of one resource server fixed. */
export function challengesOf(params: ChallengeParams): (refusal?: Refusal) => string {
  return (refusal) => challenge(params, refusal);
}
