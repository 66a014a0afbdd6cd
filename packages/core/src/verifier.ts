/**
 * The verifier: composes bearer extraction, the client certificate, token validation (memoized),
 * time checks and the binding decision into one `AuthInfo` or one {@link CertboundError}.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { type AuthInfo, SUCCESS_RESPONSE_HEADERS, type TokenClaims, VerifiedAuth } from './auth-info.js';
import { authorizationLines, bearerToken, hasOtherTokenMethod } from './authorization-header.js';
import { checkBinding } from './binding.js';
import type { ChallengeParams } from './challenge.js';
import { type PresentedCertificate, presentedCertificate } from './client-certificate/presented.js';
import { type CertificateSource, certificateSource } from './client-certificate/source.js';
import {
  type DecisionEvent,
  decisionChannel,
  elapsedSince,
  introspectionChannel,
  startTimer,
} from './diagnostics.js';
import { type AuthorizationServerMetadata, discover } from './discovery.js';
import {
  CertboundError,
  INVALID_REQUEST_DESCRIPTIONS,
  InvalidRequestError,
  InvalidTokenError,
  isCertboundError,
  ServiceUnavailableError,
} from './errors.js';
import { HttpClient } from './http-client.js';
import { IntrospectionClient, validateIntrospection } from './introspection.js';
import { IntrospectionCache } from './introspection-cache.js';
import { isMtlsMethod, type NormalizedIntrospection } from './introspection-options.js';
import { isJwtShaped, type JwtRules, jwtRules, validateJwt } from './jwt.js';
import { type CertboundOptions, type NormalizedOptions, normalizeOptions } from './options.js';
import type { ProtectedResourceEndpoint } from './resource-metadata.js';
import { type KeyResolver, localKeys, remoteKeys, secretKey } from './signing-keys.js';
import { type CertificateInput, certificateBytes } from './thumbprint.js';
import { TokenCache } from './token-cache.js';
import { checkTimes } from './token-time.js';
import { isAllowedUrl } from './url-policy.js';
import type { ValidatedToken } from './validated-token.js';

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
  /** Releases connections and caches. */
  close(): Promise<void>;
  /** The RFC 9728 metadata endpoint, when `protectedResource` is configured (adapters serve it). */
  readonly protectedResource: ProtectedResourceEndpoint | undefined;
}

/** Brand shared by every copy of this module (see `isVerifier`). */
export const VERIFIER = Symbol.for('certbound.verifier');

class CertboundVerifier<Claims extends TokenClaims> implements Verifier<Claims> {
  readonly [VERIFIER] = true;
  readonly #options: NormalizedOptions;
  readonly #challenge: ChallengeParams;
  readonly #http: HttpClient;
  readonly #keys: KeyResolver;
  readonly #cache: TokenCache;
  readonly #rules: JwtRules;
  readonly #introspection: IntrospectionCache | undefined;
  readonly #certificate: CertificateSource;
  #metadata: Promise<AuthorizationServerMetadata> | undefined;
  readonly protectedResource: ProtectedResourceEndpoint | undefined;

