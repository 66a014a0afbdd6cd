/**
 * The verifier: composes bearer extraction, the client certificate, token validation (memoized),
 * time checks and the binding decision into one `AuthInfo` or one {@link CertboundError}.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { type AuthInfo, SUCCESS_RESPONSE_HEADERS, type TokenClaims, VerifiedAuth } from './auth-info.js';
import { authorizationLines, bearerToken, hasOtherTokenMethod } from './authorization-header.js';
import { AuthorizationServer } from './authorization-server/authorization-server.js';
import { checkBinding } from './binding/binding.js';
import { type CertificateInput, certificateBytes } from './certificate-input.js';
import type { ChallengeParams } from './challenge.js';
import { type PresentedCertificate, presentedCertificate } from './client-certificate/presented.js';
import { type CertificateSource, certificateSource } from './client-certificate/source.js';
import { type DecisionEvent, decisionChannel, publishDecision, startTimer } from './diagnostics.js';
import {
  CertboundError,
  INVALID_REQUEST_DESCRIPTIONS,
  InvalidRequestError,
  InvalidTokenError,
} from './errors.js';
import { IntrospectionCache } from './introspection/introspection-cache.js';
import { IntrospectionClient } from './introspection/introspection-client.js';
import { validateIntrospection } from './introspection/introspection-response.js';
import { isJwtShaped, type JwtRules, jwtRules } from './jwt/jwt-rules.js';
import { RemoteKeySet } from './jwt/remote-key-set.js';
import { type KeyResolver, localKeys, secretKey } from './jwt/signing-keys.js';
import { SIGNATURE_MISMATCH, validateJwt } from './jwt/validate-jwt.js';
import {
  type CertboundOptions,
  type NormalizedOptions,
  normalizeOptions,
} from './options/verifier-options.js';
import type { ProtectedResourceEndpoint } from './resource-metadata.js';
import { TokenMemo } from './token/token-memo.js';
import { checkTimes } from './token/token-time.js';
import type { ValidatedToken } from './token/validated-token.js';

/** A Node request: HTTP/1.1 `IncomingMessage` or an HTTP/2 compatibility request. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;

/** Inputs already extracted from a request, for `verifier.verify`. */
export interface VerifyInput {
  /** The `Authorization` field value; an array holds every field line (more than one → 400). */
  authorization?: string | readonly string[] | null;
  /** The client certificate presented on the connection: DER, PEM, `X509Certificate` or `null`. */
  certificate?: CertificateInput | null;
}

/** Extra request data an adapter may pass (e.g. Koa's parsed body lives outside the Node request). */
export interface AuthenticateContext {
  body?: unknown;
}

export interface Verifier<Claims extends TokenClaims = TokenClaims> {
  /** Authenticates a Node request: the `Authorization` header and the TLS client certificate. */
  authenticate(req: NodeRequest, context?: AuthenticateContext): Promise<AuthInfo<Claims>>;
  /**
   * Throws 400 `invalid_request` when a form-encoded `body` carries `access_token` (RFC 6750 §2:
   * one method per request). `authenticate` checks the body a request already has; adapters for
   * frameworks that parse bodies after authenticating (Fastify) call this once it is parsed.
   */
  checkBody(req: NodeRequest, body: unknown): void;
  /** Authenticates already-extracted inputs. */
  verify(input: VerifyInput): Promise<AuthInfo<Claims>>;
  /**
   * Fetches the issuer's JWK Set now (after a key compromise, say): keys it no longer has stop
   * verifying at once, and validations made with them are forgotten. Without a remote JWK Set
   * (`jwks` or `secret`), does nothing.
   */
  refreshKeys(): Promise<void>;
  /** Releases connections and caches. */
  close(): Promise<void>;
  /** The RFC 9728 metadata endpoint, when `protectedResource` is configured (adapters serve it). */
  readonly protectedResource: ProtectedResourceEndpoint | undefined;
}

/** Brand shared by every copy of this module (see `isVerifier`). */
export const VERIFIER = Symbol.for('certbound.verifier');

/** What a request presents: the access token, and the client certificate if there is one. */
interface Credentials {
  token: string;
  certificate: PresentedCertificate | undefined;
}

class CertboundVerifier<Claims extends TokenClaims> implements Verifier<Claims> {
  readonly [VERIFIER] = true;
  readonly #options: NormalizedOptions;
  readonly #challenge: ChallengeParams;
  readonly #server: AuthorizationServer;
  readonly #keys: KeyResolver;
  readonly #memo: TokenMemo;
  readonly #rules: JwtRules;
  readonly #introspection: IntrospectionCache | undefined;
  readonly #certificate: CertificateSource;
  readonly protectedResource: ProtectedResourceEndpoint | undefined;

