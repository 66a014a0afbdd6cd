/** Runs a request listener on a real HTTPS server that asks for (but does not verify) client certificates. */
import type { RequestListener } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestPki } from '@certbound/testing';

export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

/** RFC 8705 §6.2: `requestCert: true, rejectUnauthorized: false` (binding is proof of possession). */
export async function startHttpsApp(listener: RequestListener, pki: TestPki): Promise<RunningApp> {
  const server = createServer(
    { cert: pki.server.cert, key: pki.server.key, requestCert: true, rejectUnauthorized: false },
    listener,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
