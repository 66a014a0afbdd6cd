/**
 * DPoP for tests (RFC 9449): proof JWTs a client would send, and the thumbprint a DPoP-bound
 * token's `cnf.jkt` carries. A real client library makes the same proofs; these let an app's own
 * tests exercise the DPoP scheme without one.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type CryptoKey, calculateJwkThumbprint, exportJWK, type JWK, SignJWT } from 'jose';

/** A DPoP key pair: `generateKeyPair('ES256', { extractable: true })` from jose, for example. */
export interface DpopKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

export interface DpopProofOptions {
  key: DpopKey;
  /** The request method (`htm`). */
  method: string;
  /** The request URL (`htu`; query and fragment are dropped, as RFC 9449 §4.2 says). */
  url: string;
  /** The access token the proof goes with (`ath`). */
  accessToken?: string;
  /** The nonce the resource server gave (`DPoP-Nonce`). */
  nonce?: string;
  /** `iat`, seconds. Default now. */
  iat?: number;
  /** `jti`. Default a random UUID. */
  jti?: string;
  /** The signing algorithm. Default the key's (`ES256` for P-256, `EdDSA` for Ed25519, `RS256` for RSA). */
  alg?: string;
}

async function publicJwk(key: DpopKey): Promise<JWK> {
  const { kty, crv, x, y, n, e } = await exportJWK(key.publicKey);
  return Object.fromEntries(
    Object.entries({ kty, crv, x, y, n, e }).filter(([, value]) => value !== undefined),
  );
}

function algorithmOf(jwk: JWK): string {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'OKP') return 'EdDSA';
  return jwk.crv === 'P-384' ? 'ES384' : jwk.crv === 'P-521' ? 'ES512' : 'ES256';
}

/** The RFC 7638 thumbprint of the key: the `cnf.jkt` of tokens bound to it. */
export async function dpopThumbprint(key: Pick<DpopKey, 'publicKey'>): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(key.publicKey), 'sha256');
}

/**
 * A DPoP proof JWT (`typ: dpop+jwt`, the public key in `jwk`) for one request.
 *
 * @example
 * const proof = await createDpopProof({ key, method: 'GET', url: 'https://api.example.com/accounts', accessToken });
 * // headers: { authorization: `DPoP ${accessToken}`, dpop: proof }
 */
export async function createDpopProof(options: DpopProofOptions): Promise<string> {
  const jwk = await publicJwk(options.key);
  const url = new URL(options.url);
  const claims: Record<string, unknown> = {
    jti: options.jti ?? randomUUID(),
    htm: options.method,
    htu: `${url.origin}${url.pathname}`,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
  };
  if (options.accessToken !== undefined) {
    claims.ath = createHash('sha256').update(options.accessToken).digest('base64url');
  }
  if (options.nonce !== undefined) claims.nonce = options.nonce;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? algorithmOf(jwk), typ: 'dpop+jwt', jwk })
    .sign(options.key.privateKey);
}
