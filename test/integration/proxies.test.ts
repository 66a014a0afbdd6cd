/**
 * End to end behind real TLS-terminating proxies: nginx (`$ssl_client_escaped_cert` in
 * `X-SSL-Client-Cert`, format `url-pem`) and HAProxy (`Client-Cert: :base64(DER):`, format
 * `rfc9440`) in front of an Express app served over plain HTTP on loopback.
 *
 * A missing proxy binary is a failure, never a skip: install the packages in .ci/apt-packages.
 */
import { X509Certificate } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createTestIssuer,
  createTestPki,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challenge } from '../support/challenge.js';
import {
  DEFAULT_PROXY_HEADERS,
  type ProxyKind,
  type ProxyOptions,
  proxyAvailable,
  type RunningProxy,
  startHaproxy,
  startNginx,
} from '../support/proxies.js';

interface ProxyUnderTest {
  kind: ProxyKind;
  start: (options: ProxyOptions) => Promise<RunningProxy>;
  /** The certbound `certificate.format` matching what the proxy sends. */
  format: 'url-pem' | 'rfc9440';
  /** The header the proxy sets by default (certbound's default for `format`). */
  header: string;
  /** How the proxy encodes a certificate (what a forger would send). */
  encode: (certificate: TestCertificate) => string;
}

/** PEM exactly as OpenSSL writes it: 64-character lines, trailing newline. */
function opensslPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

const PROXIES: ProxyUnderTest[] = [
  {
    kind: 'nginx',
    start: startNginx,
    format: 'url-pem',
    header: DEFAULT_PROXY_HEADERS.nginx,
    encode: (certificate) => encodeURIComponent(opensslPem(certificate.der)),
  },
  {
    kind: 'haproxy',
    start: startHaproxy,
    format: 'rfc9440',
    header: DEFAULT_PROXY_HEADERS.haproxy,
    encode: (certificate) => `:${certificate.der.toString('base64')}:`,
  },
];

function requireProxy(kind: ProxyKind): void {
  if (proxyAvailable(kind)) return;
  throw new Error(
    `${kind} is not installed, so the ${kind} integration tests cannot run${process.env.CI ? ' (CI)' : ''}: ` +
      'install the Debian packages listed in .ci/apt-packages (e.g. `bash scripts/setup.sh`).',
  );
}

interface PlainServer {
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<PlainServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An upstream that answers with the header lines it received, exactly (`rawHeaders`). */
function startEcho(): Promise<PlainServer> {
  return listen(
    createServer((req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ rawHeaders: req.rawHeaders, peer: req.socket.remoteAddress }));
    }),
  );
}

/** Every value of header `name` (case-insensitive) the echo upstream received, in order. */
function received(body: unknown, name: string): string[] {
  const raw = (body as { rawHeaders: string[] }).rawHeaders;
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === name.toLowerCase()) values.push(raw[i + 1]!);
  }
  return values;
}

