/**
 * Envoy / Istio / Azure Container Apps `x-forwarded-client-cert` (docs/proxies.md, decoding
 * rule 10). Elements are separated by `,`, `key=value` pairs by `;`; keys are case-insensitive; a
 * value is bare or a quoted-string with backslash escapes (RFC 9110 §5.6.4), inside which `,` `;`
 * `=` are data.
 *
 * One element is used: the only one by default (Envoy `SANITIZE_SET`), or with
 * `trustedAppendingHops: n` the one appended by the n-th trusted hop from the end
 * (`APPEND_FORWARD` keeps client-sent elements in front). In it, `Cert` (URL-encoded PEM) is
 * required, `Hash` (hex SHA-256 of the DER) must match it, and `Chain` (URL-encoded PEM of the
 * chain, leaf included) must start with it. `By`, `Subject`, `URI`, `DNS` and unknown keys are ignored.
 */
import { createHash } from 'node:crypto';
import type { DecodeOptions } from './decoders.js';
import {
  certificateDer,
  checkLength,
  leafPemDer,
  MAX_CHAIN_HEADER_LENGTH,
  strictPercentDecode,
} from './header-encoding.js';
import { refuse } from './header-error.js';

/** One `key=value` pair; `key` lower-cased, `value` unquoted and unescaped. */
export interface XfccPair {
  key: string;
  value: string;
}

const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SP = 0x20;
const HTAB = 0x09;
const DEL = 0x7f;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/** RFC 9110 §5.6.2 tchar, as a lookup table over ASCII. */
const TCHAR = new Uint8Array(0x80);
for (const char of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[char.charCodeAt(0)] = 1;
}

function isTchar(code: number): boolean {
  return code < 0x80 && TCHAR[code] === 1;
}

function isControl(code: number): boolean {
  return (code < SP && code !== HTAB) || code === DEL;
}

/** A bare value's characters: visible, not a delimiter (`=` is data, as in `URI=https://x/?a=b`). */
function isBareChar(code: number): boolean {
  return code > SP && code !== DEL && code !== QUOTE && code !== COMMA && code !== SEMICOLON;
}

function skipSpaces(value: string, at: number): number {
  let next = at;
  while (value.charCodeAt(next) === SP || value.charCodeAt(next) === HTAB) next++;
  return next;
}

/** Reads a quoted-string whose opening quote is at `at - 1`; returns its content and the index after it. */
function readQuoted(value: string, at: number): [string, number] {
  let content = '';
  let from = at;
  for (let i = at; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === QUOTE) return [content + value.slice(from, i), i + 1];
    if (isControl(code)) refuse('xfcc-malformed');
    if (code === BACKSLASH) {
      if (i + 1 === value.length) break;
      if (isControl(value.charCodeAt(i + 1))) refuse('xfcc-malformed');
      content += value.slice(from, i) + value[i + 1];
      i++;
      from = i + 1;
    }
  }
  return refuse('xfcc-unterminated-quote');
}

/** Tokenizes a whole XFCC value into elements of pairs, in one left-to-right pass. */
export function parseXfcc(value: string): XfccPair[][] {
  const elements: XfccPair[][] = [];
  let at = 0;
  for (;;) {
    const element: XfccPair[] = [];
    for (;;) {
      at = skipSpaces(value, at);
      const keyStart = at;
      while (at < value.length && isTchar(value.charCodeAt(at))) at++;
      if (at === keyStart || value.charCodeAt(at) !== EQUALS) refuse('xfcc-malformed');
      const key = value.slice(keyStart, at).toLowerCase();
      at++;
      let pairValue: string;
      if (value.charCodeAt(at) === QUOTE) {
        [pairValue, at] = readQuoted(value, at + 1);
      } else {
        const valueStart = at;
        while (at < value.length && isBareChar(value.charCodeAt(at))) at++;
        pairValue = value.slice(valueStart, at);
      }
      element.push({ key, value: pairValue });
      at = skipSpaces(value, at);
      if (value.charCodeAt(at) !== SEMICOLON) break;
      at++;
    }
    elements.push(element);
    if (at === value.length) return elements;
    if (value.charCodeAt(at) !== COMMA) refuse('xfcc-malformed');
    at++;
  }
}

/** Exactly one element, or the one `hops` trusted hops before the last (decoding rule 10). */
function selectElement(elements: XfccPair[][], hops: number | undefined): XfccPair[] {
  if (hops === undefined) {
    if (elements.length !== 1) refuse('xfcc-element-count');
    return elements[0]!;
  }
  if (!Number.isSafeInteger(hops) || hops < 0) refuse('xfcc-hop-out-of-range');
  const element = elements[elements.length - 1 - hops];
  if (element === undefined) refuse('xfcc-hop-out-of-range');
  return element;
}

/** The values of `Cert`, `Hash` and `Chain`, each at most once. */
function certificateFields(element: XfccPair[]): { cert?: string; hash?: string; chain?: string } {
  const fields: { cert?: string; hash?: string; chain?: string } = {};
  for (const { key, value } of element) {
    if (key !== 'cert' && key !== 'hash' && key !== 'chain') continue;
    if (fields[key] !== undefined) refuse('xfcc-duplicate-key');
    fields[key] = value;
  }
  return fields;
}

export function decodeXfcc(value: string, options?: DecodeOptions): Buffer {
  checkLength(value, MAX_CHAIN_HEADER_LENGTH);
  const { cert, hash, chain } = certificateFields(
    selectElement(parseXfcc(value), options?.trustedAppendingHops),
  );
  if (cert === undefined) refuse('xfcc-cert-missing');
  if (hash !== undefined && !HEX_SHA256.test(hash)) refuse('xfcc-hash-malformed');
  const der = certificateDer(leafPemDer(strictPercentDecode(cert)));
  // Envoy writes `Hex::encode(SHA-256(DER))`, lower case; compared case-insensitively.
  if (hash !== undefined && hash.toLowerCase() !== createHash('sha256').update(der).digest('hex')) {
    refuse('xfcc-hash-mismatch');
  }
  if (chain !== undefined && !leafPemDer(strictPercentDecode(chain), { chain: true }).equals(der)) {
    refuse('xfcc-chain-mismatch');
  }
  return der;
}
