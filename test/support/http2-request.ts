/** One HTTP/2 request over a new TLS session, presenting a client certificate if given. */
import { connect, constants } from 'node:http2';
import type { TestCertificate } from '@certbound/testing';

export interface Http2Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function http2Request(
  url: string,
  options: {
    ca: string;
    certificate?: Pick<TestCertificate, 'cert' | 'key'>;
    headers?: Record<string, string>;
  },
): Promise<Http2Response> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const session = connect(target.origin, {
      ca: options.ca,
      cert: options.certificate?.cert,
      key: options.certificate?.key,
    });
    session.on('error', reject);
    const stream = session.request({
      [constants.HTTP2_HEADER_PATH]: `${target.pathname}${target.search}`,
      ...options.headers,
    });
    let headers: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    stream.on('response', (received) => {
      headers = received as typeof headers;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => {
      session.close();
      resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks).toString('utf8') });
    });
    stream.end();
  });
}