/** A plain HTTP request straight to the app, bypassing any proxy. */
function httpRequest(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingHttpHeaders; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the proxies themselves', () => {
  describe.each(PROXIES)('$kind', ({ kind, start, header, encode }) => {
    let pki: TestPki;
    let echo: PlainServer;
    let proxy: RunningProxy;
    let clientA: TestCertificate;
    let lookAlikeB: TestCertificate;

    beforeAll(async () => {
      requireProxy(kind);
      pki = await createTestPki();
      clientA = await pki.issueClient({ subject: 'CN=client-a, O=certbound' });
      lookAlikeB = await pki.issueClient({ subject: 'CN=client-a, O=certbound' });
      echo = await startEcho();
      proxy = await start({ pki, upstream: echo.url });
    });

    afterAll(async () => {
      await Promise.all([proxy?.close(), echo?.close()]);
    });

    const through = (
      options: {
        certificate?: TestCertificate;
        rawHeaders?: string[];
        maxVersion?: 'TLSv1.2' | 'TLSv1.3';
      } = {},
      target: RunningProxy = proxy,
    ) => httpsRequest(`${target.url}/echo`, { ca: pki.ca.cert, ...options });

    it(`forwards the client certificate in ${header}, encoded the ${kind} way`, async () => {
      const res = await through({ certificate: clientA });
      expect(res.status, proxy.logs()).toBe(200);
      expect(res.json).toMatchObject({ peer: '127.0.0.1' });
      const values = received(res.json, header);
      expect(values).toEqual([encode(clientA)]);
      const [value] = values;
      if (kind === 'nginx') {
        // $ssl_client_escaped_cert: PEM, percent-encoded, `+` `/` `=` and newlines included.
        expect(value).toMatch(
          /^-----BEGIN%20CERTIFICATE-----%0A[A-Za-z0-9%]+%0A-----END%20CERTIFICATE-----%0A$/,
        );
        expect(value).not.toMatch(/[+/=\s]/);
        const der = new X509Certificate(decodeURIComponent(value!)).raw;
        expect(der.equals(clientA.der)).toBe(true);
      } else {
        // RFC 9440 §2.1: an sf-binary, `:` + standard padded base64 of the DER + `:`.
        expect(value).toMatch(/^:[A-Za-z0-9+/]+={0,2}:$/);
        expect(Buffer.from(value!.slice(1, -1), 'base64').equals(clientA.der)).toBe(true);
      }
    });

    it('forwards a look-alike, a self-signed and a foreign-CA certificate alike (no CA validation)', async () => {
      const foreignPki = await createTestPki({ caSubject: 'CN=some other CA' });
      const others = [lookAlikeB, await pki.selfSigned(), await foreignPki.issueClient()];
      for (const certificate of others) {
        const res = await through({ certificate });
        expect(res.status, proxy.logs()).toBe(200);
        expect(received(res.json, header)).toEqual([encode(certificate)]);
      }
      expect(encode(lookAlikeB)).not.toBe(encode(clientA));
    });

    it('forwards the certificate over TLS 1.2 too', async () => {
      const res = await through({ certificate: clientA, maxVersion: 'TLSv1.2' });
      expect(res.status, proxy.logs()).toBe(200);
      expect(received(res.json, header)).toEqual([encode(clientA)]);
    });

    it('sends no certificate header, not even an empty one, without a client certificate', async () => {
      for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
        const res = await through({ maxVersion });
        expect(res.status, proxy.logs()).toBe(200);
        expect(received(res.json, header)).toEqual([]);
      }
    });

    it("replaces a client-sent header (any case, repeated) with the TLS peer's certificate", async () => {
      const forged = encode(clientA);
      const res = await through({
        certificate: lookAlikeB,
        rawHeaders: [header, forged, header.toLowerCase(), forged, header.toUpperCase(), 'junk'],
      });
      expect(res.status, proxy.logs()).toBe(200);
      expect(received(res.json, header)).toEqual([encode(lookAlikeB)]);
    });

    it('removes a client-sent header (any case, repeated, empty) when no certificate was presented', async () => {
      const forged = encode(clientA);
      const res = await through({
        rawHeaders: [header, forged, header.toLowerCase(), forged, header.toUpperCase(), ''],
      });
      expect(res.status, proxy.logs()).toBe(200);
      expect(received(res.json, header)).toEqual([]);
    });

    it('sets and strips a custom header name, and close() stops the proxy', async () => {
      const custom = await start({ pki, upstream: echo.url, header: 'X-Client-Cert-Custom' });
      try {
        const withCertificate = await through(
          { certificate: clientA, rawHeaders: ['x-client-cert-custom', encode(lookAlikeB)] },
          custom,
        );
        expect(withCertificate.status, custom.logs()).toBe(200);
        expect(received(withCertificate.json, 'X-Client-Cert-Custom')).toEqual([encode(clientA)]);
        expect(received(withCertificate.json, header)).toEqual([]);
        const without = await through({ rawHeaders: ['X-Client-Cert-Custom', encode(clientA)] }, custom);
        expect(received(without.json, 'X-Client-Cert-Custom')).toEqual([]);
      } finally {
        await custom.close();
      }
      await expect(through({}, custom)).rejects.toThrow(/ECONNREFUSED/);
      await custom.close(); // idempotent
    });
  });
});

const REALM = 'accounts';
const CHALLENGE_CNF_MISMATCH = challenge(
  { realm: REALM },
  { error: 'invalid_token', description: 'The access token is bound to another certificate' },
);
const CHALLENGE_CERTIFICATE_MISSING = challenge(
  { realm: REALM },
  {
    error: 'invalid_token',
    description: 'The access token is certificate-bound but no client certificate was presented',
  },
);

const CNF_MISMATCH = {
  error: 'invalid_token',
  error_description: 'The access token is bound to another certificate',
  code: 'cnf_mismatch',
};
const CERTIFICATE_MISSING = {
  error: 'invalid_token',
  error_description: 'The access token is certificate-bound but no client certificate was presented',
  code: 'certificate_missing',
};

