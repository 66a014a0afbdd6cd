/**
 * A small HTTPS server on 127.0.0.1 standing in for an authorization server whose answers a test
 * sets path by path (metadata documents with any members, JWK Sets, failures), counting requests
 * and recording the client certificate each connection presented.
 */
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { TestPki } from '@certbound/testing';

export interface StubAnswer {
  status?: number;
  /** Sent as JSON; a string is sent as is. */
  body?: unknown;
}

export type StubRoute = StubAnswer | ((req: IncomingMessage) => StubAnswer | Promise<StubAnswer>);

export interface StubServer {
  /** `https://127.0.0.1:<port>`: use it as the issuer identifier. */
  url: string;
  /** Answers requests for `path` (query ignored); other paths get a 404. */
  route(path: string, answer: StubRoute): void;
  /** Requests received for `path`. */
  hits(path: string): number;
  /** The SHA-256 fingerprints (`AA:BB:…`) of the client certificates presented, per request. */
  peerFingerprints: (string | undefined)[];
  close(): Promise<void>;
}

export const RFC8414_PATH = '/.well-known/oauth-authorization-server';

export async function startStubServer(pki: TestPki): Promise<StubServer> {
  const routes = new Map<string, StubRoute>();
  const counts = new Map<string, number>();
  const peerFingerprints: (string | undefined)[] = [];
  const server = createServer(
    { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      counts.set(path, (counts.get(path) ?? 0) + 1);
      peerFingerprints.push((req.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256);
      const route = routes.get(path);
      if (route === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
        return;
      }
      Promise.resolve(typeof route === 'function' ? route(req) : route).then(
        ({ status = 200, body = {} }) => {
          const text = typeof body === 'string' ? body : JSON.stringify(body);
          res.writeHead(status, { 'content-type': 'application/json' }).end(text);
        },
        () => res.socket?.destroy(),
      );
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    route: (path, answer) => {
      routes.set(path, answer);
    },
    hits: (path) => counts.get(path) ?? 0,
    peerFingerprints,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
