/**
 * Hand-made JWS compact serializations for the adversarial suite: exact header and payload bytes
 * (duplicate members, `1e400`, a BOM, invalid UTF-8, `b64: false`, `crit`, …) that jose's `SignJWT`
 * refuses to produce. Signed with our own ES256 key (`craftedSigner`), with an HMAC secret, or not
 * at all (`alg: none`).
 */
import { constants, createHmac, generateKeyPairSync, sign } from 'node:crypto';
import type { JWK } from 'jose';

/** base64url without padding; strings are taken as UTF-8. */
export function b64url(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url');
}

/** The JSON text of `value`, or `value` itself when it already is text/bytes. */
function text(value: string | Uint8Array | object): string | Uint8Array {
  return typeof value === 'string' || value instanceof Uint8Array ? value : JSON.stringify(value);
}

/** `header.payload` of a compact JWS. */
export function signingInput(
  header: string | Uint8Array | object,
  payload: string | Uint8Array | object,
): string {
  return `${b64url(text(header))}.${b64url(text(payload))}`;
}

/** `alg: none` style: header and payload, empty (or given) signature segment. */
export function unsignedJws(
  header: string | Uint8Array | object,
  payload: string | Uint8Array | object,
  signature = '',
): string {
  return `${signingInput(header, payload)}.${signature}`;
}

/** HS* key confusion: an HMAC signature (SHA-256 by default) with `secret` (e.g. the issuer's RSA public key). */
export function hmacJws(
  header: string | Uint8Array | object,
  payload: string | Uint8Array | object,
  secret: string | Uint8Array,
  hash: 'sha256' | 'sha384' | 'sha512' = 'sha256',
): string {
  const input = signingInput(header, payload);
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

export interface CraftedSigner {
  kid: string;
  /** Public JWK (with `kid`, `alg: ES256`, `use: sig`) for a verifier's local `jwks`. */
  jwk: JWK;
  /** ES256-signs exactly the given header and payload (objects are JSON.stringify-ed). */
  sign(
    header: string | Uint8Array | object,
    payload: string | Uint8Array | object,
    options?: { dsaEncoding?: 'der' | 'ieee-p1363' },
  ): string;
  /** ES256 signature over an already-encoded signing input (for `b64: false`). */
  signInput(input: string): string;
}

/** A fresh P-256 key pair whose public half a verifier may trust through `jwks`. */
export function craftedSigner(kid: string): CraftedSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg: 'ES256', use: 'sig' };
  const signInput = (input: string, dsaEncoding: 'der' | 'ieee-p1363' = 'ieee-p1363') =>
    `${input}.${b64url(sign('sha256', Buffer.from(input, 'ascii'), { key: privateKey, dsaEncoding }))}`;
  return {
    kid,
    jwk,
    sign: (header, payload, options = {}) => signInput(signingInput(header, payload), options.dsaEncoding),
    signInput: (input) => signInput(input),
  };
}

/**
 * A JSON object text from `members` (values JSON-encoded) followed by `raw` members whose values
 * are written verbatim (e.g. `1e400`). A `raw` member replaces the same-named member; `undefined`
 * in `raw` removes it.
 */
export function jsonText(
  members: Record<string, unknown>,
  raw: Record<string, string | undefined> = {},
): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(members)) {
    if (!Object.hasOwn(raw, name)) parts.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  }
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) parts.push(`${JSON.stringify(name)}:${value}`);
  }
  return `{${parts.join(',')}}`;
}

export interface CraftedRsaSigner {
  kid: string;
  /** Public JWK pinned to `alg: RS256`. */
  jwk: JWK;
  /** Signs with this one RSA key as RS256 (PKCS #1 v1.5) or PS256 (PSS), whatever the header says. */
  sign(header: object, payload: object, scheme: 'RS256' | 'PS256'): string;
}

/** A fresh RSA-2048 key published as an RS256 key, to test key↔algorithm pinning (RFC 8725 §3.1). */
export function craftedRsaSigner(kid: string): CraftedRsaSigner {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    jwk,
    sign(header, payload, scheme) {
      const input = signingInput(header, payload);
      const signature = sign('sha256', Buffer.from(input, 'ascii'), {
        key: privateKey,
        ...(scheme === 'PS256' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : {}),
      });
      return `${input}.${b64url(signature)}`;
    },
  };
}
