/**
 * The origin a request was sent to, for the `htu` check when `dpop.origins` is not configured:
 * `https://` (or `http://` without TLS) and the `Host` field, or HTTP/2's `:authority`. Behind a
 * TLS-terminating proxy (`certificate.from: 'header'`), the proxy's `Forwarded` (RFC 7239) or
 * `X-Forwarded-Proto` / `X-Forwarded-Host` fields, read only when the immediate peer is a trusted
 * proxy — a client cannot choose the origin its proof is checked against
 * (docs/architecture.md#dpop-request-uri).
 */
import type { IsTrustedProxy } from '../client-certificate/trusted-proxies.js';

type OriginRequest = {
  headers: Record<string, string | string[] | undefined>;
  socket?: { encrypted?: boolean; remoteAddress?: string } | null;
  authority?: string;
};

const HOST = /^[A-Za-z0-9.\-[\]:]{1,255}$/;

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `proto` and `host` of the first element of a `Forwarded` field (RFC 7239 §4). */
function forwarded(value: string): { proto?: string; host?: string } {
  const first = value.split(',')[0] ?? '';
  const result: { proto?: string; host?: string } = {};
  for (const pair of first.split(';')) {
    const equals = pair.indexOf('=');
    if (equals === -1) continue;
    const name = pair.slice(0, equals).trim().toLowerCase();
    let text = pair.slice(equals + 1).trim();
    if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) text = text.slice(1, -1);
    if (name === 'proto') result.proto = text.toLowerCase();
    if (name === 'host') result.host = text;
  }
  return result;
}

/** The request's origin (`https://host[:port]`), or `undefined` when it cannot be told. */
export function requestOrigin(
  req: OriginRequest,
  trustedProxy: IsTrustedProxy | undefined,
): string | undefined {
  let proto: string | undefined = req.socket?.encrypted ? 'https' : 'http';
  let host = single(req.headers[':authority']) ?? req.authority ?? single(req.headers.host);
  if (trustedProxy?.(req.socket?.remoteAddress)) {
    const field = single(req.headers.forwarded);
    if (field !== undefined) {
      const { proto: p, host: h } = forwarded(field);
      proto = p ?? proto;
      host = h ?? host;
    } else {
      const p = single(req.headers['x-forwarded-proto'])?.split(',')[0]?.trim().toLowerCase();
      const h = single(req.headers['x-forwarded-host'])?.split(',')[0]?.trim();
      proto = p || proto;
      host = h || host;
    }
  }
  if ((proto !== 'https' && proto !== 'http') || host === undefined || !HOST.test(host)) return undefined;
  return `${proto}://${host}`;
}
