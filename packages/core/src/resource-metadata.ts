/**
 * RFC 9728 OAuth 2.0 Protected Resource Metadata: the document that tells clients which
 * authorization servers this API trusts and that it takes certificate-bound tokens, where it is
 * served (§3: the well-known segment inserted between host and path), and the response adapters
 * send for it.
 */
import { type NormalizedDpop, readDpop } from './options/dpop-options.js';
import {
  DEFAULT_METADATA_MAX_AGE_SECONDS,
  type NormalizedProtectedResource,
  type ProtectedResourceOptions,
  readProtectedResource,
} from './options/protected-resource-options.js';

export { DEFAULT_METADATA_MAX_AGE_SECONDS, type ProtectedResourceOptions };

/** RFC 9728 §3: the well-known URI suffix. */
export const PROTECTED_RESOURCE_WELL_KNOWN_PATH = '/.well-known/oauth-protected-resource';

/** The metadata document (RFC 9728 §2), as served. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers?: string[];
  bearer_methods_supported: ['header'];
  tls_client_certificate_bound_access_tokens: true;
  /** DPoP proof algorithms accepted (RFC 9449 §5.1 names the member), when DPoP is on. */
  dpop_signing_alg_values_supported?: string[];
  /** Whether only DPoP-bound tokens are accepted (`dpop.required`), when DPoP is on. */
  dpop_bound_access_tokens_required?: boolean;
  scopes_supported?: string[];
  resource_name?: string;
  resource_documentation?: string;
  resource_policy_uri?: string;
  resource_tos_uri?: string;
}

/** A ready-made HTTP response: what every adapter writes as is. */
export interface MetadataResponse {
  status: 200 | 405;
  headers: Record<string, string>;
  /** The JSON document (Node sends no body for HEAD), or empty on 405. */
  body: string;
}

export interface ProtectedResourceEndpoint {
  /** Absolute URL of the document: the challenges' `resource_metadata` (§5.1). */
  url: string;
  /** Its path on this origin (`/.well-known/oauth-protected-resource[/path]`). */
  path: string;
  document: ProtectedResourceMetadata;
  /**
   * The response to `method` on `target` (a request target: path and optional query, as in
   * `req.url`), or `undefined` when the path is not the document's.
   */
  respond(method: string | undefined, target: string | undefined): MetadataResponse | undefined;
}

/**
 * RFC 9728 §3: where the metadata of `resource` lives. The well-known segment goes between the
 * host and the path (a lone trailing `/` after the host is dropped; a query is kept).
 *
 * @example
 * protectedResourceMetadataLocation('https://api.example.com/payments')
 * // { url: 'https://api.example.com/.well-known/oauth-protected-resource/payments', path: '/.well-known/oauth-protected-resource/payments' }
 */
export function protectedResourceMetadataLocation(resource: string): { url: string; path: string } {
  const url = new URL(resource);
  const rest = url.pathname === '/' ? '' : url.pathname;
  const path = `${PROTECTED_RESOURCE_WELL_KNOWN_PATH}${rest}`;
  return { url: `${url.origin}${path}${url.search}`, path };
}

/**
 * Builds the RFC 9728 document from the verifier's options: `resource` is given explicitly,
 * `authorization_servers` defaults to `[issuer]`, only the `header` bearer method is offered
 * (RFC 6750 §2.1: certbound never reads tokens elsewhere), and certificate-bound tokens are
 * supported whatever the `binding` mode (`if-present` accepts unbound tokens too, but a bound
 * token is always enforced). Members without a value are omitted (§2).
 *
 * @example
 * protectedResourceMetadata({ resource: 'https://api.example.com', issuer: 'https://as.example.com', scopesSupported: ['accounts:read'] })
 */
export function protectedResourceMetadata(
  options: ProtectedResourceOptions & {
    issuer?: string;
    issuers?: ReadonlyArray<{ issuer: string }>;
    dpop?: unknown;
    [option: string]: unknown;
  },
): ProtectedResourceMetadata {
  const issuers =
    options.issuers?.map((entry) => entry.issuer) ?? (options.issuer === undefined ? [] : [options.issuer]);
  return metadataDocument(readProtectedResource(options, false), issuers, readDpop(options.dpop, 'dpop'));
}

/** The document from the normalized option; `authorization_servers` defaults to `[issuer]`. */
function metadataDocument(
  o: NormalizedProtectedResource,
  issuers: readonly string[],
  dpop: NormalizedDpop | undefined,
): ProtectedResourceMetadata {
  const authorizationServers = o.authorizationServers ?? [...issuers];
  const scopesSupported = o.scopesSupported ?? [];
  return {
    resource: o.resource,
    ...(authorizationServers.length > 0 ? { authorization_servers: authorizationServers } : {}),
    bearer_methods_supported: ['header'],
    tls_client_certificate_bound_access_tokens: true,
    ...(dpop === undefined
      ? {}
      : {
          dpop_signing_alg_values_supported: [...dpop.algorithms],
          dpop_bound_access_tokens_required: dpop.required,
        }),
    ...(scopesSupported.length > 0 ? { scopes_supported: scopesSupported } : {}),
    ...(o.resourceName === undefined ? {} : { resource_name: o.resourceName }),
    ...(o.resourceDocumentation === undefined ? {} : { resource_documentation: o.resourceDocumentation }),
    ...(o.resourcePolicyUri === undefined ? {} : { resource_policy_uri: o.resourcePolicyUri }),
    ...(o.resourceTosUri === undefined ? {} : { resource_tos_uri: o.resourceTosUri }),
  };
}

/** Prepares the metadata endpoint from the normalized `protectedResource` option. */
export function protectedResourceEndpoint(
  options: NormalizedProtectedResource,
  issuers: readonly string[],
  dpop: NormalizedDpop | undefined,
): ProtectedResourceEndpoint {
  const document = Object.freeze(metadataDocument(options, issuers, dpop)) as ProtectedResourceMetadata;
  const { url, path } = protectedResourceMetadataLocation(options.resource);
  const body = JSON.stringify(document);
  const ok = {
    'content-type': 'application/json',
    'cache-control': `public, max-age=${options.maxAgeSeconds}`,
  };
  return {
    url,
    path,
    document,
    respond(method, target) {
      if (target === undefined) return undefined;
      const query = target.indexOf('?');
      if ((query === -1 ? target : target.slice(0, query)) !== path) return undefined;
      // Node's ServerResponse drops the body of a HEAD response by itself.
      if (method === 'GET' || method === 'HEAD') return { status: 200, headers: ok, body };
      return { status: 405, headers: { allow: 'GET, HEAD' }, body: '' };
    },
  };
}
