/**
 * `WWW-Authenticate` challenges: `Bearer` (RFC 6750 §3) and `DPoP` (RFC 9449 §7.1). Always at
 * least one auth-param, each at most once, quoted-string values escaped (RFC 9110 §5.6.4). When
 * both schemes are accepted both challenges are sent, the one the client must use first and the
 * only one with error parameters (docs/architecture.md#challenges).
 */

/** Parameters every challenge of one verifier carries. */
export interface ChallengeParams {
  /** `realm` (RFC 6750 §3). */
  realm?: string;
  /** `resource_metadata` (RFC 9728 §5.1): the URL of the protected resource metadata. */
  resourceMetadata?: string;
  /** Whether the `Bearer` scheme is accepted (default true; false under `dpop.required`). */
  bearer?: boolean;
  /** The DPoP proof algorithms (`algs`, RFC 9449 §7.1) when the `DPoP` scheme is accepted. */
  dpopAlgorithms?: readonly string[];
}

/** An authentication scheme certbound accepts. */
export type AuthScheme = 'Bearer' | 'DPoP';

/** What a refusal says in its challenge. All values are constants of ours. */
export interface ChallengeError {
  /** The scheme whose challenge carries the error. */
  scheme: AuthScheme;
  error?: string;
  description?: string;
  scopes?: readonly string[];
  /** More quoted parameters after `scope`, in order (RFC 9470's `acr_values`, `max_age`). */
  params?: ReadonlyArray<readonly [string, string]>;
}

/** The realm used when none is configured, so that a challenge always has an auth-param. */
export const DEFAULT_REALM = 'api';

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function challenge(scheme: AuthScheme, params: ChallengeParams, error?: ChallengeError): string {
  const parts: string[] = [];
  if (params.realm !== undefined || params.resourceMetadata === undefined) {
    parts.push(`realm=${quote(params.realm ?? DEFAULT_REALM)}`);
  }
  if (params.resourceMetadata !== undefined)
    parts.push(`resource_metadata=${quote(params.resourceMetadata)}`);
  if (error?.error !== undefined) {
    parts.push(`error=${quote(error.error)}`);
    if (error.description !== undefined) parts.push(`error_description=${quote(error.description)}`);
  }
  if (error?.scopes !== undefined && error.scopes.length > 0)
    parts.push(`scope=${quote(error.scopes.join(' '))}`);
  for (const [name, value] of error?.params ?? []) parts.push(`${name}=${quote(value)}`);
  if (scheme === 'DPoP' && params.dpopAlgorithms !== undefined) {
    parts.push(`algs=${quote(params.dpopAlgorithms.join(' '))}`);
  }
  return `${scheme} ${parts.join(', ')}`;
}

/** The schemes the verifier accepts, in the order challenges list them when nothing else decides. */
export function acceptedSchemes(params: ChallengeParams): AuthScheme[] {
  const schemes: AuthScheme[] = [];
  if (params.bearer !== false) schemes.push('Bearer');
  if (params.dpopAlgorithms !== undefined) schemes.push('DPoP');
  return schemes.length > 0 ? schemes : ['Bearer'];
}

/**
 * The `WWW-Authenticate` value: the challenge of `error.scheme` (with its error parameters) first
 * when there is an error, then each other accepted scheme's plain challenge.
 */
export function authenticateHeader(params: ChallengeParams, error?: ChallengeError): string {
  const schemes = acceptedSchemes(params);
  const first = error !== undefined && schemes.includes(error.scheme) ? error.scheme : undefined;
  const ordered = first === undefined ? schemes : [first, ...schemes.filter((scheme) => scheme !== first)];
  return ordered.map((scheme) => challenge(scheme, params, scheme === first ? error : undefined)).join(', ');
}

/** Builds the `Bearer` challenge alone (`error`, `description` and `scopes` are constants of ours). */
export function bearerChallenge(
  params: ChallengeParams,
  error?: string,
  description?: string,
  scopes?: readonly string[],
): string {
  return challenge('Bearer', params, { scheme: 'Bearer', error, description, scopes });
}
