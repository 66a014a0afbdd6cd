/** Injection tokens and metadata keys, as symbols shared by every copy of this package. */

/** Provides the module's `Verifier` (inject it to call `verify()` yourself). */
export const CERTBOUND_VERIFIER = Symbol.for('certbound.nest.verifier');
/** Metadata key set by `@Public()`. */
export const PUBLIC_KEY = Symbol.for('certbound.nest.public');
/** Metadata key set by `@Scopes()`. */
export const SCOPES_KEY = Symbol.for('certbound.nest.scopes');
/** Metadata key set by `@AuthContext()`. */
export const AUTH_CONTEXT_KEY = Symbol.for('certbound.nest.auth-context');
