/**
 * RFC 7662 token introspection: the request (POST form, client authentication per RFC 6749
 * §2.3 / RFC 7523 / RFC 8705 §2) and the strict reading of the response (STANDARDS.md §2.6).
 * The authorization server failing to answer properly is a 503, never a 401.
 */
import { randomUUID } from 'node:crypto';
import { type CryptoKey, importJWK, importPKCS8, type JWK, SignJWT } from 'jose';
import { readConfirmation } from './binding.js';
import { InvalidTokenError, ServiceUnavailableError } from './errors.js';
import { type HttpClient, parseJsonObject } from './http-client.js';
import type { NormalizedIntrospection } from './introspection-options.js';
import { readScopes } from './jwt.js';
import { readTimes } from './token-time.js';
import type { ValidatedToken } from './validated-token.js';

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
  readonly #issuer: string;
  readonly #http: HttpClient;
  readonly #endpoint: () => Promise<string>;
  #signingKey: Promise<CryptoKey | Uint8Array> | undefined;

  constructor(
    options: NormalizedIntrospection,
    issuer: string,
    http: HttpClient,
    endpoint: () => Promise<string>,
  ) {
    this.#options = options;
    this.#issuer = issuer;
    this.#http = http;
    this.#endpoint = endpoint;
  }

  /** Introspects `token`; returns the JSON response of a 200, or throws a 503. */
  async introspect(token: string): Promise<Record<string, unknown>> {
    const url = await this.#endpoint();
    const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    await this.#authenticate(form, headers);
    const response = await this.#http.send(url, {
      method: 'POST',
      headers,
      body: form.toString(),
      timeoutMs: this.#options.timeoutMs,
    });
    if (response.status !== 200) {
      throw new ServiceUnavailableError({
        cause: new Error(`HTTP ${response.status} from the introspection endpoint`),
      });
    }
    if (response.contentType === undefined || !JSON_CONTENT_TYPE.test(response.contentType)) {
      throw new ServiceUnavailableError({
        cause: new Error('the introspection response is not application/json'),
      });
    }
    return parseJsonObject(response.body);
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
      throw new ServiceUnavailableError({ cause });
    });
    const kid = typeof privateKey === 'object' ? privateKey.kid : undefined;
    return new SignJWT({})
      .setProtectedHeader(kid ? { alg: signingAlg!, kid } : { alg: signingAlg! })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(this.#issuer)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${CLIENT_ASSERTION_TTL_SECONDS}s`)
      .sign(await this.#signingKey);
  }
}

export interface IntrospectionRules {
  issuer: string;
  audience: readonly string[];
}

function optionalString(response: Record<string, unknown>, name: string): string | undefined {
  if (!Object.hasOwn(response, name)) return undefined;
  const value = response[name];
  if (typeof value !== 'string') throw new InvalidTokenError('token_malformed');
  return value;
}

/**
 * Reads an introspection response into a validated token, or throws 401 `invalid_token`:
 * `active` must be exactly `true`; `iss` (if present) must equal ours; `aud` (if present) must
 * contain one of ours; `token_type` (if present) must be Bearer (`DPoP` → `cnf_unsupported`);
 * `cnf` is read exactly like a JWT's. Time claims are checked by the verifier on every request.
 */
export function validateIntrospection(
  response: Record<string, unknown>,
  rules: IntrospectionRules,
): ValidatedToken {
  if (response.active !== true) throw new InvalidTokenError('token_inactive');
  const tokenType = optionalString(response, 'token_type');
  if (tokenType !== undefined && tokenType.toLowerCase() !== 'bearer') {
    throw new InvalidTokenError(
      tokenType.toLowerCase() === 'dpop' ? 'cnf_unsupported' : 'token_type_invalid',
    );
  }
  const iss = optionalString(response, 'iss');
  if (iss !== undefined && iss !== rules.issuer) throw new InvalidTokenError('token_issuer_mismatch');
  if (Object.hasOwn(response, 'aud')) {
    const aud = response.aud;
    const audiences = typeof aud === 'string' ? [aud] : aud;
    if (!Array.isArray(audiences) || !audiences.every((a) => typeof a === 'string')) {
      throw new InvalidTokenError('token_malformed');
    }
    if (!audiences.some((a) => rules.audience.includes(a)))
      throw new InvalidTokenError('token_audience_mismatch');
  }
  return {
    format: 'opaque',
    claims: Object.freeze({ ...response }),
    subject: optionalString(response, 'sub'),
    clientId: optionalString(response, 'client_id'),
    scopes: readScopes(response),
    times: readTimes(response),
    confirmation: readConfirmation(response),
  };
}
