/**
 * The error model: every failure is a {@link CertboundError} carrying the HTTP status, the RFC 6750
 * §3.1 `error`, a stable machine-readable `code`, a short constant description (never echoing
 * input) and the response headers (`WWW-Authenticate` per RFC 6750 §3, `Retry-After` on 503).
 */
import { type AuthScheme, authenticateHeader, type ChallengeParams } from './challenge.js';
import {
  type BearerError,
  type CertboundErrorCode,
  DESCRIPTIONS,
  INVALID_REQUEST_DESCRIPTIONS,
  TOKEN_ERRORS,
  type TokenErrorCode,
  type UnavailableReason,
} from './error-codes.js';

export {
  type BearerError,
  BINDING_ERROR_CODES,
  type BindingErrorCode,
  type CertboundErrorCode,
  INVALID_REQUEST_DESCRIPTIONS,
  type TokenErrorCode,
  type UnavailableReason,
} from './error-codes.js';

const ERROR_BRAND = Symbol.for('certbound.error');

/** Seconds a client should wait before retrying after a 503. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** The response body of a certbound error (see {@link CertboundError.toJSON}). */
export interface CertboundErrorBody {
  error: BearerError | undefined;
  error_description: string;
  code: CertboundErrorCode;
}

export interface CertboundErrorOptions {
  /** Overrides the constant description of the code (it must itself be a constant). */
  description?: string;
  /** Scopes for the `scope` parameter of a 403 challenge. */
  scopes?: readonly string[];
  /** The underlying error, for logs. Never shown to clients. */
  cause?: unknown;
  /** `Retry-After` of a 503, seconds. */
  retryAfterSeconds?: number;
  /** A fresh nonce for the client's next proof (`DPoP-Nonce`, RFC 9449 §9). */
  dpopNonce?: string;
  /** 503: why (for operators). */
  reason?: UnavailableReason;
  /** 503: the origin of the URL that failed (`https://as.example.com`). */
  origin?: string;
  /** More challenge parameters, after `scope` (constants of ours: RFC 9470's `acr_values`, `max_age`). */
  challengeParams?: ReadonlyArray<readonly [string, string]>;
}

/**
 * Base class of every error certbound produces. Express, Koa and Fastify error handlers already
 * honour `status`/`statusCode`, `headers` and `expose`.
 */
export class CertboundError extends Error {
  override name = 'CertboundError';
  /** Brand shared by every copy of this module (see {@link isCertboundError}). */
  readonly [ERROR_BRAND] = true;
  /** HTTP status code. */
  readonly status: number;
  /** Same as `status`, for frameworks that read `statusCode`. */
  readonly statusCode: number;
  /** The RFC 6750 §3.1 error code; `undefined` when no credentials were sent or on 503. */
  readonly error: BearerError | undefined;
  /** Stable machine-readable reason. */
  readonly code: CertboundErrorCode;
  /** A short constant description, safe to show to clients. */
  readonly description: string;
  /** Scopes required, for `insufficient_scope`. */
  readonly scopes: readonly string[] | undefined;
  /** Seconds clients should wait, on 503. */
  readonly retryAfterSeconds: number | undefined;
  /** The description is safe to send to clients. */
  readonly expose = true;
  /** The scheme the request used (`undefined` when it sent no credentials). */
  scheme: AuthScheme | undefined;
  /** `DPoP-Nonce` to send (with `use_dpop_nonce`, RFC 9449 §9). */
  readonly dpopNonce: string | undefined;
  /** More challenge parameters (RFC 9470 `acr_values`, `max_age`). */
  readonly challengeParams: ReadonlyArray<readonly [string, string]> | undefined;
  /** Response headers: `WWW-Authenticate`, and `Retry-After` on 503. */
  headers: Record<string, string>;

  constructor(
    status: number,
    error: BearerError | undefined,
    code: CertboundErrorCode,
    options: CertboundErrorOptions = {},
  ) {
    const description = options.description ?? DESCRIPTIONS[code];
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.statusCode = status;
    this.error = error;
    this.code = code;
    this.description = description;
    this.scopes = options.scopes;
    this.retryAfterSeconds =
      status === 503 ? (options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS) : undefined;
    this.dpopNonce = options.dpopNonce;
    this.challengeParams = options.challengeParams;
    this.headers = this.challengeHeaders({});
    // A refusal is the client's doing, not a fault in the server: no stack trace (whose frames and
    // file paths a framework's default error page would show). Fixed text only, like `message`.
    Object.defineProperty(this, 'stack', {
      get: () => `${this.name} [${this.code}]: ${this.description}`,
      configurable: true,
      enumerable: false,
    });
  }

  /**
   * The response headers for this error under the given challenge parameters (`realm`,
   * `resource_metadata`): `WWW-Authenticate` (RFC 6750 §3), or only `Retry-After` on 503 — an
   * unavailable authorization server is not the token's fault.
   */
  challengeHeaders(params: ChallengeParams): Record<string, string> {
    if (this.retryAfterSeconds !== undefined) return { 'retry-after': String(this.retryAfterSeconds) };
    const challenge =
      this.error === undefined && this.scopes === undefined
        ? undefined
        : {
            scheme: this.#challengeScheme(params),
            error: this.error,
            description: this.error ? this.description : undefined,
            scopes: this.scopes,
            params: this.challengeParams,
          };
    const headers: Record<string, string> = { 'www-authenticate': authenticateHeader(params, challenge) };
    if (this.dpopNonce !== undefined) headers['dpop-nonce'] = this.dpopNonce;
    return headers;
  }

