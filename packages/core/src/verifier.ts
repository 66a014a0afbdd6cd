/**
 * The verifier: the pipeline from a request to one `AuthInfo` or one {@link CertboundError} —
 * credentials (scheme, token, certificate, DPoP proof), the token's validation (memoized, or
 * introspected through the cache), its time claims, the proof, the binding decision, and replay.
 */
import { type AuthInfo, SUCCESS_RESPONSE_HEADERS, type TokenClaims, VerifiedAuth } from './auth-info.js';
import {
  authorizationCredentials,
  authorizationLines,
  type Credentials,
  hasOtherTokenMethod,
} from './authorization-header.js';
import { decideBinding } from './binding/binding.js';
import { certificateBytes } from './certificate-input.js';
import type { ChallengeParams } from './challenge.js';
import { type PresentedCertificate, presentedCertificate } from './client-certificate/presented.js';
import { type CertificateSource, certificateSource } from './client-certificate/source.js';
import {
  type DecisionEvent,
  decisionChannel,
  publishDecision,
  startTimer,
  warnUnavailable,
} from './diagnostics.js';
import { DpopCheck, type ProofInput } from './dpop/dpop-check.js';
import {
  CertboundError,
  INVALID_REQUEST_DESCRIPTIONS,
  InvalidRequestError,
  InvalidTokenError,
} from './errors.js';
import { fieldLines } from './field-lines.js';
import { IntrospectionCache } from './introspection/introspection-cache.js';
import { IntrospectionClient } from './introspection/introspection-client.js';
import { validateIntrospection } from './introspection/introspection-response.js';
import { isJwtShaped } from './jwt/jwt-rules.js';
import { TokenIssuers } from './jwt/token-issuers.js';
import { SIGNATURE_MISMATCH } from './jwt/validate-jwt.js';
import {
  type CertboundOptions,
  type NormalizedOptions,
  normalizeOptions,
} from './options/verifier-options.js';
import type { ProtectedResourceEndpoint } from './resource-metadata.js';
import { tokenDigest } from './token/cache-key.js';
import { TokenMemo } from './token/token-memo.js';
import { checkTimes } from './token/token-time.js';
import type { ValidatedToken } from './token/validated-token.js';
import type { AuthenticateContext, NodeRequest, Verifier, VerifyInput } from './verifier-api.js';

export type { AuthenticateContext, NodeRequest, Verifier, VerifyInput } from './verifier-api.js';

/** Brand shared by every copy of this module (see `isVerifier`). */
export const VERIFIER = Symbol.for('certbound.verifier');

/** The adapters' entry point: `authenticate` without a promise when none is needed (`adapter.ts`). */
export const AUTHENTICATE_NOW = Symbol.for('certbound.authenticateNow');

/** An `AuthInfo` now, or the promise of one. */
export type Decision<Claims extends TokenClaims = TokenClaims> =
  | VerifiedAuth<Claims>
  | Promise<VerifiedAuth<Claims>>;

/**
 * Scheme and token, with what the verifier derives from the token alone, kept with them so that a
 * connection presenting the same value again does not derive it again.
 */
interface PresentedToken extends Credentials {
  /** The token's SHA-256 digest: its key in the token memo and the introspection cache. */
  digest?: string;
  /** Under `tokenFormat: 'auto'`: whether the token looks like a JWT. */
  jwtShaped?: boolean;
}

/** What a request presents: scheme and token, the client certificate, and the DPoP proof. */
interface Presented {
  credentials: PresentedToken;
  certificate: PresentedCertificate | undefined;
  /** Under the DPoP scheme only. */
  proof: ProofInput | undefined;
}

function lines(value: string | readonly string[] | null | undefined): readonly string[] {
  return value == null ? [] : typeof value === 'string' ? [value] : value;
}

class CertboundVerifier<Claims extends TokenClaims> implements Verifier<Claims> {
  readonly [VERIFIER] = true;
  readonly #options: NormalizedOptions;
  readonly #challenge: ChallengeParams;
  readonly #issuers: TokenIssuers;
  readonly #memo: TokenMemo;
  readonly #introspection: IntrospectionCache | undefined;
  readonly #certificate: CertificateSource;
  readonly #dpop: DpopCheck | undefined;
  /** Per connection: the `Authorization` value it sent last, parsed (see `#requestCredentials`). */
  readonly #lastCredentials = new WeakMap<object, { line: string; credentials: PresentedToken }>();
  readonly protectedResource: ProtectedResourceEndpoint | undefined;

