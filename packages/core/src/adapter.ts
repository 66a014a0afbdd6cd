/**
 * `@certbound/core/adapter`: what framework adapters need and application code does not. An
 * adapter accepts options, a verifier or `{ verifier }`, owns (and closes) the verifier only when
 * it created it, validates scope names at start-up, and sets `auth.responseHeaders` on the
 * successful response. See docs/architecture.md, "Writing an adapter".
 */

export { assertAuthContextPolicy } from './auth-context.js';
export type { MetadataResponse, ProtectedResourceEndpoint } from './resource-metadata.js';
export { assertScopeNames } from './scopes.js';
export type { AuthenticateContext, NodeRequest } from './verifier.js';
export {
  assertVerifierSource,
  createsVerifier,
  isVerifier,
  resolveVerifier,
  type VerifierSource,
} from './verifier-source.js';
