export type { AuthInfo, TokenClaims } from './auth-info.js';
export type { BindingMode } from './binding.js';
export { checkCertificateBinding } from './binding-check.js';
export type { CacheEntry, CacheStore } from './cache-store.js';
export type { ChallengeParams } from './challenge.js';
export {
  DEFAULT_HEADER_NAMES,
  type DecodeOptions,
  decodeCertificateHeader,
  HEADER_FORMATS,
  type HeaderFormat,
} from './client-certificate/decoders.js';
export { CERTIFICATE_HEADER_REASONS, CertificateHeaderError } from './client-certificate/header-error.js';
export {
  type CacheEvent,
  CERTIFICATE_HEADER_CHANNEL,
  type CertificateHeaderIgnored,
  type DecisionEvent,
  DIAGNOSTICS_CHANNELS,
  type IntrospectionEvent,
  type JwksEvent,
} from './diagnostics.js';
export {
  type BearerError,
  CertboundError,
  type CertboundErrorBody,
  type CertboundErrorCode,
  DEFAULT_RETRY_AFTER_SECONDS,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  isCertboundError,
  ServiceUnavailableError,
} from './errors.js';
export type { OutboundTlsOptions } from './http-client.js';
export {
  type ClientAuthMethod,
  DEFAULT_INTROSPECTION_CACHE_MAX,
  DEFAULT_INTROSPECTION_MAX_TTL_SECONDS,
  DEFAULT_NEGATIVE_TTL_SECONDS,
  type IntrospectionCacheOptions,
  type IntrospectionOptions,
} from './introspection-options.js';
export { DEFAULT_ACCEPTED_TYP, DEFAULT_ALGORITHMS, DEFAULT_REQUIRED_CLAIMS } from './jwt.js';
export {
  type CertboundOptions,
  type CertificateSourceOptions,
  DEFAULT_TIMEOUT_MS,
  MAX_CLOCK_TOLERANCE_SECONDS,
} from './options.js';
export {
  DEFAULT_METADATA_MAX_AGE_SECONDS,
  type MetadataResponse,
  PROTECTED_RESOURCE_WELL_KNOWN_PATH,
  type ProtectedResourceEndpoint,
  type ProtectedResourceMetadata,
  type ProtectedResourceOptions,
  protectedResourceMetadata,
  protectedResourceMetadataLocation,
} from './resource-metadata.js';
export { hasScopes, requireScopes } from './scopes.js';
export { type CertificateInput, x5tS256 } from './thumbprint.js';
export { DEFAULT_TOKEN_CACHE_MAX, DEFAULT_TOKEN_CACHE_MAX_TTL_SECONDS } from './token-cache.js';
export { DEFAULT_CLOCK_TOLERANCE_SECONDS } from './token-time.js';
export {
  type AuthenticateContext,
  createVerifier,
  type NodeRequest,
  type Verifier,
  type VerifyInput,
} from './verifier.js';
export type { VerifierSource } from './verifier-source.js';
