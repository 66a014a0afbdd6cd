/** The `protectedResource` option group (RFC 9728 Protected Resource Metadata). */
import { fail, httpsUrl, integerIn, nonEmptyString, optional, type Reader, stringList } from './checks.js';
import { type Normalized, readGroup } from './schema.js';

/** How long clients and caches may keep the document (`Cache-Control: public, max-age=…`). */
export const DEFAULT_METADATA_MAX_AGE_SECONDS = 3600;

/** What describes this API beyond the verifier's own options (camelCase of RFC 9728 §2). */
export interface ProtectedResourceOptions {
  /** The resource identifier (§1.2): an https URL without fragment, usually the token `aud`. */
  resource: string;
  /** Issuers of the authorization servers clients may use. Default: the verifier's `issuer` (or every one of `issuers`). */
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

const urlList: Reader<string[]> = (value, name) => stringList(value, name).map((url) => httpsUrl(url, name));

const PROTECTED_RESOURCE_OPTIONS = {
  resource: httpsUrl,
  /** `undefined`: the verifier's issuer. */
  authorizationServers: optional(urlList),
  scopesSupported: optional(stringList),
  resourceName: optional(nonEmptyString),
  resourceDocumentation: optional(httpsUrl),
  resourcePolicyUri: optional(httpsUrl),
  resourceTosUri: optional(httpsUrl),
  maxAgeSeconds: integerIn(DEFAULT_METADATA_MAX_AGE_SECONDS, 0, 31_536_000),
} satisfies Record<keyof ProtectedResourceOptions, Reader<unknown>>;

export type NormalizedProtectedResource = Normalized<typeof PROTECTED_RESOURCE_OPTIONS>;

/**
 * Reads `protectedResource`. With `strict` false, members that are not the group's are ignored
 * (for `protectedResourceMetadata()`, which takes a whole options object).
 */
export function readProtectedResource(value: unknown, strict = true): NormalizedProtectedResource {
  if (value === undefined) fail('protectedResource', 'an object { resource, ... }');
  return readGroup(
    value,
    'protectedResource',
    PROTECTED_RESOURCE_OPTIONS,
    'an object { resource, ... }',
    strict,
  );
}