  constructor(options: CertboundOptions) {
    const o = normalizeOptions(options);
    this.#options = o;
    this.#challenge = { realm: o.realm, resourceMetadata: o.resourceMetadata };
    this.#server = new AuthorizationServer({
      issuer: o.issuer,
      jwksUri: o.jwksUri,
      introspectionEndpoint: o.introspection?.endpoint,
      tls: o.tls,
      timeoutMs: o.timeoutMs,
    });
    // A forged signature stays forged: remembered, so a replay costs no signature check.
    this.#memo = new TokenMemo(o.tokenCache, (error) => (error as Error).cause === SIGNATURE_MISMATCH);
    if (o.secret !== undefined) this.#keys = secretKey(o.secret);
    else if (o.jwks !== undefined) this.#keys = localKeys(o.jwks);
    else {
      const remote = new RemoteKeySet(this.#server, {
        timeoutMs: o.timeoutMs,
        maxAgeSeconds: o.jwksMaxAgeSeconds,
      });
      remote.onKeysRemoved((ids) => this.#memo.forgetKeys(ids));
      this.#keys = remote;
    }
    this.#rules = jwtRules(o);
    if (o.introspection !== undefined) {
      const client = new IntrospectionClient(o.introspection, this.#server);
      const rules = { issuer: o.issuer, audience: o.audience };
      this.#introspection = new IntrospectionCache(o.introspection.cache, o.issuer, {
        introspect: (token) => client.introspect(token),
        validate: (response) => validateIntrospection(response, rules),
      });
    }
    this.#certificate = certificateSource(o.certificate);
    this.protectedResource = o.protectedResource;
  }

  authenticate(req: NodeRequest, context?: AuthenticateContext): Promise<AuthInfo<Claims>> {
    return this.#decide(this.#options.certificate.from, () => {
      const token = bearerToken(authorizationLines(req));
      if (token === undefined) throw new InvalidTokenError('credentials_missing');
      const body = context?.body ?? (req as { body?: unknown }).body;
      if (hasOtherTokenMethod(req as { url?: string }, body)) {
        throw new InvalidRequestError(INVALID_REQUEST_DESCRIPTIONS.multipleMethods);
      }
      return { token, certificate: this.#certificate(req) };
    });
  }

  checkBody(req: NodeRequest, body: unknown): void {
    if (body != null && hasOtherTokenMethod({ headers: req.headers }, body)) {
      throw this.#withChallenge(new InvalidRequestError(INVALID_REQUEST_DESCRIPTIONS.multipleMethods));
    }
  }

  verify(input: VerifyInput): Promise<AuthInfo<Claims>> {
    return this.#decide('input', () => {
      const { authorization } = input;
      const lines =
        authorization == null ? [] : typeof authorization === 'string' ? [authorization] : authorization;
      const token = bearerToken(lines);
      if (token === undefined) throw new InvalidTokenError('credentials_missing');
      const bytes = input.certificate == null ? undefined : certificateBytes(input.certificate);
      return { token, certificate: bytes && presentedCertificate(bytes.der, bytes.thumbprint) };
    });
  }

  async refreshKeys(): Promise<void> {
    if (this.#keys instanceof RemoteKeySet) await this.#keys.refresh();
  }

  async close(): Promise<void> {
    this.#memo.clear();
    this.#introspection?.clear();
    await this.#server.close();
  }

  /**
   * The pipeline: credentials (token and certificate), the token's validation, its time claims,
   * the binding. Every outcome is published on `certbound:decision`; every error carries this
   * verifier's challenge.
   */
  async #decide(
    source: DecisionEvent['certificateSource'],
    credentials: () => Credentials,
  ): Promise<AuthInfo<Claims>> {
    const start = startTimer(decisionChannel);
    let certificate: PresentedCertificate | undefined;
    try {
      const presented = credentials();
      certificate = presented.certificate;
      const auth = await this.#authorize(presented.token, certificate);
      if (start !== 0) publishDecision(start, source, certificate !== undefined, auth);
      return auth;
    } catch (error) {
      const refused = this.#withChallenge(error);
      if (start !== 0) publishDecision(start, source, certificate !== undefined, refused);
      throw refused;
    }
  }

  async #authorize(token: string, certificate: PresentedCertificate | undefined): Promise<AuthInfo<Claims>> {
    const validated = await this.#validate(token);
    checkTimes(validated.times, Date.now() / 1000, this.#options.clockToleranceSeconds);
    const bound = checkBinding(validated.confirmation, certificate, this.#options.binding);
    const exp = validated.times.exp;
    return new VerifiedAuth<Claims>(
      {
        token,
        format: validated.format,
        claims: validated.claims as Claims,
        subject: validated.subject,
        clientId: validated.clientId,
        // A copy per request: handlers may sort or extend it; the cached one stays frozen.
        scopes: [...validated.scopes],
        expiresAt: exp === undefined ? undefined : new Date(exp * 1000),
        thumbprint: certificate?.thumbprint,
        bound,
        responseHeaders: SUCCESS_RESPONSE_HEADERS,
      },
      this.#challenge,
    );
  }

  /** JWT-shaped tokens are validated locally (`auto`, `jwt`); others are introspected (`auto`, `opaque`). */
  #validate(token: string): Promise<ValidatedToken> {
    const format = this.#options.tokenFormat;
    const introspection = this.#introspection;
    if (format === 'jwt' || introspection === undefined || (format === 'auto' && isJwtShaped(token))) {
      return this.#memo.get(token, () => validateJwt(token, this.#keys, this.#rules));
    }
    return introspection.get(token);
  }

  #withChallenge(error: unknown): unknown {
    return error instanceof CertboundError ? error.withChallenge(this.#challenge) : error;
  }
}

/**
 * Creates a verifier. Options are validated now (a bad option throws a TypeError naming it);
 * discovery and key fetching happen on first use and recover by themselves after an outage.
 *
 * @example
 * const verifier = createVerifier({ issuer: 'https://as.example.com', audience: 'https://api.example.com' });
 * const auth = await verifier.authenticate(req); // throws CertboundError
 */
export function createVerifier<Claims extends TokenClaims = TokenClaims>(
  options: CertboundOptions,
): Verifier<Claims> {
  return new CertboundVerifier<Claims>(options);
}
