/**
 * RFC 9440 `Client-Cert`: an sf-binary Item (RFC 9651 §3.3.5), `:` base64(DER) `:` (RFC 9440 §2.1).
 * Strict alphabet, no whitespace inside, no parameters (RFC 9440 defines none) and no list:
 * `Client-Cert` is a singleton (§2.2). `Client-Cert-Chain` is never read (leaf only).
 */
import {
  certificateDer,
  checkLength,
  decodeStrictBase64,
  MAX_SINGLE_CERTIFICATE_HEADER_LENGTH,
} from './header-encoding.js';
import { refuse } from './header-error.js';

const COLON = 0x3a;

export function decodeRfc9440(value: string): Buffer {
  checkLength(value, MAX_SINGLE_CERTIFICATE_HEADER_LENGTH);
  const last = value.length - 1;
  // The closing colon must be the last character: anything after it (`;param`, `, :b64:`) is refused.
  if (value.length < 2 || value.charCodeAt(0) !== COLON || value.indexOf(':', 1) !== last) {
    refuse('not-rfc9440-byte-sequence');
  }
  // RFC 9651 §4.2.7: parsers should not fail on missing padding.
  return certificateDer(decodeStrictBase64(value.slice(1, last), 'optional'));
}
