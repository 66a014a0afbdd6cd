/**
 * Outbound HTTP to the authorization server (discovery, JWKS, introspection) through one undici
 * Agent: the `tls` option's private CA and client certificate, a timeout on every request, a cap
 * on response bodies, and no redirects. Every failure is a {@link ServiceUnavailableError}.
 */
import { Agent, request } from 'undici';
import { ServiceUnavailableError } from '../errors.js';

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
      throw new ServiceUnavailableError({ cause });
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
        throw new Error('response body too large');
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

/** The JSON object of a 200 response; any other status or body is a 503. */
export function jsonObjectOf(response: HttpResponse, what: string): Record<string, unknown> {
  if (response.status !== 200) {
    throw new ServiceUnavailableError({ cause: new Error(`HTTP ${response.status} from the ${what}`) });
  }
  return parseJsonObject(response.body);
}

/** Parses a JSON object body; anything else is a 503. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    // Not the SyntaxError itself: its message quotes the body, which could echo a token.
    throw new ServiceUnavailableError({ cause: new Error('the response is not valid JSON') });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ServiceUnavailableError({ cause: new Error('expected a JSON object') });
  }
  return value as Record<string, unknown>;
}
