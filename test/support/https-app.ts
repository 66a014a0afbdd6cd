/** The tests' name for `serveHttps` from @certbound/testing. */
import type { RequestListener } from 'node:http';
import { serveHttps, type TestPki } from '@certbound/testing';

export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

/** RFC 8705 §6.2: `requestCert: true, rejectUnauthorized: false` (binding is proof of possession). */
export function startHttpsApp(listener: RequestListener, pki: TestPki): Promise<RunningApp> {
  return serveHttps(listener, { pki });
}
