/**
 * Authorization server metadata discovery: RFC 8414 §3 (`/.well-known/oauth-authorization-server`
 * inserted before the issuer's path), then OpenID Connect Discovery 1.0 §4
 * (`/.well-known/openid-configuration` appended). The document's `issuer` must equal ours exactly
 * (RFC 8414 §3.3).
 */
import { ServiceUnavailableError } from '../errors.js';
import { type HttpClient, jsonObjectOf, unavailable } from './http-client.js';

/** The members of RFC 8414 metadata certbound reads. */
export interface AuthorizationServerMetadata {
  issuer: string;
  jwks_uri?: string;
  introspection_endpoint?: string;
  mtls_endpoint_aliases?: Record<string, unknown>;
  [member: string]: unknown;
}

/** The well-known URLs tried, in order. */
export function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
}

/**
 * Fetches and checks the issuer's metadata. Anything but usable metadata for this issuer at the
 * RFC 8414 location (a 404, a 403, an HTML page, another issuer's document) falls through to the
 * OpenID location; a transport failure, or nothing usable at either, is a 503 (not cached).
 */
export async function discover(
  issuer: string,
  http: HttpClient,
  timeoutMs: number,
): Promise<AuthorizationServerMetadata> {
  let last: ServiceUnavailableError | undefined;
  for (const url of discoveryUrls(issuer)) {
    const response = await http.send(url, { headers: { accept: 'application/json' }, timeoutMs });
    try {
      const metadata = jsonObjectOf(response, url, 'metadata document');
      if (metadata.issuer === issuer) return metadata as AuthorizationServerMetadata;
      last = unavailable('issuer_mismatch', url, 'the metadata names another issuer');
    } catch (error) {
      if (!(error instanceof ServiceUnavailableError)) throw error;
      last = error;
    }
  }
  throw last ?? unavailable('metadata_incomplete', issuer, 'no metadata document');
}
