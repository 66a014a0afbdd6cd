/**
 * Serving an app over HTTPS the way an RFC 8705 resource server must run: asking every client for
 * a certificate without verifying its chain (§6.2: the binding is the proof of possession).
 */
import type { RequestListener } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestPki } from './pki.js';

export interface TestServer {
  /** `https://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  server: Server;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/**
 * Serves `listener` (an Express app, `koa.callback()`, any Node request listener) on an ephemeral
 * loopback port with the PKI's server certificate.
 *
 * @example
 * const api = await serveHttps(app, { pki });
 * await request(api.url).get('/accounts').ca(pki.ca.cert).cert(client.cert).key(client.key)
 *   .set('authorization', `Bearer ${token}`).expect(200); // supertest
 * await api.close();
 */
export async function serveHttps(listener: RequestListener, options: { pki: TestPki }): Promise<TestServer> {
  const { pki } = options;
  const server = createServer(
    { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false },
    listener,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
