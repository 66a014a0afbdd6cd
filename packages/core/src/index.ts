/**
 * `@certbound/core`: the verifier and what application code uses around it. What only adapter
 * authors need is in `@certbound/core/adapter`; defaults are documented with each option.
 */

export { type AuthContextPolicy, requireAuthContext } from './auth-context.js';
export type { AuthInfo, TokenClaims } from './auth-info.js';
export type { OutboundTlsOptions } from './authorization-server/http-client.js';
export type { BindingMode } from './binding/binding.js';
export { checkCertificateBinding } from './binding/certificate-binding.js';
export { type Confirmation, readConfirmation } from './binding/confirmation.js';
export type { CacheEntry, CacheStore } from './cache-store.js';
export { type CertificateInput, x5tS256 } from './certificate-input.js';
export type { AuthScheme } from './challenge.js';
export {
  type DecodeOptions,
  decodeCertificateHeader,
  HEADER_FORMATS,
  type HeaderFormat,
} from './client-certificate/decoders.js';
export { CERTIFICATE_HEADER_REASONS, CertificateHeaderError } from './client-certificate/header-error.js';
export {
  type CacheEvent,
  type CertificateHeaderIgnored,
  type DecisionEvent,
  DIAGNOSTICS_CHANNELS,
  type DpopProofEvent,
  type IntrospectionEvent,
  type JwksEvent,
  type ReplayEvent,
} from './diagnostics.js';
export type { ReplayStore } from './dpop/replay-store.js';
export {
  type BearerError,
  BINDING_ERROR_CODES,
  type BindingErrorCode,
  CertboundConfigurationError,
  CertboundError,
  type CertboundErrorBody,
  type CertboundErrorCode,
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  InvalidRequestError,
  InvalidTokenError,
  isCertboundError,
  ServiceUnavailableError,
  type UnavailableReason,
} from './errors.js';
export type { CertificateSourceOptions } from './options/certificate-options.js';
export type { DpopNonceOptions, DpopOptions, DpopReplayOptions } from './options/dpop-options.js';
export type {
  ClientAuthMethod,
  IntrospectionCacheOptions,
  IntrospectionOptions,
} from './options/introspection-options.js';
export type { IssuerOptions } from './options/issuer-options.js';
export type { ProtectedResourceOptions } from './options/protected-resource-options.js';
export type { CertboundOptions } from './options/verifier-options.js';
export {
  type ProtectedResourceMetadata,
  protectedResourceMetadata,
  protectedResourceMetadataLocation,
} from './resource-metadata.js';
export { hasScopes, requireScopes } from './scopes.js';
export { createVerifier, type Verifier, type VerifyInput } from './verifier.js';
