/**
 * RFC 7662 token introspection requests: a POST form with client authentication (RFC 6749 §2.3,
 * RFC 7523, RFC 8705 §2) to the authorization server's endpoint, each call published on
 * `certbound:introspection`. Anything but a 200 `application/json` object is a 503, never a 401.
 */
import { randomUUID } from 'node:crypto';
import { type CryptoKey, importJWK, importPKCS8, type JWK, SignJWT } from 'jose';
import type { AuthorizationServer } from '../authorization-server/authorization-server.js';
import { parseJsonObject, statusError, unavailable } from '../authorization-server/http-client.js';
import { elapsedSince, introspectionChannel, startTimer } from '../diagnostics.js';
import { ServiceUnavailableError } from '../errors.js';
import { isMtlsMethod, type NormalizedIntrospection } from '../options/introspection-options.js';

/** Lifetime of a `private_key_jwt` client assertion, seconds. */
const CLIENT_ASSERTION_TTL_SECONDS = 60;
const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JSON_CONTENT_TYPE = /^application\/json\s*(;|$)/i;

/** `application/x-www-form-urlencoded` encoding of a client id or secret (RFC 6749 §2.3.1). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

export class IntrospectionClient {
  readonly #options: NormalizedIntrospection;
  readonly #server: AuthorizationServer;
  #signingKey: Promise<CryptoKey | Uint8Array> | undefined;
  /** Calls in flight, capped by `maxConcurrentCalls`. */
  #inFlight = 0;

  constructor(options: NormalizedIntrospection, server: AuthorizationServer) {
    this.#options = options;
    this.#server = server;
  }

  /** Introspects `token`; returns the JSON response of a 200, or throws a 503. */
  async introspect(token: string): Promise<Record<string, unknown>> {
    const start = startTimer(introspectionChannel);
    if (this.#inFlight >= this.#options.maxConcurrentCalls) {
      if (start !== 0) introspectionChannel.publish({ outcome: 'overloaded', durationMs: 0 });
      throw new ServiceUnavailableError({
        cause: new Error('too many introspection calls in flight'),
        retryAfterSeconds: 1,
        reason: 'overloaded',
      });
    }
    this.#inFlight++;
    try {
      const response = await this.#introspect(token);
      if (start !== 0) {
        const outcome = response.active === true ? 'active' : 'inactive';
        introspectionChannel.publish({ outcome, durationMs: elapsedSince(start) });
      }
      return response;
    } catch (error) {
      if (start !== 0) introspectionChannel.publish({ outcome: 'error', durationMs: elapsedSince(start) });
      throw error;
    } finally {
      this.#inFlight--;
    }
  }

  async #introspect(token: string): Promise<Record<string, unknown>> {
    const url = await this.#server.introspectionEndpoint(isMtlsMethod(this.#options.clientAuthMethod));
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    await this.#authenticate(form, headers);
    const response = await this.#server.http
      .send(url, { method: 'POST', headers, body: form.toString(), timeoutMs: this.#options.timeoutMs })
      .catch((error: unknown) => {
        this.#server.endpointFailed();
        throw error;
      });
    if (response.status !== 200) throw statusError(response, url, 'introspection endpoint');
    if (response.contentType === undefined || !JSON_CONTENT_TYPE.test(response.contentType)) {
      throw unavailable('bad_content_type', url, 'the introspection response is not application/json');
    }
    return parseJsonObject(response.body, url);
  }

  async #authenticate(form: URLSearchParams, headers: Record<string, string>): Promise<void> {
    const { clientId, clientSecret, clientAuthMethod } = this.#options;
    switch (clientAuthMethod) {
      case 'client_secret_basic':
        headers.authorization = `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret!)}`).toString('base64')}`;
        return;
      case 'client_secret_post':
        form.set('client_id', clientId);
        form.set('client_secret', clientSecret!);
        return;
      case 'private_key_jwt':
        form.set('client_id', clientId);
        form.set('client_assertion_type', JWT_BEARER_ASSERTION);
        form.set('client_assertion', await this.#clientAssertion());
        return;
      default:
        // tls_client_auth / self_signed_tls_client_auth: the certificate is on the connection.
        form.set('client_id', clientId);
    }
  }

  async #clientAssertion(): Promise<string> {
    const { clientId, privateKey, signingAlg } = this.#options;
    this.#signingKey ??= (
      typeof privateKey === 'string'
        ? importPKCS8(privateKey, signingAlg!)
        : importJWK(privateKey as JWK, signingAlg)
    ).catch((cause: unknown) => {
      this.#signingKey = undefined;
      throw new ServiceUnavailableError({ cause, reason: 'client_key' });
    });
    const kid = typeof privateKey === 'object' ? privateKey.kid : undefined;
    return new SignJWT({})
      .setProtectedHeader(kid ? { alg: signingAlg!, kid } : { alg: signingAlg! })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(this.#server.issuer)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${CLIENT_ASSERTION_TTL_SECONDS}s`)
      .sign(await this.#signingKey);
  }
}
