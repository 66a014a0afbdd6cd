/**
 * Values of distinguished-name attributes: decoding the BER string types found in certificates
 * (RFC 5280 §4.1.2.4 DirectoryString, IA5String) and comparing them with caseIgnoreMatch
 * (RFC 4517 §4.2.11) after RFC 4518 string preparation.
 */

/** An attribute value, from a certificate or from an RFC 4514 string. */
export type AttributeValue =
  /** A character string, decoded to Unicode. */
  | { kind: 'string'; text: string }
  /** A value of another ASN.1 type: its whole BER/DER encoding, compared byte for byte. */
  | { kind: 'binary'; ber: Uint8Array }
  /** A string whose bytes are not valid for its type: it never matches. */
  | { kind: 'invalid' };

const UTF8_STRING = 0x0c;
const NUMERIC_STRING = 0x12;
const PRINTABLE_STRING = 0x13;
const TELETEX_STRING = 0x14;
const IA5_STRING = 0x16;
const VISIBLE_STRING = 0x1a;
const UNIVERSAL_STRING = 0x1c;
const BMP_STRING = 0x1e;
const ASCII_STRINGS = new Set([NUMERIC_STRING, PRINTABLE_STRING, IA5_STRING, VISIBLE_STRING]);
const MAX_LENGTH_OCTETS = 4;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Tag and content of one BER TLV with a definite length, or `undefined` if `ber` is not exactly one. */
function readTlv(ber: Uint8Array): { tag: number; content: Uint8Array } | undefined {
  const tag = ber[0];
  if (tag === undefined || (tag & 0x1f) === 0x1f) return undefined; // no high tag numbers here
  const first = ber[1];
  if (first === undefined || first === 0x80) return undefined; // indefinite length: not for strings we read
  let offset = 2;
  let length = first;
  if (first > 0x80) {
    const octets = first & 0x7f;
    if (octets > MAX_LENGTH_OCTETS || ber.length < 2 + octets) return undefined;
    length = 0;
    for (; offset < 2 + octets; offset++) length = length * 256 + (ber[offset] ?? 0);
  }
  if (offset + length !== ber.length) return undefined;
  return { tag, content: ber.subarray(offset) };
}

function latin1(content: Uint8Array): string {
  return Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('latin1');
}

function decodeUtf16Be(content: Uint8Array): string | undefined {
  if (content.length % 2 !== 0) return undefined;
  let text = '';
  for (let i = 0; i < content.length; i += 2)
    text += String.fromCharCode(((content[i] ?? 0) << 8) | (content[i + 1] ?? 0));
  return text;
}

function decodeUtf32Be(content: Uint8Array): string | undefined {
  if (content.length % 4 !== 0) return undefined;
  let text = '';
  const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
  for (let i = 0; i < content.length; i += 4) {
    const codePoint = view.getUint32(i);
    if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return undefined;
    text += String.fromCodePoint(codePoint);
  }
  return text;
}

function decodeString(tag: number, content: Uint8Array): string | undefined {
  if (tag === UTF8_STRING) {
    try {
      return utf8.decode(content);
    } catch {
      return undefined;
    }
  }
  if (ASCII_STRINGS.has(tag)) {
    return content.every((byte) => byte < 0x80) ? latin1(content) : undefined;
  }
  // T.61 is read as ISO 8859-1, as OpenSSL and most X.509 software do.
  if (tag === TELETEX_STRING) return latin1(content);
  if (tag === BMP_STRING) return decodeUtf16Be(content);
  if (tag === UNIVERSAL_STRING) return decodeUtf32Be(content);
  return undefined;
}

/**
 * Decodes one BER-encoded attribute value: the character string types become Unicode text
 * (BMPString as UTF-16BE, UniversalString as UTF-32BE, TeletexString as ISO 8859-1); other types
 * stay binary. Returns `undefined` if `ber` is not exactly one TLV with a definite length.
 */
export function decodeAttributeValue(ber: Uint8Array): AttributeValue | undefined {
  const tlv = readTlv(ber);
  if (tlv === undefined) return undefined;
  const stringType =
    ASCII_STRINGS.has(tlv.tag) ||
    [UTF8_STRING, TELETEX_STRING, BMP_STRING, UNIVERSAL_STRING].includes(tlv.tag);
  if (!stringType) return { kind: 'binary', ber };
  const text = decodeString(tlv.tag, tlv.content);
  return text === undefined ? { kind: 'invalid' } : { kind: 'string', text };
}

// RFC 4518 §2.2: code points mapped to nothing (soft hyphens, joiners, variation selectors,
// control and format characters, ZERO WIDTH SPACE) and code points mapped to SPACE.
const MAP_TO_NOTHING =
  // biome-ignore lint/suspicious/noControlCharactersInRegex lint/suspicious/noMisleadingCharacterClass: RFC 4518 §2.2 lists these code points one by one
  /[\u0000-\u0008\u000E-\u001F\u007F-\u0084\u0086-\u009F\u00AD\u034F\u06DD\u070F\u1806\u180B-\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2063\u206A-\u206F\uFE00-\uFE0F\uFEFF\uFFF9-\uFFFC\u{1D173}-\u{1D17A}\u{E0001}\u{E0020}-\u{E007F}]/gu;
const MAP_TO_SPACE = /[\t\n\v\f\r\u0085\p{Zs}\u2028\u2029]/gu;
// RFC 4518 §2.4: unassigned (in this runtime's Unicode version), private use, non-characters,
// surrogates, RFC 3454 table C.8 and U+FFFD.
// biome-ignore lint/suspicious/noMisleadingCharacterClass: single code points, never combined
const PROHIBITED = /[\p{Cn}\p{Co}\p{Cs}\u0340\u0341\u200E\u200F\u202A-\u202E\u206A-\u206F\uFFFD]/u;

/**
 * RFC 4518 string preparation for caseIgnoreMatch: map (§2.2), case fold, NFKC (§2.3), prohibit
 * (§2.4), insignificant space handling (§2.6.1: no leading or trailing spaces, inner runs of
 * spaces count as one). Returns `undefined` when the match would be Undefined (a prohibited code
 * point) and for any value containing NUL (RFC 8705 §7.5: embedded NUL is an attack, not data).
 *
 * Case folding uses `toLowerCase` (Unicode default lower-case mapping) rather than RFC 3454 table
 * B.2: `ß` and `ss` differ here, which only ever makes a match stricter.
 */
export function prepareString(text: string): string | undefined {
  if (text.includes('\u0000')) return undefined;
  const mapped = text.replace(MAP_TO_NOTHING, '').replace(MAP_TO_SPACE, ' ');
  const prepared = mapped.normalize('NFKC').toLowerCase().normalize('NFKC');
  if (PROHIBITED.test(prepared)) return undefined;
  return prepared.replace(/^ +| +$/g, '').replace(/ {2,}/g, ' ');
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

/**
 * The equality rule of every attribute this module compares: caseIgnoreMatch for strings
 * (caseIgnoreIA5Match prepares IA5 values the same way, RFC 4517 §4.2.13), byte equality for
 * other encodings; a string never equals a binary value.
 */
export function attributeValuesMatch(a: AttributeValue, b: AttributeValue): boolean {
  if (a.kind === 'string' && b.kind === 'string') {
    const left = prepareString(a.text);
    return left !== undefined && left === prepareString(b.text);
  }
  if (a.kind === 'binary' && b.kind === 'binary') return bytesEqual(a.ber, b.ber);
  return false;
}
