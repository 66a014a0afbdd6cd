import { X509Certificate } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type CertboundError, createVerifier } from '@certbound/core';
import { createTestIssuer, createTestPki, type TestCertificate, type TestIssuer } from '@certbound/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerCertificateSource } from '../src/client-certificate/header.js';
import { trustedProxyMatcher } from '../src/client-certificate/trusted-proxies.js';
import { CERTIFICATE_HEADER_CHANNEL, type CertificateHeaderIgnored } from '../src/diagnostics.js';

let issuer: TestIssuer;
let clientA: TestCertificate;
let clientB: TestCertificate;
let ca: TestCertificate;

beforeAll(async () => {
  const pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  clientA = await pki.issueClient({ subject: 'CN=a' });
  clientB = await pki.issueClient({ subject: 'CN=a' });
  ca = pki.ca;
});

afterAll(() => issuer.close());

const rfc9440 = (certificate: TestCertificate) => `:${certificate.der.toString('base64')}:`;

/** A request as Node gives it: raw header lines and the immediate peer. */
function request(lines: [string, string][], peer = '10.0.0.5', socketCertificate?: TestCertificate) {
  return {
    rawHeaders: lines.flat(),
    socket: {
      remoteAddress: peer,
      getProtocol: () => 'TLSv1.3',
      getPeerX509Certificate: () => socketCertificate && new X509Certificate(socketCertificate.der),
    },
  };
}

function ignoredDuring(run: () => void): CertificateHeaderIgnored[] {
  const seen: CertificateHeaderIgnored[] = [];
  const listener = (message: unknown) => seen.push(message as CertificateHeaderIgnored);
  subscribe(CERTIFICATE_HEADER_CHANNEL, listener);
  try {
    run();
  } finally {
    unsubscribe(CERTIFICATE_HEADER_CHANNEL, listener);
  }
  return seen;
}

describe('the header certificate source', () => {
  const source = headerCertificateSource({
    format: 'rfc9440',
    header: 'client-cert',
    isTrustedProxy: trustedProxyMatcher(['10.0.0.0/24']),
    trustedAppendingHops: undefined,
  });

  it('reads the certificate a trusted proxy forwards', () => {
    expect(source(request([['Client-Cert', rfc9440(clientA)]]))?.thumbprint).toBe(clientA.thumbprint);
    expect(source(request([['client-cert', rfc9440(clientA)]], '::ffff:10.0.0.9'))?.thumbprint).toBe(
      clientA.thumbprint,
    );
  });

  it('ignores the header from any other peer, and says so without the value', () => {
    let certificate: unknown = 'unset';
    const ignored = ignoredDuring(() => {
      certificate = source(request([['Client-Cert', rfc9440(clientA)]], '203.0.113.9'));
    });
    expect(certificate).toBeUndefined();
    expect(ignored).toEqual([{ reason: 'untrusted-peer', header: 'client-cert', peer: '203.0.113.9' }]);
  });

  it('never falls back to the socket certificate (behind an mTLS proxy it is the proxy’s own)', () => {
    expect(source(request([], '10.0.0.5', clientB))).toBeUndefined();
    expect(source(request([['Client-Cert', 'garbage']], '10.0.0.5', clientB))).toBeUndefined();
  });

  it('treats a repeated header as malformed (Node would join the lines with ", ")', () => {
    const ignored = ignoredDuring(() => {
      expect(
        source(
          request([
            ['Client-Cert', rfc9440(clientB)],
            ['Client-Cert', rfc9440(clientA)],
          ]),
        ),
      ).toBeUndefined();
    });
    expect(ignored.map((m) => m.reason)).toEqual(['repeated']);
  });

  it('treats an empty value as absent, and an oversized one as malformed', () => {
    expect(ignoredDuring(() => expect(source(request([['Client-Cert', '']]))).toBeUndefined())).toEqual([]);
    const ignored = ignoredDuring(() => {
      expect(source(request([['Client-Cert', `:${'A'.repeat(70_000)}:`]]))).toBeUndefined();
    });
    expect(ignored.map((m) => m.reason)).toEqual(['too-large']);
  });

  it('ignores SP and HTAB around the value, and treats a value of only those as absent', () => {
    expect(source(request([['Client-Cert', ` \t${rfc9440(clientA)}\t `]]))?.thumbprint).toBe(
      clientA.thumbprint,
    );
    expect(source(request([['Client-Cert', `\t${rfc9440(clientB)}`]]))?.thumbprint).toBe(clientB.thumbprint);
    expect(source(request([['Client-Cert', `${rfc9440(clientB)} `]]))?.thumbprint).toBe(clientB.thumbprint);
    expect(ignoredDuring(() => expect(source(request([['Client-Cert', ' \t \t']]))).toBeUndefined())).toEqual(
      [],
    );
  });

  it('ignores the header of a request without a socket (no peer to trust)', () => {
    const ignored = ignoredDuring(() => {
      expect(source({ rawHeaders: ['Client-Cert', rfc9440(clientA)] })).toBeUndefined();
    });
    expect(ignored).toEqual([{ reason: 'untrusted-peer', header: 'client-cert', peer: undefined }]);
  });

  it('reports the decoder’s reason for a malformed value', () => {
    const ignored = ignoredDuring(() => {
      expect(source(request([['Client-Cert', clientA.der.toString('base64')]]))).toBeUndefined();
    });
    expect(ignored).toEqual([
      { reason: 'not-rfc9440-byte-sequence', header: 'client-cert', peer: '10.0.0.5' },
    ]);
    expect(JSON.stringify(ignored)).not.toContain(clientA.der.toString('base64').slice(0, 40));
  });
});

