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
import { TokenMemo } from './token/token-memo.js';
import { checkTimes } from './token/token-time.js';
import type { ValidatedToken } from './token/validated-token.js';
import type { AuthenticateContext, NodeRequest, Verifier, VerifyInput } from './verifier-api.js';

export type { AuthenticateContext, NodeRequest, Verifier, VerifyInput } from './verifier-api.js';

/** Brand shared by every copy of this module (see `isVerifier`). */
export const VERIFIER = Symbol.for('certbound.verifier');

/** What a request presents: scheme and token, the client certificate, and the DPoP proof. */
interface Presented extends Credentials {
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
    return this.#decide(this.#options.certificate.from, () => {
      const credentials = this.#credentials(authorizationLines(req));
      const body = context?.body ?? (req as { body?: unknown }).body;
      if (hasOtherTokenMethod(req as { url?: string }, body)) {
        throw new InvalidRequestError(INVALID_REQUEST_DESCRIPTIONS.multipleMethods);
      }
      const proof =
        credentials.scheme === 'DPoP' ? this.#dpop!.fromRequest(req, fieldLines(req, 'dpop')) : undefined;
      return { ...credentials, certificate: this.#certificate(req), proof };
    });
  }

  checkBody(req: NodeRequest, body: unknown): void {
    if (body != null && hasOtherTokenMethod({ headers: req.headers }, body)) {
      throw this.#withChallenge(new InvalidRequestError(INVALID_REQUEST_DESCRIPTIONS.multipleMethods));
    }
  }

  verify(input: VerifyInput): Promise<AuthInfo<Claims>> {
    return this.#decide('input', () => {
      const credentials = this.#credentials(lines(input.authorization));
      const bytes = input.certificate == null ? undefined : certificateBytes(input.certificate);
      const proof =
        credentials.scheme === 'DPoP'
          ? this.#dpop!.fromInput(lines(input.dpop), input.method, input.url)
          : undefined;
      return {
        ...credentials,
        certificate: bytes && presentedCertificate(bytes.der, bytes.thumbprint),
        proof,
      };
    });
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
   * Runs the pipeline on what the request presents. Every outcome is published on
   * `certbound:decision`; every error carries this verifier's challenge for the request's scheme.
   */
  async #decide(
    source: DecisionEvent['certificateSource'],
    present: () => Presented,
  ): Promise<AuthInfo<Claims>> {
    const start = startTimer(decisionChannel);
    let presented: Presented | undefined;
    try {
      presented = present();
      const auth = await this.#authorize(presented);
      if (start !== 0) publishDecision(start, source, presented.certificate !== undefined, auth);
      return auth;
    } catch (error) {
      const refused =
        error instanceof CertboundError ? error.withChallenge(this.#challenge, presented?.scheme) : error;
      warnUnavailable(refused);
      if (start !== 0) publishDecision(start, source, presented?.certificate !== undefined, refused);
      throw refused;
    }
  }

  async #authorize({ scheme, token, certificate, proof }: Presented): Promise<AuthInfo<Claims>> {
    const dpop = this.#dpop;
    if (proof !== undefined) dpop!.precheck(proof);
    const validated = await this.#validate(token);
    checkTimes(validated.times, Date.now() / 1000, this.#options.clockToleranceSeconds);
    const verified = proof === undefined ? undefined : await dpop!.verify(proof, token);
    const bound = decideBinding({
      confirmation: validated.confirmation,
      dpopTokenType: validated.dpopTokenType,
      scheme,
      certificate,
      proofJkt: verified?.jkt,
      mode: this.#options.binding,
      dpop,
    });
    // Last: a proof is spent only by a request that passed every other check.
    if (verified !== undefined) await dpop!.remember(verified);
    const exp = validated.times.exp;
    return new VerifiedAuth<Claims>(
      {
        token,
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
        scheme,
        jkt: verified?.jkt,
        responseHeaders: dpop === undefined ? SUCCESS_RESPONSE_HEADERS : dpop.responseHeaders(),
      },
      this.#challenge,
      this.#options.clockToleranceSeconds,
    );
  }

  /** JWT-shaped tokens are validated locally (`auto`, `jwt`); others are introspected (`auto`, `opaque`). */
  #validate(token: string): Promise<ValidatedToken> {
    const format = this.#options.tokenFormat;
    const introspection = this.#introspection;
    if (format === 'jwt' || introspection === undefined || (format === 'auto' && isJwtShaped(token))) {
      return this.#memo.get(token, () => this.#issuers.validate(token));
    }
    return introspection.get(token);
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
