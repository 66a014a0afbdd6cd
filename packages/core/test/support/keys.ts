/**
 * Signing keys for tests, and their RFC 7638 thumbprints computed here from the RFC's rules (the
 * required members in lexicographic order, no whitespace), not with the code under test.
 */
import { createHash } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK } from 'jose';

export interface TestKey {
  /** The public JWK as a JWK Set publishes it (with `kid` and `alg` when given). */
  jwk: JWK;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/** A new key pair for `alg`; its public JWK carries `kid` and `alg` unless they are `undefined`. */
export async function testKey(alg: 'ES256' | 'RS256' | 'EdDSA', kid?: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), alg };
  if (kid !== undefined) jwk.kid = kid;
  return { jwk, privateKey, publicKey };
}

/** RFC 7638 §3.2: the members each key type's thumbprint is made of. */
const REQUIRED_MEMBERS: Record<string, string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/** The RFC 7638 SHA-256 thumbprint of a public JWK, base64url. */
export function rfc7638(jwk: JWK): string {
  const members = REQUIRED_MEMBERS[jwk.kty!];
  if (members === undefined) throw new Error(`rfc7638: no rule for kty ${jwk.kty}`);
  const json = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(jwk[m as keyof JWK])}`).join(',')}}`;
  return createHash('sha256').update(json).digest('base64url');
}