  constructor(options: CertboundOptions) {
    const o = normalizeOptions(options);
    this.#options = o;
    const trustedProxy = o.certificate.from === 'header' ? o.certificate.isTrustedProxy : undefined;
    this.#dpop = o.dpop && new DpopCheck(o.dpop, o.clockToleranceSeconds, trustedProxy);
    this.#challenge = {
      realm: o.realm,
      resourceMetadata: o.resourceMetadata,
      bearer: !this.#dpop?.required,
      dpopAlgorithms: this.#dpop?.algorithms,
    };
    // A forged signature stays forged: remembered, so a replay costs no signature check.
    this.#memo = new TokenMemo(o.tokenCache, (error) => (error as Error).cause === SIGNATURE_MISMATCH);
    this.#issuers = new TokenIssuers({ ...o, introspectionEndpoint: o.introspection?.endpoint }, (ids) =>
      this.#memo.forgetKeys(ids),
    );
    if (o.introspection !== undefined) {
      const client = new IntrospectionClient(o.introspection, this.#issuers.first);
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
    try {
      return Promise.resolve(this[AUTHENTICATE_NOW](req, context));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * `authenticate` without a promise when nothing needs waiting for (see `authenticateNow` in
   * `adapter.ts`): a token already validated, no DPoP proof. A refusal may be thrown.
   */
  [AUTHENTICATE_NOW](req: NodeRequest, context?: AuthenticateContext): Decision<Claims> {
    const start = startTimer(decisionChannel);
    let presented: Presented | undefined;
    try {
      const credentials = this.#requestCredentials(req);
      const body = context?.body ?? (req as { body?: unknown }).body;
      if (hasOtherTokenMethod(req as { url?: string }, body)) {
        throw new InvalidRequestError(INVALID_REQUEST_DESCRIPTIONS.multipleMethods);
      }
      const proof =
        credentials.scheme === 'DPoP' ? this.#dpop!.fromRequest(req, fieldLines(req, 'dpop')) : undefined;
      presented = { credentials, certificate: this.#certificate(req), proof };
    } catch (error) {
      throw this.#refused(error, start, this.#options.certificate.from, presented);
    }
    return this.#decide(start, this.#options.certificate.from, presented);
  }

  checkBody(req: NodeRequest, body: unknown): void {
    if (body != null && hasOtherTokenMethod({ headers: req.headers }, body)) {
      throw this.#withChallenge(new InvalidRequestError(INVALID_REQUEST_DESCRIPTIONS.multipleMethods));
    }
  }

  verify(input: VerifyInput): Promise<AuthInfo<Claims>> {
    const start = startTimer(decisionChannel);
    let presented: Presented | undefined;
    try {
      const credentials: PresentedToken = this.#credentials(lines(input.authorization));
      const bytes = input.certificate == null ? undefined : certificateBytes(input.certificate);
      const proof =
        credentials.scheme === 'DPoP'
          ? this.#dpop!.fromInput(lines(input.dpop), input.method, input.url)
          : undefined;
      presented = {
        credentials,
        certificate: bytes && presentedCertificate(bytes.der, bytes.thumbprint),
        proof,
      };
    } catch (error) {
      return Promise.reject(this.#refused(error, start, 'input', presented));
    }
    try {
      return Promise.resolve(this.#decide(start, 'input', presented));
    } catch (refused) {
      // Already published and given its challenge by #decide.
      return Promise.reject(refused);
    }
  }

  refreshKeys(): Promise<void> {
    return this.#issuers.refreshKeys();
  }

  async close(): Promise<void> {
    this.#memo.clear();
    this.#introspection?.clear();
    this.#dpop?.clear();
    await this.#issuers.close();
  }

  /** The scheme and token of the `Authorization` lines; none is 401 `credentials_missing`. */
  #credentials(authorization: readonly string[]): Credentials {
    const credentials = authorizationCredentials(authorization, this.#dpop !== undefined);
    if (credentials === undefined) throw new InvalidTokenError('credentials_missing');
    return credentials;
  }

  /**
   * The request's credentials. A connection usually sends the same `Authorization` value on every
   * request: when it is exactly the value that connection sent last, its parse (and the token's
   * digest) is reused rather than redone (docs/architecture.md, "Performance").
   */
  #requestCredentials(req: NodeRequest): PresentedToken {
    const authorization = authorizationLines(req);
    const connection = authorization.length === 1 ? req.socket : undefined;
    if (connection == null) return this.#credentials(authorization);
    const line = authorization[0]!;
    const last = this.#lastCredentials.get(connection);
    if (last !== undefined && last.line === line) return last.credentials;
    const credentials: PresentedToken = this.#credentials(authorization);
    this.#lastCredentials.set(connection, { line, credentials });
    return credentials;
  }

  /**
   * The pipeline on what the request presents. Every outcome is published on `certbound:decision`;
   * every error carries this verifier's challenge for the request's scheme. Synchronous when the
   * token's validation is remembered and no DPoP proof is to be checked.
   */
  #decide(start: number, source: DecisionEvent['certificateSource'], presented: Presented): Decision<Claims> {
    let auth: Decision<Claims>;
    try {
      auth = this.#authorize(presented);
    } catch (error) {
      throw this.#refused(error, start, source, presented);
    }
    if (auth instanceof VerifiedAuth) {
      if (start !== 0) publishDecision(start, source, presented.certificate !== undefined, auth);
      return auth;
    }
    return auth.then(
      (value) => {
        if (start !== 0) publishDecision(start, source, presented.certificate !== undefined, value);
        return value;
      },
      (error: unknown) => {
        throw this.#refused(error, start, source, presented);
      },
    );
  }

  /** The error to throw for a refusal: with this verifier's challenge, published, warned about. */
  #refused(
    error: unknown,
    start: number,
    source: DecisionEvent['certificateSource'],
    presented: Presented | undefined,
  ): unknown {
    const refused =
      error instanceof CertboundError
        ? error.withChallenge(this.#challenge, presented?.credentials.scheme)
        : error;
    warnUnavailable(refused);
    if (start !== 0) publishDecision(start, source, presented?.certificate !== undefined, refused);
    return refused;
  }

  #authorize(presented: Presented): Decision<Claims> {
    if (presented.proof !== undefined) return this.#authorizeWithProof(presented, presented.proof);
    const validated = this.#validate(presented.credentials);
    if (validated instanceof Promise) {
      return validated.then((value) => {
        this.#checkTimes(value);
        return this.#conclude(presented, value, undefined);
      });
    }
    this.#checkTimes(validated);
    return this.#conclude(presented, validated, undefined);
  }

  async #authorizeWithProof(presented: Presented, proof: ProofInput): Promise<VerifiedAuth<Claims>> {
    const dpop = this.#dpop!;
    dpop.precheck(proof);
    const validated = await this.#validate(presented.credentials);
    this.#checkTimes(validated);
    const verified = await dpop.verify(proof, presented.credentials.token);
    const auth = this.#conclude(presented, validated, verified.jkt);
    // Last: a proof is spent only by a request that passed every other check.
    await dpop.remember(verified);
    return auth;
  }

  /** `exp`, `nbf` and `iat`, checked on every request (a remembered validation may have expired since). */
  #checkTimes(validated: ValidatedToken): void {
    checkTimes(validated.times, Date.now() / 1000, this.#options.clockToleranceSeconds);
  }

  /** The binding decision, made on every request; then the request's `AuthInfo`. */
  #conclude(presented: Presented, validated: ValidatedToken, jkt: string | undefined): VerifiedAuth<Claims> {
    const { credentials, certificate } = presented;
    const dpop = this.#dpop;
    const bound = decideBinding({
      confirmation: validated.confirmation,
      dpopTokenType: validated.dpopTokenType,
      scheme: credentials.scheme,
      certificate,
      proofJkt: jkt,
      mode: this.#options.binding,
      dpop,
    });
    const exp = validated.times.exp;
    return new VerifiedAuth<Claims>(
      {
        token: credentials.token,
        format: validated.format,
        issuer: validated.issuer,
        claims: validated.claims as Claims,
        subject: validated.subject,
        clientId: validated.clientId,
        // A copy per request: handlers may sort or extend it; the cached one stays frozen.
        scopes: [...validated.scopes],
        expiresAt: exp === undefined ? undefined : new Date(exp * 1000),
        thumbprint: certificate?.thumbprint,
        bound,
        scheme: credentials.scheme,
        jkt,
        responseHeaders: dpop === undefined ? SUCCESS_RESPONSE_HEADERS : dpop.responseHeaders(),
      },
      this.#challenge,
      this.#options.clockToleranceSeconds,
    );
  }

  /**
   * JWT-shaped tokens are validated locally (`auto`, `jwt`); others are introspected (`auto`,
   * `opaque`). The validation itself, without a promise, when it is remembered.
   */
  #validate(credentials: PresentedToken): ValidatedToken | Promise<ValidatedToken> {
    const token = credentials.token;
    const format = this.#options.tokenFormat;
    const introspection = this.#introspection;
    credentials.digest ??= tokenDigest(token);
    if (introspection !== undefined && format !== 'jwt') {
      credentials.jwtShaped ??= format === 'auto' && isJwtShaped(token);
    }
    if (introspection === undefined || format === 'jwt' || credentials.jwtShaped) {
      return this.#memo.get(token, () => this.#issuers.validate(token), credentials.digest);
    }
    return introspection.get(token, credentials.digest);
  }

  #withChallenge(error: unknown): unknown {
    return error instanceof CertboundError ? error.withChallenge(this.#challenge, undefined) : error;
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
