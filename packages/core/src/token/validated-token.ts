/** A token whose signature/introspection, issuer, audience and type checked out: cacheable. */
import type { BindingConfirmation } from '../binding/confirmation.js';
import type { TokenTimes } from './token-time.js';

export interface ValidatedToken {
  format: 'jwt' | 'opaque';
  /** The issuer that accepted the token. */
  issuer: string;
  claims: Readonly<Record<string, unknown>>;
  subject: string | undefined;
  clientId: string | undefined;
  scopes: readonly string[];
  times: TokenTimes;
  /** What the token is bound to (`cnf`), or `undefined` for an unbound token. */
  confirmation: BindingConfirmation | undefined;
  /** An introspection answer's `token_type` is `DPoP` (RFC 9449 §6.2): the token needs the DPoP scheme. */
  dpopTokenType: boolean;
  /** JWT only: the id of the key that verified the signature (its validation ends with the key). */
  keyId?: string;
}
