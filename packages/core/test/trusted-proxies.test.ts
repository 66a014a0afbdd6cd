import { describe, expect, it } from 'vitest';
import { trustedProxyMatcher } from '../src/client-certificate/trusted-proxies.js';

describe('trustedProxyMatcher', () => {
  const trusted = trustedProxyMatcher([
    '10.0.0.0/8',
    '192.168.1.7',
    '2001:db8::/32',
    '::1',
    '::ffff:172.16.0.1',
  ]);

  it.each([
    ['an address inside an IPv4 range', '10.20.30.40', true],
    ['a listed IPv4 address', '192.168.1.7', true],
    ['the same address IPv4-mapped', '::ffff:192.168.1.7', true],
    ['an IPv4-mapped address inside a range', '::FFFF:10.1.2.3', true],
    ['an address listed IPv4-mapped, seen as IPv4', '172.16.0.1', true],
    ['an IPv6 address inside a range', '2001:db8:1::5', true],
    ['IPv6 loopback', '::1', true],
    ['a neighbour of a listed address', '192.168.1.8', false],
    ['an address outside the ranges', '11.0.0.1', false],
    ['IPv4 loopback (not listed)', '127.0.0.1', false],
    ['an IPv6 address outside the ranges', '2001:db9::1', false],
    ['no address (a Unix socket or a closed connection)', undefined, false],
    ['garbage', 'not-an-ip', false],
  ])('%s: %s → %s', (_name, address, expected) => {
    expect(trusted(address)).toBe(expected);
  });

  it.each([
    ['10.0.0.0/33'],
    ['10.0.0.1/8/1'],
    ['localhost'],
    [''],
    ['10.0.0.0/-1'],
    ['2001:db8::/129'],
    ['10.0.0.0/ 8'],
    ['10.0.0.0/24x'],
    ['x::ffff:10.0.0.1'],
    ['::ffff:10.0.0.1x'],
  ])('refuses the entry %j at start-up', (entry) => {
    expect(() => trustedProxyMatcher([entry])).toThrow(
      /"certificate.trustedProxies" must list IP addresses or CIDR ranges/,
    );
  });

  it('reads an entry with spaces around it', () => {
    expect(trustedProxyMatcher([' 10.0.0.1 '])('10.0.0.1')).toBe(true);
  });

  it('reads an IPv4-mapped range as the IPv4 range it maps (not an IPv6 /24 holding every IPv4 address)', () => {
    const mapped = trustedProxyMatcher(['::ffff:10.100.200.0/24']);
    expect(mapped('10.100.200.7')).toBe(true);
    expect(mapped('::ffff:10.100.200.7')).toBe(true);
    expect(mapped('10.100.201.7')).toBe(false);
    expect(mapped('192.168.1.1')).toBe(false);
    expect(mapped('::ffff:192.168.1.1')).toBe(false);
  });
});
