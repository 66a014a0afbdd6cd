/**
 * Outbound HTTP to the authorization server (discovery, JWKS, introspection) through one undici
 * Agent: the `tls` option's private CA and client certificate, a timeout on every request, a cap
 * on response bodies, and no redirects. Every failure is a {@link ServiceUnavailableError}.
 */
import { Agent, request } from 'undici';
import { ServiceUnavailableError, type UnavailableReason } from '../errors.js';

/** TLS material for connections to the authorization server. */
export interface OutboundTlsOptions {
  /** Private CA certificate(s), PEM. Replaces the default trust store when set. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate, PEM (for `tls_client_auth` / `self_signed_tls_client_auth`). */
  cert?: string | Buffer;
  /** Private key of `cert`, PEM. */
  key?: string | Buffer;
}

/** Largest response body read from the authorization server. */
export const MAX_RESPONSE_BYTES = 256 * 1024;

export interface HttpResponse {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

export interface HttpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export class HttpClient {
  readonly #agent: Agent;
  #closed: Promise<void> | undefined;

  constructor(tls: OutboundTlsOptions = {}) {
    this.#agent = new Agent({
      connect: { ca: tls.ca, cert: tls.cert, key: tls.key },
      keepAliveTimeout: 10_000,
    });
  }

  /**
   * Sends a request; any transport failure or timeout is a 503. The status is the caller's to
   * judge. Nothing about a failure is remembered: the next call tries again, so service resumes
   * with the first healthy answer (docs/architecture.md#failure-handling).
   */
  async send(url: string, init: HttpRequest): Promise<HttpResponse> {
    try {
      return await this.#send(url, init);
    } catch (cause) {
      throw new ServiceUnavailableError({ cause, reason: transportReason(cause), origin: originOf(url) });
    }
  }

  async #send(url: string, init: HttpRequest): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(init.timeoutMs);
    const signal = init.signal ? AbortSignal.any([timeout, init.signal]) : timeout;
    const response = await request(url, {
      dispatcher: this.#agent,
      method: init.method ?? 'GET',
      headers: init.headers,
      body: init.body,
      signal,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_RESPONSE_BYTES) {
        response.body.destroy();
        throw new ResponseTooLarge();
      }
      chunks.push(chunk as Buffer);
    }
    const contentType = response.headers['content-type'];
    return {
      status: response.statusCode,
      contentType: Array.isArray(contentType) ? contentType[0] : contentType,
      body: Buffer.concat(chunks, size),
    };
  }

  /** Closes the connections; calling it again returns the same promise. */
  close(): Promise<void> {
    this.#closed ??= this.#agent.close();
    return this.#closed;
  }
}

/** The origin of `url` (public: the authorization server's), or `undefined`. */
export function originOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** A 503 for `reason` about `url`, with a fixed-text cause (never a response body). */
export function unavailable(
  reason: UnavailableReason,
  url: string | undefined,
  detail: string,
): ServiceUnavailableError {
  return new ServiceUnavailableError({ cause: new Error(detail), reason, origin: originOf(url) });
}

class ResponseTooLarge extends Error {
  constructor() {
    super('response body too large');
  }
}

const TLS_UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The reason of a transport failure, from the error codes Node and undici give. */
function transportReason(error: unknown): UnavailableReason {
  if (error instanceof ResponseTooLarge) return 'too_large';
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const { code, name } = current as { code?: unknown; name?: unknown };
    if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
    if (typeof code === 'string') {
      if (TLS_UNTRUSTED.has(code)) return 'tls_untrusted';
      if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return 'tls_error';
      if (code === 'ECONNREFUSED') return 'connection_refused';
      if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'connection_reset';
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
      if (code.includes('TIMEOUT') || code === 'ETIMEDOUT' || code === 'ABORT_ERR') return 'timeout';
    }
    current = (current as { cause?: unknown }).cause;
  }
  return 'network';
}

/** A 503 for a status other than 200 (a redirect is never followed). */
export function statusError(response: HttpResponse, url: string, what: string): ServiceUnavailableError {
  const reason = response.status >= 300 && response.status < 400 ? 'redirect' : 'http_status';
  return unavailable(reason, url, `HTTP ${response.status} from the ${what}`);
}

/** The JSON object of a 200 response; any other status or body is a 503. */
export function jsonObjectOf(response: HttpResponse, url: string, what: string): Record<string, unknown> {
  if (response.status !== 200) throw statusError(response, url, what);
  return parseJsonObject(response.body, url);
}

/** Parses a JSON object body; anything else is a 503. */
export function parseJsonObject(body: Buffer, url?: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    // Not the SyntaxError itself: its message quotes the body, which could echo a token.
    throw unavailable('bad_json', url, 'the response is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw unavailable('bad_json', url, 'expected a JSON object');
  }
  return value as Record<string, unknown>;
}
