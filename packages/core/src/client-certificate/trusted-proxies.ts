/**
 * Which immediate peers may set the certificate header: decided from the socket's remote address
 * only, never from a request header (RFC 9440 §4; docs/architecture.md#trusted-proxies). Entries
 * are IPv4 or IPv6 addresses or CIDR ranges; IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`) match IPv4
 * entries.
 */
import { BlockList, isIP } from 'node:net';

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

function unmap(address: string): string {
  return MAPPED_IPV4.exec(address)?.[1] ?? address;
}

/** Whether an immediate peer's address is a trusted proxy. */
export type IsTrustedProxy = (address: string | undefined) => boolean;

/**
 * Parses `trustedProxies` into a matcher. Throws a TypeError naming the first invalid entry.
 */
export function trustedProxyMatcher(entries: readonly string[]): IsTrustedProxy {
  const list = new BlockList();
  for (const entry of entries) {
    const [rawAddress, prefixText, extra] = entry.trim().split('/');
    const address = unmap(rawAddress ?? '');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? bits : Number(prefixText);
    if (
      family === 0 ||
      extra !== undefined ||
      (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) ||
      prefix > bits
    ) {
      throw new TypeError(
        `Invalid certbound option: "certificate.trustedProxies" must list IP addresses or CIDR ranges (got ${JSON.stringify(entry)})`,
      );
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === bits) list.addAddress(address, type);
    else list.addSubnet(address, prefix, type);
  }
  return (peer) => {
    if (peer === undefined) return false;
    const address = unmap(peer);
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}
