/**
 * Authorization server metadata discovery: RFC 8414 §3 (`/.well-known/oauth-authorization-server`
 * inserted before the issuer's path), then OpenID Connect Discovery 1.0 §4
 * (`/.well-known/openid-configuration` appended). The document's `issuer` must equal ours exactly
 * (RFC 8414 §3.3).
 */
import { ServiceUnavailableError } from '../errors.js';
import { type HttpClient, jsonObjectOf } from './http-client.js';

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
  let lastCause: unknown;
  for (const url of discoveryUrls(issuer)) {
    const response = await http.send(url, { headers: { accept: 'application/json' }, timeoutMs });
    try {
      const metadata = jsonObjectOf(response, 'metadata document');
      if (metadata.issuer === issuer) return metadata as AuthorizationServerMetadata;
      lastCause = new Error(`the metadata at ${url} names another issuer`);
    } catch (cause) {
      lastCause = cause;
    }
  }
  throw new ServiceUnavailableError({ cause: lastCause });
}