describe.each(PROXIES)('certbound behind $kind (certificate from header, $format)', (proxyUnderTest) => {
  const { kind, start, format, header, encode } = proxyUnderTest;
  let pki: TestPki;
  let issuer: TestIssuer;
  let clientA: TestCertificate;
  let lookAlikeB: TestCertificate;
  /** The app trusting 127.0.0.1 (the proxy), over plain HTTP. */
  let app: PlainServer;
  /** The same app trusting only 10.0.0.1: every loopback peer is untrusted. */
  let untrustedApp: PlainServer;
  let proxy: RunningProxy;

  beforeAll(async () => {
    requireProxy(kind);
    pki = await createTestPki();
    issuer = await createTestIssuer({ pki });
    clientA = await pki.issueClient({ subject: 'CN=client-a, O=certbound' });
    lookAlikeB = await pki.issueClient({ subject: 'CN=client-a, O=certbound' });

    // Imported here so that the proxy checks above run whatever state the core is in.
    const { certbound, errorHandler } = await import('@certbound/express');
    const build = (trustedProxies: string[]) => {
      const api = express();
      api.use(
        certbound({
          issuer: issuer.issuer,
          audience: issuer.audience,
          tls: { ca: issuer.ca },
          realm: REALM,
          certificate: { from: 'header', format, trustedProxies },
        }),
      );
      api.get('/me', (req, res) => {
        res.json({ thumbprint: req.auth?.thumbprint, bound: req.auth?.bound, clientId: req.auth?.clientId });
      });
      api.use(errorHandler());
      return createServer(api);
    };
    app = await listen(build(['127.0.0.1']));
    untrustedApp = await listen(build(['10.0.0.1']));
    proxy = await start({ pki, upstream: app.url });
  });

  afterAll(async () => {
    await Promise.all([proxy?.close(), app?.close(), untrustedApp?.close(), issuer?.close()]);
  });

  const viaProxy = (token: string, certificate?: TestCertificate, rawHeaders?: string[]) =>
    httpsRequest(`${proxy.url}/me`, {
      ca: pki.ca.cert,
      certificate,
      rawHeaders,
      headers: { authorization: `Bearer ${token}` },
    });

  it('accepts the token with the certificate it is bound to', async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const res = await viaProxy(token, clientA);
    expect(res.status, proxy.logs()).toBe(200);
    expect(res.json).toEqual({ thumbprint: clientA.thumbprint, bound: true, clientId: 'client-a' });
  });

  it('rejects the token presented with a look-alike certificate', async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const res = await viaProxy(token, lookAlikeB);
    expect(res.status).toBe(401);
    expect(res.json).toEqual(CNF_MISMATCH);
    expect(res.headers['www-authenticate']).toBe(CHALLENGE_CNF_MISMATCH);
  });

  it('rejects the token when the client presented no certificate to the proxy', async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const res = await viaProxy(token);
    expect(res.status).toBe(401);
    expect(res.json).toEqual(CERTIFICATE_MISSING);
    expect(res.headers['www-authenticate']).toBe(CHALLENGE_CERTIFICATE_MISSING);
  });

  it(`ignores a forged ${header} carrying A's certificate from a client presenting B`, async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const res = await viaProxy(token, lookAlikeB, [header, encode(clientA)]);
    expect(res.status).toBe(401);
    expect(res.json).toEqual(CNF_MISMATCH);
    expect(res.headers['www-authenticate']).toBe(CHALLENGE_CNF_MISMATCH);
  });

  it(`ignores a forged ${header} carrying A's certificate from a client presenting none`, async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const res = await viaProxy(token, undefined, [header.toLowerCase(), encode(clientA)]);
    expect(res.status).toBe(401);
    expect(res.json).toEqual(CERTIFICATE_MISSING);
    expect(res.headers['www-authenticate']).toBe(CHALLENGE_CERTIFICATE_MISSING);
  });

  it(`ignores ${header} sent straight to the app by a peer that is not a trusted proxy`, async () => {
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const res = await httpRequest(`${untrustedApp.url}/me`, {
      authorization: `Bearer ${token}`,
      [header]: encode(clientA),
    });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(CERTIFICATE_MISSING);
    expect(res.headers['www-authenticate']).toBe(CHALLENGE_CERTIFICATE_MISSING);
  });

  it(`honours ${header} from any trusted address, which is why only the proxy may reach the app`, async () => {
    // Trust is decided by the peer address alone: a direct request from 127.0.0.1 is "the proxy".
    const token = await issuer.mintAccessToken({ certificate: clientA });
    const res = await httpRequest(`${app.url}/me`, {
      authorization: `Bearer ${token}`,
      [header]: encode(clientA),
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ thumbprint: clientA.thumbprint, bound: true, clientId: 'client-a' });
  });
});