describe('the header certificate source and its format’s options', () => {
  const isTrustedProxy = trustedProxyMatcher(['10.0.0.5']);
  const pem = (certificate: TestCertificate) => new X509Certificate(certificate.der).toString();
  const reasonsOf = (read: () => unknown) => ignoredDuring(() => read()).map((m) => m.reason);

  it('reads the leaf of an AWS ALB passthrough chain, and only in the passthrough header', () => {
    const chain = encodeURIComponent(pem(clientA) + pem(ca));
    const passthrough = headerCertificateSource({
      format: 'aws-alb',
      header: 'x-amzn-mtls-clientcert',
      isTrustedProxy,
      trustedAppendingHops: undefined,
    });
    expect(passthrough(request([['X-Amzn-Mtls-Clientcert', chain]]))?.thumbprint).toBe(clientA.thumbprint);
    const leaf = headerCertificateSource({
      format: 'aws-alb',
      header: 'x-amzn-mtls-clientcert-leaf',
      isTrustedProxy,
      trustedAppendingHops: undefined,
    });
    expect(reasonsOf(() => leaf(request([['X-Amzn-Mtls-Clientcert-Leaf', chain]])))).toEqual([
      'pem-multiple-blocks',
    ]);
  });

  it('passes trustedAppendingHops to the XFCC decoder', () => {
    const element = (certificate: TestCertificate) => `Cert="${encodeURIComponent(pem(certificate))}"`;
    const xfcc = headerCertificateSource({
      format: 'xfcc',
      header: 'x-forwarded-client-cert',
      isTrustedProxy,
      trustedAppendingHops: 0,
    });
    const value = `${element(clientB)},${element(clientA)}`;
    expect(xfcc(request([['X-Forwarded-Client-Cert', value]]))?.thumbprint).toBe(clientA.thumbprint);
  });

  it('hands a value of exactly 64 KiB to the decoder, and refuses one more character as too large', () => {
    const xfcc = headerCertificateSource({
      format: 'xfcc',
      header: 'x-forwarded-client-cert',
      isTrustedProxy,
      trustedAppendingHops: undefined,
    });
    const value = `By=${'a'.repeat(64 * 1024 - 3)}`;
    expect(reasonsOf(() => xfcc(request([['X-Forwarded-Client-Cert', value]])))).toEqual([
      'xfcc-cert-missing',
    ]);
    expect(reasonsOf(() => xfcc(request([['X-Forwarded-Client-Cert', `${value}a`]])))).toEqual(['too-large']);
  });
});

describe('a verifier reading certificates from a proxy header', () => {
  const verifierOptions = () => ({
    issuer: issuer.issuer,
    audience: issuer.audience,
    jwks: issuer.jwks,
    certificate: { from: 'header' as const, format: 'rfc9440' as const, trustedProxies: ['10.0.0.5'] },
  });

  async function outcome(verifier: ReturnType<typeof createVerifier>, req: object) {
    try {
      const auth = await verifier.authenticate(req as never);
      return { status: 200, thumbprint: auth.thumbprint };
    } catch (error) {
      return { status: (error as CertboundError).status, code: (error as CertboundError).code };
    }
  }

  it('accepts a bound token with the certificate the trusted proxy forwards, and nothing else', async () => {
    const verifier = createVerifier(verifierOptions());
    try {
      const token = await issuer.mintAccessToken({ certificate: clientA });
      const auth = ['Authorization', `Bearer ${token}`] as [string, string];
      expect(await outcome(verifier, request([auth, ['Client-Cert', rfc9440(clientA)]]))).toEqual({
        status: 200,
        thumbprint: clientA.thumbprint,
      });
      expect(await outcome(verifier, request([auth, ['Client-Cert', rfc9440(clientB)]]))).toEqual({
        status: 401,
        code: 'cnf_mismatch',
      });
      // A stolen token with a forged header, straight from an untrusted peer.
      expect(
        await outcome(verifier, request([auth, ['Client-Cert', rfc9440(clientA)]], '198.51.100.7')),
      ).toEqual({
        status: 401,
        code: 'certificate_missing',
      });
      // The socket's own certificate is never used in header mode.
      expect(await outcome(verifier, request([auth], '10.0.0.5', clientA))).toEqual({
        status: 401,
        code: 'certificate_missing',
      });
    } finally {
      await verifier.close();
    }
  });
});
