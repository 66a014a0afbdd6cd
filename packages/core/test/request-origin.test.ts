import { describe, expect, it } from 'vitest';
import { trustedProxyMatcher } from '../src/client-certificate/trusted-proxies.js';
import { requestOrigin } from '../src/dpop/request-origin.js';

const PROXY = '10.0.0.1';
const trusted = trustedProxyMatcher([PROXY]);

/** A request as Node gives it: its headers, and a socket (TLS or not) from `peer`. */
function request(
  headers: Record<string, string | string[] | undefined>,
  {
    encrypted = true,
    peer = PROXY,
    authority,
  }: { encrypted?: boolean; peer?: string; authority?: string } = {},
) {
  return { headers, socket: { encrypted, remoteAddress: peer }, authority };
}

describe('requestOrigin without a trusted proxy', () => {
  it('is https with TLS, http without, and the Host field', () => {
    expect(requestOrigin(request({ host: 'api.example.com' }), undefined)).toBe('https://api.example.com');
    expect(requestOrigin(request({ host: 'api.example.com:8443' }), undefined)).toBe(
      'https://api.example.com:8443',
    );
    expect(requestOrigin(request({ host: 'localhost:3000' }, { encrypted: false }), undefined)).toBe(
      'http://localhost:3000',
    );
    expect(requestOrigin(request({ host: '[::1]:8443' }), undefined)).toBe('https://[::1]:8443');
    expect(requestOrigin({ headers: { host: 'api.example.com' }, socket: null }, undefined)).toBe(
      'http://api.example.com',
    );
  });

  it('takes HTTP/2’s :authority first, then the request’s authority, then Host', () => {
    expect(
      requestOrigin(request({ ':authority': 'h2.example.com', host: 'h1.example.com' }), undefined),
    ).toBe('https://h2.example.com');
    expect(
      requestOrigin(request({ host: 'h1.example.com' }, { authority: 'compat.example.com' }), undefined),
    ).toBe('https://compat.example.com');
  });

  it('ignores Forwarded and X-Forwarded-* fields: a client cannot choose its origin', () => {
    const headers = {
      host: 'api.example.com',
      forwarded: 'proto=http;host=evil.example.com',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'evil.example.com',
    };
    expect(requestOrigin(request(headers), undefined)).toBe('https://api.example.com');
  });

  it.each([
    ['no Host', {}],
    ['an empty Host', { host: '' }],
    ['two Host lines', { host: ['api.example.com', 'evil.example.com'] }],
    ['a Host with userinfo', { host: 'user@api.example.com' }],
    ['a Host with a path', { host: 'api.example.com/x' }],
    ['a Host with a space', { host: 'api.example.com x' }],
    ['a Host with a line break', { host: 'api.example.com\r\nx' }],
    ['a Host longer than 255 characters', { host: `${'a'.repeat(256)}` }],
  ])('cannot tell the origin with %s', (_name, headers) => {
    expect(requestOrigin(request(headers), undefined)).toBeUndefined();
  });
});

describe('requestOrigin behind a trusted proxy', () => {
  it('reads proto and host from the first element of Forwarded (RFC 7239)', () => {
    const origin = (forwarded: string) =>
      requestOrigin(request({ host: 'internal:8080', forwarded }, { encrypted: false }), trusted);
    expect(origin('for=192.0.2.60;proto=https;host=api.example.com')).toBe('https://api.example.com');
    expect(origin('Proto=HTTPS; Host="api.example.com:8443"')).toBe('https://api.example.com:8443');
    expect(origin('proto=https;host=a.example.com, proto=http;host=b.example.com')).toBe(
      'https://a.example.com',
    );
    // What the element does not say comes from the connection and Host.
    expect(origin('for=192.0.2.60')).toBe('http://internal:8080');
    expect(origin('proto=https')).toBe('https://internal:8080');
  });

  it('reads the first X-Forwarded-Proto and X-Forwarded-Host values when there is no Forwarded field', () => {
    expect(
      requestOrigin(
        request(
          {
            host: 'internal:8080',
            'x-forwarded-proto': 'HTTPS, http',
            'x-forwarded-host': 'api.example.com, proxy',
          },
          { encrypted: false },
        ),
        trusted,
      ),
    ).toBe('https://api.example.com');
    expect(
      requestOrigin(
        request({ host: 'internal:8080', 'x-forwarded-proto': 'https' }, { encrypted: false }),
        trusted,
      ),
    ).toBe('https://internal:8080');
  });

  it('prefers Forwarded to X-Forwarded-*', () => {
    const headers = {
      host: 'internal',
      forwarded: 'proto=https;host=api.example.com',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'other.example.com',
    };
    expect(requestOrigin(request(headers), trusted)).toBe('https://api.example.com');
  });

  it('ignores the proxy fields of a peer that is not a trusted proxy', () => {
    const headers = { host: 'api.example.com', forwarded: 'proto=http;host=evil.example.com' };
    expect(requestOrigin(request(headers, { peer: '192.0.2.7' }), trusted)).toBe('https://api.example.com');
    expect(
      requestOrigin(
        request({ host: 'api.example.com', 'x-forwarded-host': 'evil.example.com' }, { peer: '192.0.2.7' }),
        trusted,
      ),
    ).toBe('https://api.example.com');
  });

  it.each([
    ['another proto in Forwarded', { host: 'api', forwarded: 'proto=ftp;host=api.example.com' }],
    ['another proto in X-Forwarded-Proto', { host: 'api', 'x-forwarded-proto': 'wss' }],
    ['a Forwarded host with userinfo', { host: 'api', forwarded: 'proto=https;host="user@api.example.com"' }],
    ['an X-Forwarded-Host with a path', { host: 'api', 'x-forwarded-host': 'api.example.com/x' }],
  ])('cannot tell the origin with %s', (_name, headers) => {
    expect(requestOrigin(request(headers), trusted)).toBeUndefined();
  });
});
