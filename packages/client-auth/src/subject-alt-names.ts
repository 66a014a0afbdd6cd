/**
 * The four SAN rules of `tls_client_auth` (RFC 8705 §2.1.2): registered values checked once, then
 * compared with the certificate's subjectAltName entries (RFC 5280 §4.2.1.6). A SAN string
 * containing NUL never matches (RFC 8705 §7.5).
 */
import type { SubjectAltNames } from './certificate-names.js';
import { ipAddressesEqual, parseIpAddress } from './ip-address.js';

/** A registered SAN value, parsed. */
export type SanExpectation =
  | { rule: 'san_dns'; name: string }
  | { rule: 'san_uri'; uri: string }
  | { rule: 'san_email'; local: string; domain: string }
  | { rule: 'san_ip'; octets: Uint8Array };

export type SanRule = SanExpectation['rule'];

/** Printable ASCII without space: what a DNS name in A-label form (or a literal `*.`) is made of. */
const ASCII_NAME = /^[!-~]+$/;
const CONTROL = /\p{Cc}/u;

/** Lower-cases A-Z only: RFC 5280 §7.2 compares DNS names and email domains case-insensitively in ASCII. */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

function splitEmail(address: string): { local: string; domain: string } | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return undefined;
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/**
 * Checks one registered `tls_client_auth_san_*` value and parses it, or returns what it must be
 * (for the caller's TypeError).
 */
export function parseSanExpectation(rule: SanRule, value: string): SanExpectation | string {
  switch (rule) {
    case 'san_dns':
      // A U-label or a trailing dot could never equal a dNSName SAN (RFC 5280 §4.2.1.6, §7.2).
      return ASCII_NAME.test(value) && !value.endsWith('.')
        ? { rule, name: asciiLower(value) }
        : 'a DNS name in ASCII (A-label) form without a trailing dot';
    case 'san_uri':
      return CONTROL.test(value) ? 'a URI without control characters' : { rule, uri: value };
    case 'san_email': {
      const parts = CONTROL.test(value) ? undefined : splitEmail(value);
      return parts === undefined
        ? 'an email address (local-part@domain)'
        : { rule, local: parts.local, domain: asciiLower(parts.domain) };
    }
    case 'san_ip': {
      const octets = parseIpAddress(value);
      return octets === undefined
        ? 'an IPv4 address in dotted decimal or an IPv6 address (RFC 5952) without a zone id'
        : { rule, octets };
    }
  }
}

const usable = (name: string) => !name.includes('\u0000');

/**
 * Whether some SAN of the certificate equals the registered value:
 * - `san_dns`: ASCII case-insensitive, taken literally: a `*.example.com` SAN is not a pattern and
 *   only equals the registered string `*.example.com` (RFC 8705 §7.5 "wildcard patterns");
 * - `san_uri`: exact string equality, no normalisation;
 * - `san_email`: local part case-sensitive, domain ASCII case-insensitive (RFC 5280 §7.5);
 * - `san_ip`: binary equality of the octets (RFC 5952 §8), so `::ffff:192.0.2.1` (16 octets) does
 *   not equal an iPAddress SAN of 192.0.2.1 (4 octets).
 */
export function sanMatches(expected: SanExpectation, names: SubjectAltNames): boolean {
  switch (expected.rule) {
    case 'san_dns':
      return names.dns.some((name) => usable(name) && asciiLower(name) === expected.name);
    case 'san_uri':
      return names.uri.some((uri) => usable(uri) && uri === expected.uri);
    case 'san_email':
      return names.email.some((address) => {
        const parts = usable(address) ? splitEmail(address) : undefined;
        return parts?.local === expected.local && asciiLower(parts.domain) === expected.domain;
      });
    case 'san_ip':
      return names.ip.some((octets) => ipAddressesEqual(octets, expected.octets));
  }
}
