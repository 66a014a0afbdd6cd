import { X509Certificate } from 'node:crypto';
import { connect, createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createVerifier } from '@certbound/core';
import { createTestIssuer, createTestPki, type TestCertificate, type TestPki } from '@certbound/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { certificateFromTls } from '../src/client-certificate/tls.js';

let pki: TestPki;
let clientA: TestCertificate;
let clientB: TestCertificate;

beforeAll(async () => {
  pki = await createTestPki();
  clientA = await pki.issueClient({ subject: 'CN=a' });
  clientB = await pki.issueClient({ subject: 'CN=b' });
});

function fakeSocket(certificate: TestCertificate | undefined, finished: Buffer) {
  const socket = {
    calls: 0,
    finished,
    certificate,
    getFinished: () => socket.finished,
    getPeerX509Certificate: () => {
      socket.calls++;
      return socket.certificate && new X509Certificate(socket.certificate.der);
    },
  };
  return socket;
}

describe('certificateFromTls', () => {
  it('reads the peer certificate once per connection', () => {
    const socket = fakeSocket(clientA, Buffer.from('handshake-1'));
    expect(certificateFromTls({ socket })?.thumbprint).toBe(clientA.thumbprint);
    expect(certificateFromTls({ socket })?.thumbprint).toBe(clientA.thumbprint);
    expect(socket.calls).toBe(1);
  });

  it('reads it again after a new handshake (renegotiation) on the same connection', () => {
    const socket = fakeSocket(clientA, Buffer.from('handshake-1'));
    certificateFromTls({ socket });
    socket.certificate = clientB;
    socket.finished = Buffer.from('handshake-2');
    expect(certificateFromTls({ socket })?.thumbprint).toBe(clientB.thumbprint);
    expect(socket.calls).toBe(2);
  });

  it('finds no certificate on plain sockets, sockets without a peer certificate, or broken sockets', () => {
    expect(certificateFromTls({ socket: {} })).toBeUndefined();
    expect(certificateFromTls({})).toBeUndefined();
    expect(certificateFromTls({ socket: fakeSocket(undefined, Buffer.from('h')) })).toBeUndefined();
    const broken = {
      getFinished: () => Buffer.from('h'),
      getPeerX509Certificate: () => {
        throw new Error('destroyed');
      },
    };
    expect(certificateFromTls({ socket: broken })).toBeUndefined();
  });
});

describe('HTTP/2 compatibility requests', () => {
  it('authenticate() reads the client certificate of the HTTP/2 session', async () => {
    const issuer = await createTestIssuer({ pki });
    const verifier = createVerifier({ issuer: issuer.issuer, audience: issuer.audience, jwks: issuer.jwks });
    const server = createSecureServer(
      { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        verifier.authenticate(req).then(
          (auth) => res.end(JSON.stringify({ thumbprint: auth.thumbprint })),
          (error: { status: number; code: string }) => {
            res.statusCode = error.status;
            res.end(JSON.stringify({ code: error.code }));
          },
        );
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = connect(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, {
      ca: pki.ca.cert,
      cert: clientA.cert,
      key: clientA.key,
    });
    const get = (token: string) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const stream = session.request({ ':path': '/', authorization: `Bearer ${token}` });
        let status = 0;
        let body = '';
        stream.on('response', (headers) => {
          status = Number(headers[':status']);
        });
        stream.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        stream.on('end', () => resolve({ status, body: JSON.parse(body) }));
        stream.on('error', reject);
      });
    try {
      const mine = await issuer.mintAccessToken({ certificate: clientA });
      const theirs = await issuer.mintAccessToken({ certificate: clientB });
      expect(await get(mine)).toEqual({ status: 200, body: { thumbprint: clientA.thumbprint } });
      expect(await get(mine)).toEqual({ status: 200, body: { thumbprint: clientA.thumbprint } });
      expect(await get(theirs)).toEqual({ status: 401, body: { code: 'cnf_mismatch' } });
    } finally {
      session.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await verifier.close();
      await issuer.close();
    }
  });
});

describe('certificateFromTls on TLS 1.3', () => {
  it('memoizes without reading the Finished message again (no renegotiation in TLS 1.3)', () => {
    const socket = Object.assign(fakeSocket(clientA, Buffer.from('h')), {
      getProtocol: () => 'TLSv1.3',
      finishedReads: 0,
    });
    const getFinished = socket.getFinished;
    socket.getFinished = () => {
      socket.finishedReads++;
      return getFinished();
    };
    expect(certificateFromTls({ socket })?.thumbprint).toBe(clientA.thumbprint);
    expect(certificateFromTls({ socket })?.thumbprint).toBe(clientA.thumbprint);
    expect(socket.calls).toBe(1);
    expect(socket.finishedReads).toBe(0);
  });

  it('on TLS 1.2 checks the Finished message on every request', () => {
    const socket = Object.assign(fakeSocket(clientA, Buffer.from('h')), { getProtocol: () => 'TLSv1.2' });
    certificateFromTls({ socket });
    socket.finished = Buffer.from('renegotiated');
    socket.certificate = clientB;
    expect(certificateFromTls({ socket })?.thumbprint).toBe(clientB.thumbprint);
  });
});
