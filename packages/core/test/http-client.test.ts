import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTestPki, type TestPki } from '@certbound/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient, jsonObjectOf, MAX_RESPONSE_BYTES } from '../src/authorization-server/http-client.js';
import { ServiceUnavailableError } from '../src/errors.js';

let pki: TestPki;
let url: string;
let close: () => Promise<void>;
const clientCertificates: (string | undefined)[] = [];

beforeAll(async () => {
  pki = await createTestPki();
  const server = createServer(
    { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      clientCertificates.push(
        (req.socket as import('node:tls').TLSSocket).getPeerX509Certificate()?.fingerprint256,
      );
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

describe('HttpClient', () => {
  it('gets a JSON object through the configured CA, presenting the configured certificate', async () => {
    const client = await pki.issueClient({ subject: 'CN=resource-server' });
    const http = new HttpClient({ ca: pki.ca.cert, cert: client.cert, key: client.key });
    try {
      expect(jsonObjectOf(await http.send(`${url}/ok`, { timeoutMs: 2000 }), 'test')).toEqual({ a: 1 });
      expect(clientCertificates.at(-1)).toBeDefined();
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
        http.send(`${url}${path}`, { timeoutMs: 2000 }).then((r) => jsonObjectOf(r, 'test')),
      ).rejects.toThrow(ServiceUnavailableError);
    } finally {
      await http.close();
    }
  });
});
