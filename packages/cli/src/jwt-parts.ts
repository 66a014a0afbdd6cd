/**
 * Decodes a JWS compact token (RFC 7515 §7.1) into its protected header and claims WITHOUT
 * verifying anything — for showing them to an operator. Tokens that are not JWTs are classified
 * (opaque, JWE) so the caller can explain what to do instead. Messages never quote the token.
 */

/** `jwt`: three dot-separated parts (JWS compact); `jwe`: five (RFC 7516 §7.1); else `opaque`. */
export type TokenShape = 'jwt' | 'jwe' | 'opaque';

export interface JwtParts {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** Length of the signature, in bytes (0 for an unsigned `alg: none` token). */
  signatureBytes: number;
}

/** A JWT-shaped token whose parts cannot be decoded; `message` says which part and why. */
export class JwtPartsError extends Error {
  override name = 'JwtPartsError';
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** What kind of token this is, from its shape only (as the verifier's `tokenFormat: 'auto'`). */
export function tokenShape(token: string): TokenShape {
  const parts = token.split('.').length;
  if (parts === 3) return 'jwt';
  if (parts === 5) return 'jwe';
  return 'opaque';
}

function decodeBase64url(segment: string, part: string): Buffer {
  // Unpadded base64url (RFC 7515 §2): its alphabet, no length ≡ 1 (mod 4), canonical pad bits.
  const bytes = Buffer.from(segment, 'base64url');
  if (!BASE64URL.test(segment) || segment.length % 4 === 1 || bytes.toString('base64url') !== segment) {
    throw new JwtPartsError(`the ${part} is not base64url`);
  }
  return bytes;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeJsonObject(segment: string, part: string): Record<string, unknown> {
  if (segment.length === 0) throw new JwtPartsError(`the ${part} is empty`);
  let text: string;
  try {
    text = utf8.decode(decodeBase64url(segment, part));
  } catch (error) {
    if (error instanceof JwtPartsError) throw error;
    throw new JwtPartsError(`the ${part} is not UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input: never shown.
    throw new JwtPartsError(`the ${part} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new JwtPartsError(`the ${part} is JSON but not an object (it is ${kind})`);
  }
  return value as Record<string, unknown>;
}

/**
 * The header and claims of a JWS compact token, unverified.
 *
 * @throws JwtPartsError unless the token is three base64url parts whose first two are JSON objects.
 */
export function decodeJwtParts(token: string): JwtParts {
  const parts = token.split('.');
  if (parts.length !== 3) {
    throw new JwtPartsError(`a JWT has 3 dot-separated parts, this token has ${parts.length}`);
  }
  const [header, claims, signature] = parts as [string, string, string];
  return {
    header: decodeJsonObject(header, 'protected header'),
    claims: decodeJsonObject(claims, 'payload'),
    signatureBytes: decodeBase64url(signature, 'signature').length,
  };
}

/** Why a non-JWT token cannot be read here, and what to do instead. */
export function notJwtExplanation(shape: Exclude<TokenShape, 'jwt'>): string {
  return shape === 'jwe'
    ? 'the token is an encrypted JWT (JWE, 5 parts): only the authorization server can read it; ' +
        'introspect it (RFC 7662) to see its claims and cnf'
    : 'the token is opaque (not a JWT): its claims and cnf are known only to the authorization ' +
        'server; introspect it (RFC 7662) to see them';
}