  /**
   * The scheme the client must use, whose challenge carries the error: `DPoP` for a request under
   * the DPoP scheme, for a DPoP-bound token sent as Bearer, and whenever Bearer is not accepted.
   */
  #challengeScheme(params: ChallengeParams): AuthScheme {
    if (params.dpopAlgorithms === undefined) return 'Bearer';
    if (params.bearer === false || this.scheme === 'DPoP' || this.code === 'dpop_scheme_required')
      return 'DPoP';
    return 'Bearer';
  }

  /**
   * The JSON body every adapter sends: `{ error, error_description, code }` (`error` is absent
   * when no credentials were sent and on 503, as in the challenge). Safe to show to clients.
   */
  toJSON(): CertboundErrorBody {
    return { error: this.error, error_description: this.description, code: this.code };
  }

  /** Sets `headers` for the given challenge parameters and returns this error. */
  withChallenge(params: ChallengeParams, scheme: AuthScheme | undefined = this.scheme): this {
    this.scheme = scheme;
    this.headers = this.challengeHeaders(params);
    return this;
  }
}

/** 400 `invalid_request`: a malformed `Authorization` header, duplicates, or several token methods. */
export class InvalidRequestError extends CertboundError {
  override name = 'InvalidRequestError';
  constructor(
    description: string = INVALID_REQUEST_DESCRIPTIONS.malformed,
    options: CertboundErrorOptions = {},
  ) {
    super(400, 'invalid_request', 'invalid_request', { ...options, description });
  }
}

/** 401: no credentials (`credentials_missing`, no `error`), or `invalid_token` with a reason. */
export class InvalidTokenError extends CertboundError {
  override name = 'InvalidTokenError';
  constructor(code: TokenErrorCode, options: CertboundErrorOptions = {}) {
    super(401, Object.hasOwn(TOKEN_ERRORS, code) ? TOKEN_ERRORS[code] : 'invalid_token', code, options);
  }
}

/** 403 `insufficient_scope`, with the required scopes in the challenge's `scope` parameter. */
export class InsufficientScopeError extends CertboundError {
  override name = 'InsufficientScopeError';
  constructor(scopes: readonly string[], options: Omit<CertboundErrorOptions, 'scopes'> = {}) {
    super(403, 'insufficient_scope', 'insufficient_scope', { ...options, scopes });
  }
}

/**
 * 503: the authorization server (discovery, JWKS or introspection) could not give an answer.
 * Never a grant, and never a 401 that would make clients throw away good tokens.
 */
export class ServiceUnavailableError extends CertboundError {
  override name = 'ServiceUnavailableError';
  /** Why, in a fixed vocabulary (never sent to clients). */
  readonly reason: UnavailableReason;
  /** The origin of the URL that failed, when there was one (never sent to clients). */
  readonly origin: string | undefined;
  constructor(options: Omit<CertboundErrorOptions, 'scopes'> = {}) {
    super(503, undefined, 'authorization_server_unavailable', options);
    this.reason = options.reason ?? 'network';
    this.origin = options.origin;
  }
}

/**
 * 401 `insufficient_user_authentication` (RFC 9470 §3): the token's user authentication is not
 * the one the route needs (`acr`) or not recent enough (`auth_time`); the challenge says what is
 * (`acr_values`, `max_age`), so the client can have the user authenticate again.
 */
export class InsufficientUserAuthenticationError extends CertboundError {
  override name = 'InsufficientUserAuthenticationError';
  constructor(requirement: { acr?: readonly string[]; maxAgeSeconds?: number }) {
    const params: Array<readonly [string, string]> = [];
    if (requirement.acr !== undefined) params.push(['acr_values', requirement.acr.join(' ')]);
    if (requirement.maxAgeSeconds !== undefined) params.push(['max_age', String(requirement.maxAgeSeconds)]);
    super(401, 'insufficient_user_authentication', 'insufficient_user_authentication', {
      challengeParams: params,
    });
  }
}

/**
 * A mistake in how certbound is wired into the app, found while serving a request (for example
 * `requireScopes()` running where `certbound()` did not authenticate the request): 500, with a
 * message for the developer that frameworks do not show to clients (`expose: false`).
 */
export class CertboundConfigurationError extends Error {
  override name = 'CertboundConfigurationError';
  readonly status = 500;
  readonly statusCode = 500;
  readonly expose = false;
  readonly code = 'configuration_error';
}

/**
 * Whether `value` is a {@link CertboundError}, also when it comes from another copy of this module
 * (an app that loads both the ESM and the CommonJS build).
 */
export function isCertboundError(value: unknown): value is CertboundError {
  return (
    value instanceof CertboundError ||
    (typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ERROR_BRAND] === true)
  );
}
