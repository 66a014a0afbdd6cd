import { createVerifier } from '@certbound/core';
import { describe, expect, it } from 'vitest';
import { readCertificateSource } from '../src/options/certificate-options.js';

const base = { issuer: 'https://as.example.com', audience: 'https://api.example.com', jwks: { keys: [] } };

describe('certificate options', () => {
  it.each([
    [{ from: 'header', format: 'rfc9440' }, '"certificate.trustedProxies" must be a non-empty array'],
    [
      { from: 'header', format: 'rfc9440', trustedProxies: [] },
      '"certificate.trustedProxies" must be a non-empty array',
    ],
    [
      { from: 'header', format: 'rfc9440', trustedProxies: ['proxy.internal'] },
      '"certificate.trustedProxies" must list IP addresses',
    ],
    [{ from: 'header', trustedProxies: ['10.0.0.1'] }, '"certificate.format" must be one of "rfc9440"'],
    [
      { from: 'header', format: 'nginx', trustedProxies: ['10.0.0.1'] },
      '"certificate.format" must be one of',
    ],
    [
      { from: 'header', format: 'xfcc', header: 'bad header', trustedProxies: ['10.0.0.1'] },
      '"certificate.header" must be a header field name',
    ],
    [
      { from: 'header', format: 'rfc9440', trustedProxies: ['10.0.0.1'], trustedAppendingHops: 1 },
      '"certificate.trustedAppendingHops" must be used only with format "xfcc"',
    ],
    [
      { from: 'header', format: 'xfcc', trustedProxies: ['10.0.0.1'], trustedAppendingHops: -1 },
      '"certificate.trustedAppendingHops" must be an integer from 0 to 16',
    ],
    [{ from: 'tls', trustedProxies: ['10.0.0.1'] }, '"certificate" must be just { from: \'tls\' }'],
    [{ from: 'socket' }, '"certificate.from" must be "tls" or "header"'],
    [
      { from: 'header', format: 'rfc9440', trustedProxies: ['10.0.0.1'], fallback: 'tls' },
      'unknown option "certificate.fallback"',
    ],
  ])('refuses certificate %j at start-up', (certificate, message) => {
    expect(() => createVerifier({ ...base, certificate } as never)).toThrow(message);
  });

  it('reads TLS as the default source', () => {
    expect(readCertificateSource(undefined, 'certificate')).toEqual({ from: 'tls' });
    expect(readCertificateSource({ from: 'tls' }, 'certificate')).toEqual({ from: 'tls' });
  });

  it('fills in the default header name of the format, and matches the trusted proxies', () => {
    const source = readCertificateSource(
      { from: 'header', format: 'xfcc', trustedProxies: ['10.0.0.0/8'], trustedAppendingHops: 1 },
      'certificate',
    );
    expect(source).toEqual({
      from: 'header',
      format: 'xfcc',
      header: 'x-forwarded-client-cert',
      isTrustedProxy: expect.any(Function),
      trustedAppendingHops: 1,
    });
    if (source.from !== 'header') throw new Error('expected a header source');
    expect(source.isTrustedProxy('10.1.2.3')).toBe(true);
    expect(source.isTrustedProxy('11.1.2.3')).toBe(false);
  });

  it('keeps a configured header name', () => {
    expect(
      readCertificateSource(
        { from: 'header', format: 'rfc9440', header: 'x-client-cert', trustedProxies: ['10.0.0.1'] },
        'certificate',
      ),
    ).toMatchObject({ header: 'x-client-cert' });
  });
});
