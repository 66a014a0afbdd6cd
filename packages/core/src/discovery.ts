/**
 * Authorization server metadata discovery: RFC 8414 §3 (`/.well-known/oauth-authorization-server`
 * inserted before the issuer's path), then OpenID Connect Discovery 1.0 §4
 * (`/.well-known/openid-configuration` appended). The document's `issuer` must equal ours exactly
 * (RFC 8414 §3.3).
 */
import { ServiceUnavailableError } from './errors.js';
import { type HttpClient, parseJsonObject } from './http-client.js';

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
 * Fetches and checks the issuer's metadata. A 404 at the RFC 8414 location falls through to the
 * OpenID location; any other failure, or an `issuer` mismatch, is a 503 (and is not cached).
 */
export async function discover(
  issuer: string,
  http: HttpClient,
  timeoutMs: number,
): Promise<AuthorizationServerMetadata> {
  const urls = discoveryUrls(issuer);
  let lastCause: unknown;
  for (const url of urls) {
    const response = await http.send(url, { headers: { accept: 'application/json' }, timeoutMs });
    if (response.status === 404) {
      lastCause = new Error(`HTTP 404 from ${url}`);
      continue;
    }
    if (response.status !== 200) {
      throw new ServiceUnavailableError({ cause: new Error(`HTTP ${response.status} from ${url}`) });
    }
    const metadata = parseJsonObject(response.body);
    if (metadata.issuer !== issuer) {
      throw new ServiceUnavailableError({
        cause: new Error(`the metadata at ${url} names another issuer`),
      });
    }
    return metadata as AuthorizationServerMetadata;
  }
  throw new ServiceUnavailableError({ cause: lastCause });
}
