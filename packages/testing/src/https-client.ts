/** Calling an HTTPS app with (or without) a client certificate, on a fresh connection each time. */

import type { OutgoingHttpHeaders } from 'node:http';
import { request } from 'node:https';

export interface HttpsRequestOptions {
  method?: string;
  /** PEM certificate and key presented as the TLS client certificate. */
  certificate?: { cert: string; key: string };
  /** CA that signed the server certificate (PEM). */
  ca?: string;
  /** Headers, as Node's `request` takes them. Use `rawHeaders` for duplicates. */
  headers?: OutgoingHttpHeaders;
  /** Header lines sent exactly as given, duplicates included: `[name, value, name, value, …]`. */
  rawHeaders?: string[];
  body?: string;
  /** Highest TLS version to offer, e.g. `'TLSv1.2'`. */
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** `body` parsed as JSON, or `undefined`. */
  json: unknown;
}

/**
 * Sends one request over a new TLS connection, presenting `certificate` if given.
 *
 * @example
 * const res = await httpsRequest(`${url}/accounts`, { certificate: clientA, ca: pki.ca.cert,
 *   headers: { authorization: `Bearer ${token}` } });
 */
export function httpsRequest(url: string, options: HttpsRequestOptions = {}): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    // An array of raw header lines is sent as is: Node then adds no Host header of its own.
    const headers: OutgoingHttpHeaders | string[] = options.rawHeaders
      ? [
          'Host',
          new URL(url).host,
          ...options.rawHeaders,
          ...Object.entries(options.headers ?? {}).flatMap(([k, v]) => [k, String(v)]),
        ]
      : { ...options.headers };
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        cert: options.certificate?.cert,
        key: options.certificate?.key,
        agent: false,
        maxVersion: options.maxVersion,
        headers: headers as OutgoingHttpHeaders,
      },
      (res) => {
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
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
