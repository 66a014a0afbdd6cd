/**
 * `WWW-Authenticate: Bearer …` per RFC 6750 §3: always at least one auth-param, each at most once,
 * quoted-string values escaped (RFC 9110 §5.6.4).
 */

/** Parameters every challenge of one verifier carries. */
export interface ChallengeParams {
  /** `realm` (RFC 6750 §3). */
  realm?: string;
  /** `resource_metadata` (RFC 9728 §5.1): the URL of the protected resource metadata. */
  resourceMetadata?: string;
}

/** The realm used when none is configured, so that a challenge always has an auth-param. */
export const DEFAULT_REALM = 'api';

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** Builds the `Bearer` challenge. `error`, `description` and `scopes` are constants of ours. */
export function bearerChallenge(
  params: ChallengeParams,
  error?: string,
  description?: string,
  scopes?: readonly string[],
): string {
  const parts: string[] = [];
  if (params.realm !== undefined || params.resourceMetadata === undefined) {
    parts.push(`realm=${quote(params.realm ?? DEFAULT_REALM)}`);
  }
  if (params.resourceMetadata !== undefined)
    parts.push(`resource_metadata=${quote(params.resourceMetadata)}`);
  if (error !== undefined) {
    parts.push(`error=${quote(error)}`);
    if (description !== undefined) parts.push(`error_description=${quote(description)}`);
  }
  if (scopes !== undefined && scopes.length > 0) parts.push(`scope=${quote(scopes.join(' '))}`);
  return `Bearer ${parts.join(', ')}`;
}
