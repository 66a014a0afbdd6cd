import { createHash } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createTestPki, type TestPki } from '@certbound/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HttpClient, jsonObjectOf, MAX_RESPONSE_BYTES } from '../src/authorization-server/http-client.js';
import { ServiceUnavailableError } from '../src/errors.js';
import { failure } from './support/outcomes.js';
import { startStubServer } from './support/stub-server.js';

let pki: TestPki;
let url: string;
let close: () => Promise<void>;
const clientCertificates: (string | undefined)[] = [];

beforeAll(async () => {
  pki = await createTestPki();
  const server = createServer(
    { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      // What the server saw: the x5t#S256 of the certificate the client presented, if any.
      const peer = (req.socket as TLSSocket).getPeerX509Certificate();
      clientCertificates.push(peer && createHash('sha256').update(peer.raw).digest('base64url'));
      switch (req.url) {
        case '/ok':
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"a":1}');
          return;
        case '/array':
          res.writeHead(200).end('[1,2]');
          return;
        case '/huge':
          res.writeHead(200).end(`{"a":"${'x'.repeat(MAX_RESPONSE_BYTES)}"}`);
          return;
        case '/error':
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
          return;
        case '/redirect':
          res.writeHead(302, { location: '/ok' }).end();
          return;
        default:
          res.writeHead(404).end();
      }
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
});

afterAll(() => close());

afterEach(() => {
  vi.useRealTimers();
});

describe('HttpClient', () => {
  it('gets a JSON object through the configured CA, presenting the configured certificate', async () => {
    const client = await pki.issueClient({ subject: 'CN=resource-server' });
    const http = new HttpClient({ ca: pki.ca.cert, cert: client.cert, key: client.key });
    const seen = clientCertificates.length;
    try {
      expect(jsonObjectOf(await http.send(`${url}/ok`, { timeoutMs: 2000 }), `${url}/ok`, 'test')).toEqual({
        a: 1,
      });
      expect(jsonObjectOf(await http.send(`${url}/ok`, { timeoutMs: 2000 }), `${url}/ok`, 'test')).toEqual({
        a: 1,
      });
      expect(clientCertificates.slice(seen)).toEqual([client.thumbprint, client.thumbprint]);
    } finally {
      await http.close();
    }
  });

  it('presents no client certificate when none is configured', async () => {
    const http = new HttpClient({ ca: pki.ca.cert });
    const seen = clientCertificates.length;
    try {
      expect(jsonObjectOf(await http.send(`${url}/ok`, { timeoutMs: 2000 }), `${url}/ok`, 'test')).toEqual({
        a: 1,
      });
      expect(clientCertificates.slice(seen)).toEqual([undefined]);
    } finally {
      await http.close();
    }
  });

  it.each([
    ['a JSON array', '/array'],
    ['a body over the size cap', '/huge'],
    ['a redirect (not followed)', '/redirect'],
    ['a 404', '/missing'],
  ])('answers %s with a 503 error', async (_name, path) => {
    const http = new HttpClient({ ca: pki.ca.cert });
    try {
      await expect(
        http.send(`${url}${path}`, { timeoutMs: 2000 }).then((r) => jsonObjectOf(r, `${url}${path}`, 'test')),
      ).rejects.toThrow(ServiceUnavailableError);
    } finally {
      await http.close();
    }
  });

  it('does not remember a 5xx: the next call to the same URL goes out and gets the answer', async () => {
    // The clock stands still: nothing but the next call is needed for service to resume.
    vi.useFakeTimers({ toFake: ['Date'] });
    const stub = await startStubServer(pki);
    const http = new HttpClient({ ca: pki.ca.cert });
    try {
      stub.route('/flaky', { status: 500, body: { error: 'server_error' } });
      expect((await http.send(`${stub.url}/flaky`, { timeoutMs: 2000 })).status).toBe(500);
      stub.route('/flaky', { body: { a: 1 } });
      const response = await http.send(`${stub.url}/flaky`, { timeoutMs: 2000 });
      expect({ status: response.status, body: jsonObjectOf(response, url, 'test') }).toEqual({
        status: 200,
        body: { a: 1 },
      });
      expect(stub.hits('/flaky')).toBe(2);
    } finally {
      await http.close();
      await stub.close();
    }
  });

  it('does not remember a transport failure: the next call to the same URL goes out and succeeds', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const stub = await startStubServer(pki);
    const http = new HttpClient({ ca: pki.ca.cert });
    try {
      // A route that rejects makes the stub drop the connection without an answer.
      stub.route('/flaky', () => Promise.reject(new Error('reset')));
      const error = await failure(http.send(`${stub.url}/flaky`, { timeoutMs: 2000 }));
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect(error).toMatchObject({
        status: 503,
        error: undefined,
        code: 'authorization_server_unavailable',
        retryAfterSeconds: 5,
        headers: { 'retry-after': '5' },
      });
      stub.route('/flaky', { body: { a: 1 } });
      expect(
        jsonObjectOf(await http.send(`${stub.url}/flaky`, { timeoutMs: 2000 }), stub.url, 'test'),
      ).toEqual({
        a: 1,
      });
      expect(stub.hits('/flaky')).toBe(2);
    } finally {
      await http.close();
      await stub.close();
    }
  });

  it('calls a URL again after a 4xx', async () => {
    const http = new HttpClient({ ca: pki.ca.cert });
    try {
      expect((await http.send(`${url}/missing`, { timeoutMs: 2000 })).status).toBe(404);
      expect((await http.send(`${url}/missing`, { timeoutMs: 2000 })).status).toBe(404);
    } finally {
      await http.close();
    }
  });
});
