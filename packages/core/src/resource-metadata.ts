/**
 * RFC 9728 OAuth 2.0 Protected Resource Metadata: the document that tells clients which
 * authorization servers this API trusts and that it takes certificate-bound tokens, where it is
 * served (§3: the well-known segment inserted between host and path), and the response adapters
 * send for it.
 */
import type { BindingMode } from './binding.js';
import { fail, httpsUrl, isRecord, nonEmptyString, stringList } from './option-checks.js';

/** RFC 9728 §3: the well-known URI suffix. */
export const PROTECTED_RESOURCE_WELL_KNOWN_PATH = '/.well-known/oauth-protected-resource';
/** How long clients and caches may keep the document (`Cache-Control: public, max-age=…`). */
export const DEFAULT_METADATA_MAX_AGE_SECONDS = 3600;

/** What describes this API beyond the verifier's own options (camelCase of RFC 9728 §2). */
export interface ProtectedResourceOptions {
  /** The resource identifier (§1.2): an https URL without fragment, usually the token `aud`. */
  resource: string;
  /** Issuers of the authorization servers clients may use. Default: the verifier's `issuer`. */
  authorizationServers?: string[];
  /** Scopes this API understands (RECOMMENDED). */
  scopesSupported?: string[];
  /** Human-readable name (RECOMMENDED). */
  resourceName?: string;
  resourceDocumentation?: string;
  resourcePolicyUri?: string;
  resourceTosUri?: string;
  /** `max-age` of the document's `Cache-Control`, seconds. Default 3600. */
  maxAgeSeconds?: number;
}

/** The metadata document (RFC 9728 §2), as served. */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers?: string[];
  bearer_methods_supported: ['header'];
  tls_client_certificate_bound_access_tokens: true;
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
  options: ProtectedResourceOptions & { issuer?: string; binding?: BindingMode; [option: string]: unknown },
): ProtectedResourceMetadata {
  const o = checkProtectedResource(options, options.issuer, false);
  const document: ProtectedResourceMetadata = {
    resource: o.resource,
    ...(o.authorizationServers.length > 0 ? { authorization_servers: o.authorizationServers } : {}),
    bearer_methods_supported: ['header'],
    tls_client_certificate_bound_access_tokens: true,
    ...(o.scopesSupported.length > 0 ? { scopes_supported: o.scopesSupported } : {}),
    ...(o.resourceName === undefined ? {} : { resource_name: o.resourceName }),
    ...(o.resourceDocumentation === undefined ? {} : { resource_documentation: o.resourceDocumentation }),
    ...(o.resourcePolicyUri === undefined ? {} : { resource_policy_uri: o.resourcePolicyUri }),
    ...(o.resourceTosUri === undefined ? {} : { resource_tos_uri: o.resourceTosUri }),
  };
  return document;
}

interface CheckedProtectedResource {
  resource: string;
  authorizationServers: string[];
  scopesSupported: string[];
  resourceName: string | undefined;
  resourceDocumentation: string | undefined;
  resourcePolicyUri: string | undefined;
  resourceTosUri: string | undefined;
  maxAgeSeconds: number;
}

const NAME = 'protectedResource';

/** `strict`: unknown members are errors (the `protectedResource` option, not a whole options object). */
function checkProtectedResource(
  value: unknown,
  issuer: string | undefined,
  strict: boolean,
): CheckedProtectedResource {
  if (!isRecord(value)) fail(NAME, 'an object { resource, ... }');
  const known = new Set([
    'resource',
    'authorizationServers',
    'scopesSupported',
    'resourceName',
    'resourceDocumentation',
    'resourcePolicyUri',
    'resourceTosUri',
    'maxAgeSeconds',
  ]);
  for (const name of strict ? Object.keys(value) : []) {
    if (!known.has(name)) throw new TypeError(`Invalid certbound option: unknown option "${NAME}.${name}"`);
  }
  const url = (name: string) =>
    value[name] === undefined ? undefined : httpsUrl(value[name], `${NAME}.${name}`);
  const maxAge = value.maxAgeSeconds ?? DEFAULT_METADATA_MAX_AGE_SECONDS;
  if (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0 || maxAge > 31_536_000) {
    fail(`${NAME}.maxAgeSeconds`, 'an integer from 0 to 31536000');
  }
  return {
    resource: httpsUrl(value.resource, `${NAME}.resource`),
    authorizationServers:
      value.authorizationServers === undefined
        ? issuer === undefined
          ? []
          : [issuer]
        : stringList(value.authorizationServers, `${NAME}.authorizationServers`).map((server) =>
            httpsUrl(server, `${NAME}.authorizationServers`),
          ),
    scopesSupported:
      value.scopesSupported === undefined ? [] : stringList(value.scopesSupported, `${NAME}.scopesSupported`),
    resourceName:
      value.resourceName === undefined
        ? undefined
        : nonEmptyString(value.resourceName, `${NAME}.resourceName`),
    resourceDocumentation: url('resourceDocumentation'),
    resourcePolicyUri: url('resourcePolicyUri'),
    resourceTosUri: url('resourceTosUri'),
    maxAgeSeconds: maxAge,
  };
}

/** Validates `protectedResource` (throwing the option TypeError) and prepares its endpoint. */
export function protectedResourceEndpoint(
  options: unknown,
  verifier: { issuer: string; binding: BindingMode },
): ProtectedResourceEndpoint {
  const checked = checkProtectedResource(options, verifier.issuer, true);
  const document = Object.freeze(
    protectedResourceMetadata({ ...(options as ProtectedResourceOptions), ...verifier }),
  ) as ProtectedResourceMetadata;
  const { url, path } = protectedResourceMetadataLocation(checked.resource);
  const body = JSON.stringify(document);
  const ok = {
    'content-type': 'application/json',
    'cache-control': `public, max-age=${checked.maxAgeSeconds}`,
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
