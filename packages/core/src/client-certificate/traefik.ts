/**
 * Traefik `passTLSClientCert` with `pem: true`, `X-Forwarded-Tls-Client-Cert`: for each certificate
 * the client sent, its PEM without armour and newlines (bare base64 DER), joined with `,`; the
 * first element is the leaf, the others are unverified and never read. Traefik v2 applied Go's
 * `url.QueryEscape` to each element (`%2B`, `%2F`, `%3D`), later versions do not: an element with
 * a `%` is percent-decoded first (docs/proxies.md, decoding rules 5, 6 and 8).
 */
import {
  certificateDer,
  checkLength,
  decodeStrictBase64,
  MAX_CHAIN_HEADER_LENGTH,
  MAX_SINGLE_CERTIFICATE_HEADER_LENGTH,
  strictPercentDecode,
} from './header-encoding.js';
import { refuse } from './header-error.js';

export function decodeTraefik(value: string): Buffer {
  checkLength(value, MAX_CHAIN_HEADER_LENGTH);
  const comma = value.indexOf(',');
  let leaf = comma === -1 ? value : value.slice(0, comma);
  if (leaf.length === 0) refuse('traefik-leaf-missing');
  if (leaf.length > MAX_SINGLE_CERTIFICATE_HEADER_LENGTH) refuse('too-large');
  if (leaf.includes('%')) leaf = strictPercentDecode(leaf);
  return certificateDer(decodeStrictBase64(leaf, 'required'));
}
