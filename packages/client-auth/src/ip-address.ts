/**
 * IP addresses for `tls_client_auth_san_ip` (RFC 8705 §2.1.2): the registered text is parsed to
 * octets and compared in binary form with the certificate's iPAddress SAN, as RFC 5952 §8 asks.
 */
import { isIP } from 'node:net';

const IPV6_WORDS = 8;

/**
 * The octets of an IPv4 address in dotted decimal (4 bytes) or an IPv6 address in any RFC 4291
 * §2.2 text form, `::` compression and a trailing dotted quad included (16 bytes). Zone ids
 * (`fe80::1%eth0`), brackets, CIDR suffixes, leading zeros in IPv4 parts and surrounding spaces
 * are refused: returns `undefined`.
 *
 * @example
 * parseIpAddress('2001:db8::1')      // 16 bytes: 20 01 0d b8 00 … 00 01
 * parseIpAddress('::ffff:192.0.2.1') // 16 bytes, not the 4 bytes of '192.0.2.1'
 */
export function parseIpAddress(text: string): Uint8Array | undefined {
  // node:net validates the syntax (no leading zeros, one `::` at most, groups of 1-4 hex digits).
  const version = isIP(text);
  if (version === 4) return parseIpv4(text);
  if (version === 6 && !text.includes('%')) return parseIpv6(text);
  return undefined;
}

function parseIpv4(text: string): Uint8Array {
  return Uint8Array.from(text.split('.'), Number);
}

/** 16-bit words of one side of `::`; a trailing dotted quad gives two words. */
function words(side: string): number[] | undefined {
  if (side === '') return [];
  const result: number[] = [];
  for (const group of side.split(':')) {
    if (group.includes('.')) {
      const [a = 0, b = 0, c = 0, d = 0] = parseIpv4(group);
      result.push((a << 8) | b, (c << 8) | d);
    } else {
      result.push(Number.parseInt(group, 16));
    }
  }
  return result.some(Number.isNaN) ? undefined : result;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  const head = words(halves[0] ?? '');
  const tail = halves.length === 2 ? words(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined || halves.length > 2) return undefined;
  const zeros = IPV6_WORDS - head.length - tail.length;
  if (halves.length === 2 ? zeros < 1 : zeros !== 0) return undefined;
  const all = [...head, ...new Array<number>(zeros).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((word, index) => {
    bytes[2 * index] = word >> 8;
    bytes[2 * index + 1] = word & 0xff;
  });
  return bytes;
}

/** Binary equality of two addresses: a 4-byte and a 16-byte address are never equal. */
export function ipAddressesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}
