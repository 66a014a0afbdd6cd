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

/** After a failure to get an answer from a URL, further requests to it fail fast for this long. */
export const FAILURE_HOLD_DOWN_MS = 1_000;

export class HttpClient {
  readonly #agent: Agent;
  #closed: Promise<void> | undefined;
  /** URL → epoch ms until which requests to it fail fast (a minimal circuit breaker). */
  readonly #heldDown = new Map<string, number>();

  constructor(tls: OutboundTlsOptions = {}) {
    this.#agent = new Agent({
      connect: { ca: tls.ca, cert: tls.cert, key: tls.key },
      keepAliveTimeout: 10_000,
    });
  }

  /**
   * Sends a request; any transport failure or timeout is a 503. The status is the caller's to
   * judge. After a transport failure, timeout or 5xx, requests to the same URL fail fast for
   * {@link FAILURE_HOLD_DOWN_MS}, so an outage does not turn every request into an outbound call.
   */
  async send(url: string, init: HttpRequest): Promise<HttpResponse> {
    const heldDownUntil = this.#heldDown.get(url);
    if (heldDownUntil !== undefined) {
      const remaining = heldDownUntil - Date.now();
      if (remaining > 0) {
        throw new ServiceUnavailableError({
          cause: new Error(`${url} failed moments ago`),
          retryAfterSeconds: Math.ceil(remaining / 1000),
        });
      }
      this.#heldDown.delete(url);
    }
    try {
      const response = await this.#send(url, init);
      if (response.status >= 500) this.#holdDown(url);
      return response;
    } catch (cause) {
      this.#holdDown(url);
      throw new ServiceUnavailableError({ cause });
    }
  }

  #holdDown(url: string): void {
    this.#heldDown.set(url, Date.now() + FAILURE_HOLD_DOWN_MS);
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
