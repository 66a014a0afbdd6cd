/**
 * What adapter factories accept (options, a verifier, or `{ verifier }`) and who owns the
 * verifier that results: the first thing every adapter does.
 */
import type { TokenClaims } from './auth-info.js';
import { type CertboundOptions, normalizeOptions } from './options/verifier-options.js';
import { createVerifier, VERIFIER, type Verifier } from './verifier.js';

/** Whether `value` is a verifier made by {@link createVerifier}. */
export function isVerifier(value: unknown): value is Verifier {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[VERIFIER] === true;
}

/**
 * What adapter factories take: options, a verifier, or `{ verifier }` (for frameworks that copy
 * their options objects, such as Fastify's `register` and Nest's module builder).
 */
export type VerifierSource<Claims extends TokenClaims = TokenClaims> =
  | CertboundOptions
  | Verifier<Claims>
  | { verifier: Verifier<Claims> };

function givenVerifier<Claims extends TokenClaims>(
  source: VerifierSource<Claims>,
): Verifier<Claims> | undefined {
  if (isVerifier(source)) return source as Verifier<Claims>;
  if (typeof source !== 'object' || source === null) return undefined;
  const wrapped = (source as { verifier?: unknown }).verifier;
  return isVerifier(wrapped) ? (wrapped as Verifier<Claims>) : undefined;
}

/** The verifier given, or a new one from options: what every adapter factory does first. */
export function resolveVerifier<Claims extends TokenClaims = TokenClaims>(
  source: VerifierSource<Claims>,
): Verifier<Claims> {
  return givenVerifier(source) ?? createVerifier<Claims>(source as CertboundOptions);
}

/**
 * Whether {@link resolveVerifier} creates the verifier from `source` (options), in which case the
 * adapter owns it and closes it with the app; a verifier passed in is left to its owner.
 */
export function createsVerifier(source: VerifierSource): boolean {
  return givenVerifier(source) === undefined;
}

/**
 * Throws the TypeError `createVerifier` would throw for these options, without creating anything:
 * for adapters whose verifier is created later (Nest's `forRoot`) to fail at start-up all the same.
 */
export function assertVerifierSource(source: VerifierSource): void {
  if (createsVerifier(source)) normalizeOptions(source);
}
