/**
 * `@certbound/core/adapter`: what framework adapters need and application code does not. An
 * adapter accepts options, a verifier or `{ verifier }`, owns (and closes) the verifier only when
 * it created it, validates scope names at start-up, and sets `auth.responseHeaders` on the
 * successful response. See docs/architecture.md, "Writing an adapter".
 */

import type { AuthInfo, TokenClaims } from './auth-info.js';
import { AUTHENTICATE_NOW, type AuthenticateContext, type NodeRequest, type Verifier } from './verifier.js';

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

/**
 * `verifier.authenticate(req, context)`, without a promise when the verifier can decide at once (a
 * token it validated before, no DPoP proof to check): adapters call this on every request so that
 * the common case costs no promise and no extra turn of the event loop. A refusal may be thrown
 * rather than returned as a rejected promise: handle both.
 */
export function authenticateNow<Claims extends TokenClaims = TokenClaims>(
  verifier: Verifier<Claims>,
  req: NodeRequest,
  context?: AuthenticateContext,
): AuthInfo<Claims> | Promise<AuthInfo<Claims>> {
  type Now = (
    req: NodeRequest,
    context?: AuthenticateContext,
  ) => AuthInfo<Claims> | Promise<AuthInfo<Claims>>;
  const now = (verifier as Partial<Record<typeof AUTHENTICATE_NOW, Now>>)[AUTHENTICATE_NOW];
  return now === undefined ? verifier.authenticate(req, context) : now.call(verifier, req, context);
}
