/** A token whose signature/introspection, issuer, audience and type checked out: cacheable. */
import type { TokenTimes } from './token-time.js';

export interface ValidatedToken {
  format: 'jwt' | 'opaque';
  claims: Readonly<Record<string, unknown>>;
  subject: string | undefined;
  clientId: string | undefined;
  scopes: readonly string[];
  times: TokenTimes;
  /** Canonical `x5t#S256` ASCII bytes, or `undefined` for an unbound token. */
  confirmation: Buffer | undefined;
  /** JWT only: the id of the key that verified the signature (its validation ends with the key). */
  keyId?: string;
}