  constructor(options: CertboundOptions) {
    const o = normalizeOptions(options);
    this.#options = o;
    this.#challenge = { realm: o.realm, resourceMetadata: o.resourceMetadata };
    this.#http = new HttpClient(o.tls);
    this.#keys = o.secret
      ? secretKey(o.secret)
      : o.jwks
        ? localKeys(o.jwks)
        : remoteKeys(() => this.#jwksUri(), this.#http, o.timeoutMs);
    this.#cache = new TokenCache(o.tokenCache);
    this.#introspection = o.introspection && this.#introspectionCache(o, o.introspection);
    this.#rules = jwtRules(o);
    this.#certificate = certificateSource(o.certificate);
    this.protectedResource = o.protectedResource;
  }

  async authenticate(req: NodeRequest, context?: AuthenticateContext): Promise<AuthInfo<Claims>> {
    const start = startTimer(decisionChannel);
    let certificate: PresentedCertificate | undefined;
    try {
      const token = bearerToken(authorizationLines(req));
      if (token === undefined) throw new InvalidTokenError('credentials_missing');
      if (
        hasOtherTokenMethod(
          req as { url?: string; body?: unknown },
          context?.body ?? (req as { body?: unknown }).body,
        )
      ) {
        throw new InvalidRequestError(INVALID_REQUEST_DESCRIPTIONS.multipleMethods);
      }
      certificate = this.#certificate(req);
      const auth = await this.#authorize(token, certificate);
      if (start !== 0) this.#reportDecision(start, this.#options.certificate.from, certificate, auth);
      return auth;
    } catch (error) {
      const refused = this.#withChallenge(error);
      if (start !== 0) this.#reportDecision(start, this.#options.certificate.from, certificate, refused);
      throw refused;
    }
  }

  checkBody(req: NodeRequest, body: unknown): void {
    if (body != null && hasOtherTokenMethod({ headers: req.headers }, body)) {
      throw this.#withChallenge(new InvalidRequestError(INVALID_REQUEST_DESCRIPTIONS.multipleMethods));
    }
  }

  async verify(input: VerifyInput): Promise<AuthInfo<Claims>> {
    const start = startTimer(decisionChannel);
    let certificate: PresentedCertificate | undefined;
    try {
      const authorization = input.authorization;
      const lines =
        authorization == null ? [] : typeof authorization === 'string' ? [authorization] : authorization;
      const token = bearerToken(lines);
      if (token === undefined) throw new InvalidTokenError('credentials_missing');
      const bytes = input.certificate == null ? undefined : certificateBytes(input.certificate);
      certificate = bytes && presentedCertificate(bytes.der, bytes.thumbprint);
      const auth = await this.#authorize(token, certificate);
      if (start !== 0) this.#reportDecision(start, 'input', certificate, auth);
      return auth;
    } catch (error) {
      const refused = this.#withChallenge(error);
      if (start !== 0) this.#reportDecision(start, 'input', certificate, refused);
      throw refused;
    }
  }

  /** Publishes the outcome on `certbound:decision` (no token, no certificate, no header value). */
  #reportDecision(
    start: number,
    certificateSource: DecisionEvent['certificateSource'],
    certificate: PresentedCertificate | undefined,
    result: AuthInfo<Claims> | unknown,
  ): void {
    const accepted = result instanceof VerifiedAuth;
    const error = !accepted && isCertboundError(result) ? result : undefined;
    const event: DecisionEvent = {
      outcome: accepted ? 'accepted' : 'rejected',
      status: accepted ? 200 : (error?.status ?? 500),
      code: error?.code,
      format: accepted ? (result as AuthInfo).format : undefined,
      certificateSource,
      certificatePresented: certificate !== undefined,
      bound: accepted ? (result as AuthInfo).bound : undefined,
      clientId: accepted ? (result as AuthInfo).clientId : undefined,
      durationMs: elapsedSince(start),
    };
    decisionChannel.publish(event);
  }

  async close(): Promise<void> {
    this.#cache.clear();
    this.#introspection?.clear();
    await this.#http.close();
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
    if (
      format === 'jwt' ||
      (format === 'auto' && (this.#introspection === undefined || isJwtShaped(token)))
    ) {
      return this.#cache.get(token, () => validateJwt(token, this.#keys, this.#rules));
    }
    return this.#introspection!.get(token);
  }

  #introspectionCache(o: NormalizedOptions, introspection: NormalizedIntrospection): IntrospectionCache {
    const client = new IntrospectionClient(introspection, o.issuer, this.#http, () =>
      this.#introspectionEndpoint(),
    );
    const rules = { issuer: o.issuer, audience: o.audience };
    return new IntrospectionCache(introspection.cache, o.issuer, {
      introspect: async (token) => {
        const start = startTimer(introspectionChannel);
        try {
          const response = await client.introspect(token);
          if (start !== 0) {
            const outcome = response.active === true ? 'active' : 'inactive';
            introspectionChannel.publish({ outcome, durationMs: elapsedSince(start) });
          }
          return response;
        } catch (error) {
          if (start !== 0)
            introspectionChannel.publish({ outcome: 'error', durationMs: elapsedSince(start) });
          throw error;
        }
      },
      validate: (response) => validateIntrospection(response, rules),
    });
  }

  /** The configured endpoint, or the discovered one (the mTLS alias for mTLS client authentication). */
  async #introspectionEndpoint(): Promise<string> {
    const introspection = this.#options.introspection!;
    if (introspection.endpoint !== undefined) return introspection.endpoint;
    const metadata = await this.#discover();
    const alias = isMtlsMethod(introspection.clientAuthMethod)
      ? (metadata.mtls_endpoint_aliases as Record<string, unknown> | undefined)?.introspection_endpoint
      : undefined;
    const endpoint = alias ?? metadata.introspection_endpoint;
    if (typeof endpoint !== 'string' || !isAllowedUrl(endpoint)) {
      throw new ServiceUnavailableError({
        cause: new Error('the issuer metadata has no usable introspection_endpoint'),
      });
    }
    return endpoint;
  }

  async #jwksUri(): Promise<string> {
    if (this.#options.jwksUri !== undefined) return this.#options.jwksUri;
    const metadata = await this.#discover();
    const jwksUri = metadata.jwks_uri;
    if (typeof jwksUri !== 'string' || !isAllowedUrl(jwksUri)) {
      this.#metadata = undefined;
      throw new ServiceUnavailableError({ cause: new Error('the issuer metadata has no usable jwks_uri') });
    }
    return jwksUri;
  }

  #discover(): Promise<AuthorizationServerMetadata> {
    this.#metadata ??= discover(this.#options.issuer, this.#http, this.#options.timeoutMs).catch(
      (error: unknown) => {
        this.#metadata = undefined;
        throw error;
      },
    );
    return this.#metadata;
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
