import { X509Certificate } from 'node:crypto';
import { connect, createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createVerifier } from '@certbound/core';
import { createTestIssuer, createTestPki, type TestCertificate, type TestPki } from '@certbound/testing';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
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

describe('certificateFromTls on an HTTP/2 compatibility request', () => {
  it('reads the session’s socket, once per session, whatever the per-stream req.socket', () => {
    const socket = fakeSocket(clientA, Buffer.from('h'));
    const session = { socket };
    // req.socket of an HTTP/2 request is a per-stream proxy; a bare object here, without the certificate.
    expect(certificateFromTls({ socket: {}, stream: { session } })?.thumbprint).toBe(clientA.thumbprint);
    expect(certificateFromTls({ socket: {}, stream: { session } })?.thumbprint).toBe(clientA.thumbprint);
    expect(socket.calls).toBe(1);
  });

  it('finds no certificate when the session has no socket, never the stream’s', () => {
    const stream = fakeSocket(clientB, Buffer.from('h'));
    expect(certificateFromTls({ socket: stream, stream: { session: {} } })).toBeUndefined();
    expect(certificateFromTls({ socket: stream, stream: { session: { socket: null } } })).toBeUndefined();
  });
});

describe('certificateFromTls without a Finished message', () => {
  it('memoizes nothing: the certificate is read on every request', () => {
    const noFinished = { ...fakeSocket(clientA, Buffer.from('h')), getFinished: () => undefined };
    const counted = fakeSocket(clientA, Buffer.from('h'));
    const withoutGetFinished = {
      getPeerX509Certificate: () => {
        counted.calls++;
        return new X509Certificate(clientA.der);
      },
    };
    let reads = 0;
    const tls12 = {
      getProtocol: () => 'TLSv1.2',
      getFinished: () => undefined,
      getPeerX509Certificate: () => {
        reads++;
        return new X509Certificate(clientA.der);
      },
    };
    for (let i = 0; i < 2; i++) {
      expect(certificateFromTls({ socket: noFinished })?.thumbprint).toBe(clientA.thumbprint);
      expect(certificateFromTls({ socket: withoutGetFinished })?.thumbprint).toBe(clientA.thumbprint);
      expect(certificateFromTls({ socket: tls12 })?.thumbprint).toBe(clientA.thumbprint);
    }
    expect(counted.calls).toBe(2);
    expect(reads).toBe(2);
  });
});

describe('a TLS server that does not request client certificates', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** A fresh copy of the module: the warning is said once per process. */
  async function freshCertificateFromTls() {
    vi.resetModules();
    return (await import('../src/client-certificate/tls.js')).certificateFromTls;
  }

  const socket = (requestCert: boolean | undefined, certificate?: TestCertificate) => ({
    ...(requestCert === undefined ? {} : { _requestCert: requestCert }),
    getProtocol: () => 'TLSv1.3',
    getPeerX509Certificate: () => certificate && new X509Certificate(certificate.der),
  });

  it('is said once per process, as a CertboundWarning (every certificate-bound token would be refused)', async () => {
    const read = await freshCertificateFromTls();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    expect(read({ socket: socket(false) })).toBeUndefined();
    expect(read({ socket: socket(false) })).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/requestCert: true.*certificate_missing$/), {
      type: 'CertboundWarning',
      code: 'CERTBOUND_NO_REQUEST_CERT',
    });
  });

  it('is not said when the server requests certificates, or a certificate came anyway', async () => {
    const read = await freshCertificateFromTls();
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    expect(read({ socket: socket(true) })).toBeUndefined();
    expect(read({ socket: socket(undefined) })).toBeUndefined();
    expect(read({ socket: socket(false, clientA) })?.thumbprint).toBe(clientA.thumbprint);
    expect(warn).not.toHaveBeenCalled();
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
