/**
 * Strict building blocks shared by the certificate-header decoders (docs/proxies.md, decoding
 * rules 4 to 9): length caps checked before any decoding, standard base64 (RFC 4648 §4) with
 * alphabet and padding checks, percent-decoding (RFC 3986 §2.1) in which `+` stays `+`, and PEM
 * blocks (RFC 7468). Each runs in linear time on any input (scans and `indexOf`, no
 * backtracking-prone regular expressions) and throws nothing but {@link CertificateHeaderError}.
 */
import { parseCertificateDer, pemToDer } from '../certificate-input.js';
import { refuse } from './header-error.js';

/** Cap for a header carrying one certificate (docs/proxies.md, decoding rule 4). */
export const MAX_SINGLE_CERTIFICATE_HEADER_LENGTH = 16 * 1024;
/** Cap for a header that may carry a chain: XFCC (`Cert` + `Chain`), ALB passthrough, Traefik. */
export const MAX_CHAIN_HEADER_LENGTH = 64 * 1024;

/** Refuses anything but a string of at most `max` characters (latin1 header values: bytes). */
export function checkLength(value: unknown, max: number): asserts value is string {
  if (typeof value !== 'string') refuse('not-a-string');
  if (value.length > max) refuse('too-large');
}

/** One class and a bounded quantifier: linear. Padding is checked by re-encoding. */
const BASE64_ALPHABET = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes standard base64 (RFC 4648 §4) strictly: the alphabet only, `=` only at the end, and the
 * canonical encoding of its bytes (no stray characters, no non-zero pad bits, nothing ignored).
 * `padding: 'optional'` also accepts the unpadded form (RFC 9651 §4.2.7 asks sf-binary parsers
 * not to fail on missing padding).
 */
export function decodeStrictBase64(text: string, padding: 'required' | 'optional' = 'required'): Buffer {
  if (text.length === 0 || !BASE64_ALPHABET.test(text)) refuse('base64-malformed');
  let padded = text;
  if (text.length % 4 !== 0) {
    if (padding === 'required' || text.endsWith('=')) refuse('base64-malformed');
    padded = text + '='.repeat(4 - (text.length % 4));
  }
  const bytes = Buffer.from(padded, 'base64');
  if (bytes.toString('base64') !== padded) refuse('base64-malformed');
  return bytes;
}

function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Percent-decodes once (RFC 3986 §2.1), as `decodeURIComponent` would but byte-wise: every `%` must
 * start `%XX` with two hex digits, and `+` stays `+` (never a space: that is form encoding, and it
 * would corrupt base64). Decoded bytes become latin1 characters; PEM parsing refuses anything not ASCII.
 */
export function strictPercentDecode(text: string): string {
  const parts: string[] = [];
  let from = 0;
  for (let at = text.indexOf('%'); at !== -1; at = text.indexOf('%', from)) {
    const high = hexDigit(text.charCodeAt(at + 1));
    const low = hexDigit(text.charCodeAt(at + 2));
    if (high < 0 || low < 0) refuse('percent-malformed');
    parts.push(text.slice(from, at), String.fromCharCode(high * 16 + low));
    from = at + 3;
  }
  parts.push(text.slice(from));
  return parts.join('');
}

/** One RFC 7468 block: its label and its whole text, armour included. */
export interface PemBlock {
  label: string;
  text: string;
  body: string;
}

const BEGIN = '-----BEGIN ';
const DASHES = '-----';
const MAX_LABEL_LENGTH = 64;
const PRINTABLE_LABEL = /^[\x20-\x7e]+$/;

function isPemSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

/**
 * Splits text into PEM blocks (RFC 7468 §2). Only SP, HTAB, CR and LF may surround or separate
 * blocks (no explanatory text); a body never contains `-`, so block boundaries are unambiguous.
 */
export function splitPemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  let at = 0;
  for (;;) {
    while (at < text.length && isPemSpace(text.charCodeAt(at))) at++;
    if (at === text.length) return blocks;
    if (!text.startsWith(BEGIN, at)) refuse('pem-malformed');
    const labelStart = at + BEGIN.length;
    const labelEnd = text.indexOf(DASHES, labelStart);
    if (labelEnd === -1 || labelEnd - labelStart > MAX_LABEL_LENGTH) refuse('pem-malformed');
    const label = text.slice(labelStart, labelEnd);
    if (!PRINTABLE_LABEL.test(label)) refuse('pem-malformed');
    const end = `-----END ${label}-----`;
    const bodyStart = labelEnd + DASHES.length;
    const bodyEnd = text.indexOf(end, bodyStart);
    if (bodyEnd === -1) refuse('pem-malformed');
    const body = text.slice(bodyStart, bodyEnd);
    if (body.includes('-')) refuse('pem-malformed');
    at = bodyEnd + end.length;
    blocks.push({ label, text: text.slice(labelStart - BEGIN.length, at), body });
  }
}

/**
 * The DER inside a `CERTIFICATE` block, decoded by `pemToDer`: line breaks may be LF, CRLF or
 * spaces (Apache); TAB-folded PEM (nginx's deprecated `$ssl_client_cert`) is refused.
 */
function derOfBlock(block: PemBlock): Buffer {
  if (block.body.includes('\t')) refuse('pem-tab-folded');
  const der = pemToDer(block.text);
  if (der === undefined) refuse('pem-malformed');
  return der;
}

/**
 * The DER of the leaf in PEM text: exactly one `CERTIFICATE` block, or with `chain` the first of
 * several (leaf first: docs/proxies.md, decoding rule 8). Every block must be a `CERTIFICATE`
 * (never a key).
 */
export function leafPemDer(text: string, options: { chain?: boolean } = {}): Buffer {
  const blocks = splitPemBlocks(text);
  const leaf = blocks[0];
  if (leaf === undefined) refuse('pem-missing');
  if (blocks.some((block) => block.label !== 'CERTIFICATE')) refuse('pem-not-certificate');
  if (blocks.length > 1 && options.chain !== true) refuse('pem-multiple-blocks');
  return derOfBlock(leaf);
}

/**
 * The last step of every decoder (docs/proxies.md, decoding rule 9): the bytes must be exactly one
 * well-formed certificate, no trailing bytes, and are returned as received.
 */
export function certificateDer(bytes: Buffer): Buffer {
  const der = parseCertificateDer(bytes);
  if (der === undefined) refuse('not-a-certificate');
  return der;
}
