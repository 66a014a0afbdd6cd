/**
 * The conformance table: one request and one expected outcome per case, run unchanged against
 * every target. Expected descriptions are literal: they are part of what clients see.
 *
 * DPoP cases (RFC 9449) build their proofs in the request step, for the target they are sent to:
 * a proof names the URL as the client sends it (`https://127.0.0.1:<port>/resource`).
 */
import {
  createDpopProof,
  type DpopKey,
  type HttpsResponse,
  type MintOptions,
  type TestCertificate,
  type TestIssuer,
} from '@certbound/testing';

/**
 * - `main`: `binding: 'required'` (default) and DPoP on (the default);
 * - `noDpop`: `dpop: false`, the Bearer challenge alone;
 * - `dpopRequired`: `dpop: { required: true }` and the RFC 9728 document, the DPoP challenge alone;
 * - `dpopNonce`: `dpop: { nonce }`, resource-server nonces;
 * - `multiIssuer`: `issuers` with the main issuer (the top-level audience) and a second one (its
 *   own audience), no introspection, and the RFC 9728 document.
 */
export type ConfigName =
  | 'main'
  | 'ifPresent'
  | 'headerTrusted'
  | 'headerUntrusted'
  | 'down'
  | 'metadata'
  | 'noDpop'
  | 'dpopRequired'
  | 'dpopNonce'
  | 'multiIssuer';

export interface Fixtures {
  issuer: TestIssuer;
  /** The second authorization server of `multiIssuer`; its tokens carry its own audience. */
  secondIssuer: TestIssuer;
  downIssuer: TestIssuer;
  /** The certificate tokens are bound to. */
  clientA: TestCertificate;
  /** Look-alike of A: same subject, other key, same CA. */
  clientB: TestCertificate;
  /** The `protectedResource.resource` of the `metadata` configuration, and its document's URL. */
  resource: string;
  metadataUrl: string;
  /** A mints a token bound to A with scope `read` unless overridden. */
  mint(options?: MintOptions): Promise<string>;
  /** The client's DPoP key (ES256), and its RFC 7638 thumbprint (`cnf.jkt`). */
  dpopKey: DpopKey;
  dpopJkt: string;
  /** Another DPoP key (an attacker holding a stolen token). */
  otherDpopKey: DpopKey;
  /** A token bound to the DPoP key alone, with scope `read` unless overridden. */
  mintDpop(options?: MintOptions): Promise<string>;
}

/** The target a case runs against, for requests that depend on it. */
export interface TargetContext {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  /** Sends a request to the target (a first exchange, e.g. to learn a nonce). */
  send(spec: RequestSpec): Promise<HttpsResponse>;
}

export interface RequestSpec {
  method?: 'GET' | 'POST' | 'HEAD';
  path?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Sent as `Authorization: DPoP <token>` with one `DPoP` field line per proof (none when empty). */
  dpop?: { token: string; proofs: readonly string[] };
  /** Sent twice: the first answer must be 200, the expected outcome is the second's. */
  replay?: boolean;
  /** What the request step learned from the target (a nonce), for `expected`. */
  learned?: { nonce?: string };
  headers?: Record<string, string>;
  rawHeaders?: string[];
  body?: string;
  /** TLS client certificate; none when absent. */
  certificate?: TestCertificate;
}

export type Expected =
  | {
      /** 201 where the route says so (`POST /payments`). */
      status: 200 | 201;
      /** The JSON body; `null` for an empty one (HEAD). */
      body: Record<string, unknown> | null;
      /** Headers to expect instead of `Cache-Control: no-store` (a `DPoP-Nonce` is absent unless listed). */
      headers?: Record<string, string>;
    }
  | {
      status: 400 | 401 | 403 | 503;
      code: string;
      /** RFC 6750 / RFC 9449 `error`; absent without credentials and on 503. */
      error?:
        | 'invalid_request'
        | 'invalid_token'
        | 'insufficient_scope'
        | 'invalid_dpop_proof'
        | 'use_dpop_nonce'
        | 'insufficient_user_authentication';
      /** The scheme whose challenge carries the error: default `Bearer` (`DPoP` when only DPoP is accepted). */
      scheme?: 'Bearer' | 'DPoP';
      scope?: string;
      /** RFC 9470 §3 `acr_values` and `max_age` of the challenge (`insufficient_user_authentication`). */
      acrValues?: string;
      maxAge?: number;
      /** RFC 9728 §5.1 `resource_metadata` of the challenge. */
      resourceMetadata?: string;
      /** A fresh `DPoP-Nonce` comes with the refusal (RFC 9449 §9); absent otherwise. */
      dpopNonce?: true;
      /** The `error_description` when it is not the code's own (`token_unbound` names the binding asked for). */
      description?: string;
    };

export type Success = Extract<Expected, { status: 200 | 201 }>;
export type Refusal = Exclude<Expected, Success>;

export interface ConformanceCase {
  name: string;
  config: ConfigName;
  request(f: Fixtures, target: TargetContext): Promise<RequestSpec> | RequestSpec;
  /**
   * The request reaches no authorization server: the discovery, JWKS and introspection counters
   * of every test issuer are the same after it as before.
   */
  offline?: true;
  /** `spec` is what `request` returned (for values only known then, such as a nonce). */
  expected(f: Fixtures, spec: RequestSpec): Expected;
}

export const REALM = 'conformance';

/** Descriptions as clients see them, by `code` (invalid_request has several). */
export const DESCRIPTIONS = {
  credentials_missing: 'Authentication required',
  malformed: 'The Authorization header is malformed',
  duplicate: 'The Authorization header must appear once',
  multipleMethods: 'Multiple methods used to include access token',
  token_malformed: 'The access token is malformed',
  token_signature_invalid: 'The access token signature is invalid',
  token_type_invalid: 'The access token type is not accepted',
  token_expired: 'The access token expired',
  token_not_yet_valid: 'The access token is not yet valid',
  token_issuer_mismatch: 'The access token was issued by another issuer',
  token_audience_mismatch: 'The access token is not intended for this resource',
  token_claims_missing: 'The access token lacks required claims',
  token_inactive: 'The access token is not active',
  token_unbound: 'A certificate-bound access token is required',
  certificate_missing: 'The access token is certificate-bound but no client certificate was presented',
  cnf_mismatch: 'The access token is bound to another certificate',
  cnf_malformed: 'The access token confirmation claim is malformed',
  cnf_unsupported: 'The access token confirmation method is not supported',
  insufficient_scope: 'The access token lacks the required scope',
  authorization_server_unavailable: 'The authorization server is unavailable',
  dpop_proof_missing: 'A DPoP proof is required',
  dpop_proof_invalid: 'The DPoP proof is invalid',
  dpop_proof_replayed: 'The DPoP proof was already used',
  dpop_nonce_required: 'The DPoP proof must carry the nonce the resource server provided',
  dpop_key_mismatch: 'The access token is not bound to the DPoP proof key',
  dpop_scheme_required: 'The access token is DPoP-bound and must be sent with the DPoP scheme',
  insufficient_user_authentication: 'A different or more recent user authentication is required',
} as const;

const now = () => Math.floor(Date.now() / 1000);
const rfc9440 = (certificate: TestCertificate) => `:${certificate.der.toString('base64')}:`;

function flipSignature(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const signature = Buffer.from(s, 'base64url');
  signature[8] = signature[8]! ^ 0x01;
  return `${h}.${p}.${signature.toString('base64url')}`;
}

const accepted =
  (certificate: 'A' | 'none', overrides: Record<string, unknown> = {}) =>
  (f: Fixtures): Success => ({
    status: 200,
    body: {
      issuer: f.issuer.issuer,
      subject: 'client-a',
      clientId: 'client-a',
      scopes: ['read'],
      bound: true,
      thumbprint: certificate === 'A' ? f.clientA.thumbprint : null,
      format: 'jwt',
      scheme: 'Bearer',
      jkt: null,
      ...overrides,
    },
  });

/** Accepted under the DPoP scheme, with a proof of the client's DPoP key. */
const acceptedDpop =
  (certificate: 'A' | 'none', overrides: Record<string, unknown> = {}) =>
  (f: Fixtures): Success =>
    accepted(certificate, { scheme: 'DPoP', jkt: f.dpopJkt, ...overrides })(f);

const invalidToken =
  (
    code: Exclude<
      keyof typeof DESCRIPTIONS,
      'malformed' | 'duplicate' | 'multipleMethods' | 'insufficient_user_authentication'
    >,
  ) =>
  (): Refusal => ({
    status: 401,
    error: 'invalid_token',
    code,
  });

/** `token_unbound` where certificate-bound and DPoP-bound tokens are both accepted. */
const unboundUnderEitherBinding = (): Refusal => ({
  ...invalidToken('token_unbound')(),
  description: 'A certificate-bound or DPoP-bound access token is required',
});

const invalidRequest = (): Expected => ({ status: 400, error: 'invalid_request', code: 'invalid_request' });

/** The codes of 401 `invalid_token`. */
type TokenCode = Exclude<
  keyof typeof DESCRIPTIONS,
  | 'malformed'
  | 'duplicate'
  | 'multipleMethods'
  | `dpop_proof_${string}`
  | 'dpop_nonce_required'
  | 'insufficient_user_authentication'
>;

/** 401 with the error on the DPoP challenge: `invalid_dpop_proof` for the proof's codes, else `invalid_token`. */
const refusedDpop =
  (code: 'dpop_proof_missing' | 'dpop_proof_invalid' | 'dpop_proof_replayed' | TokenCode) => (): Refusal => ({
    status: 401,
    error: code.startsWith('dpop_proof_') ? 'invalid_dpop_proof' : 'invalid_token',
    code,
    scheme: 'DPoP',
  });

interface DpopRequestOptions {
  token: string;
  /** The key that signs the proofs. Default the client's. */
  key?: DpopKey;
  method?: 'GET' | 'POST';
  path?: string;
  /** `htm` of the proofs. Default the request's method. */
  htm?: string;
  /** `htu` of the proofs. Default the target's URL of `path`. */
  htu?: string;
  nonce?: string;
  /** How many `DPoP` field lines. Default 1. */
  proofs?: number;
  certificate?: TestCertificate;
}

/** A request under the DPoP scheme to `target`, with proofs made for it. */
async function dpopRequest(f: Fixtures, target: TargetContext, o: DpopRequestOptions): Promise<RequestSpec> {
  const method = o.method ?? 'GET';
  const path = o.path ?? '/resource';
  const proof = () =>
    createDpopProof({
      key: o.key ?? f.dpopKey,
      method: o.htm ?? method,
      url: o.htu ?? `${target.url}${path}`,
      accessToken: o.token,
      nonce: o.nonce,
    });
  const proofs = await Promise.all(Array.from({ length: o.proofs ?? 1 }, proof));
  return {
    method,
    path,
    certificate: o.certificate,
    dpop: { token: o.token, proofs },
  };
}

/** The nonce a target hands out: the `DPoP-Nonce` of its refusal of a proof without one. */
async function nonceOf(f: Fixtures, target: TargetContext, token: string): Promise<string> {
  const refused = await target.send(await dpopRequest(f, target, { token }));
  const nonce = refused.headers['dpop-nonce'];
  if (refused.status !== 401 || typeof nonce !== 'string') {
    throw new Error(`expected a 401 with a DPoP-Nonce, got ${refused.status}`);
  }
  return nonce;
}

/** The nonce the request step learned. */
function learnedNonce(spec: RequestSpec): string {
  if (spec.learned?.nonce === undefined) throw new Error('the request step learned no nonce');
  return spec.learned.nonce;
}

/** The RFC 9728 document of the `metadata`, `dpopRequired` and `multiIssuer` configurations. */
const metadataDocument =
  (dpopRequired: boolean, issuers: 'main' | 'both' = 'main') =>
  (f: Fixtures): Expected => ({
    status: 200,
    body: {
      resource: f.resource,
      authorization_servers:
        issuers === 'main' ? [f.issuer.issuer] : [f.issuer.issuer, f.secondIssuer.issuer],
      bearer_methods_supported: ['header'],
      tls_client_certificate_bound_access_tokens: true,
      dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'],
      dpop_bound_access_tokens_required: dpopRequired,
      scopes_supported: ['read', 'write'],
      resource_name: 'Conformance API',
    },
    headers: { 'cache-control': 'public, max-age=3600', 'content-type': 'application/json' },
  });

/**
 * 401 `insufficient_user_authentication` (RFC 9470 §3) on the challenge of the scheme the client
 * used, naming what `POST /payments` requires (`STEP_UP` of targets.ts): acr `mfa`, 300 seconds.
 */
const stepUpRequired =
  (scheme: 'Bearer' | 'DPoP' = 'Bearer') =>
  (): Refusal => ({
    status: 401,
    error: 'insufficient_user_authentication',
    code: 'insufficient_user_authentication',
    acrValues: 'mfa',
    maxAge: 300,
    scheme,
  });

/** The route's 201 with the body of an accepted request. */
const created =
  (accept: (f: Fixtures) => Success) =>
  (f: Fixtures): Success => ({ ...accept(f), status: 201 });

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** `POST /payments` with a form body, as Bearer, over a connection with `certificate` (none when absent). */
const payment = (token: string, certificate?: TestCertificate): RequestSpec => ({
  method: 'POST',
  path: '/payments',
  certificate,
  token,
  headers: FORM,
  body: 'amount=10',
});

/** `POST /payments` under the DPoP scheme, with a proof for it. */
const dpopPayment = async (f: Fixtures, target: TargetContext, token: string): Promise<RequestSpec> => ({
  ...(await dpopRequest(f, target, { token, method: 'POST', path: '/payments' })),
  headers: FORM,
  body: 'amount=10',
});

/** A user authentication one minute ago, and one an hour ago (beyond the route's 300 seconds). */
const recent = () => now() - 60;
const anHourAgo = () => now() - 3600;

/** A refusal under `multiIssuer`, whose challenges point to its RFC 9728 document. */
const refusedByMultiIssuer =
  (code: TokenCode) =>
  (f: Fixtures): Refusal => ({ ...invalidToken(code)(), resourceMetadata: f.metadataUrl });

const NOT_THE_TARGET = 'https://api.example.test';
const FORWARDED = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.test' };

export const CASES: readonly ConformanceCase[] = [
  // --- Credentials and the Authorization header (RFC 6750 §2.1, §3.1) ---
  {
    name: 'answers a request without credentials with 401 and a bare challenge',
    config: 'main',
    request: (f) => ({ certificate: f.clientA }),
    expected: () => ({ status: 401, code: 'credentials_missing' }),
  },
  {
    name: 'treats another authentication scheme as no credentials',
    config: 'main',
    request: (f) => ({ certificate: f.clientA, headers: { authorization: 'Basic Y2xpZW50OnNlY3JldA==' } }),
    expected: () => ({ status: 401, code: 'credentials_missing' }),
  },
  {
    name: 'rejects a Bearer scheme without a token as a malformed request',
    config: 'main',
    request: (f) => ({ certificate: f.clientA, headers: { authorization: 'Bearer' } }),
    expected: invalidRequest,
  },
  {
    name: 'rejects a token with characters outside b64token as a malformed request',
    config: 'main',
    request: (f) => ({ certificate: f.clientA, headers: { authorization: 'Bearer abc,def' } }),
    expected: invalidRequest,
  },
  {
    name: 'rejects a tab after the Bearer scheme as a malformed request',
    config: 'main',
    request: async (f) => ({
      certificate: f.clientA,
      headers: { authorization: `Bearer\t${await f.mint()}` },
    }),
    expected: invalidRequest,
  },
  {
    name: 'rejects two Authorization header lines',
    config: 'main',
    request: async (f) => {
      const token = await f.mint();
      return {
        certificate: f.clientA,
        rawHeaders: ['Authorization', `Bearer ${token}`, 'Authorization', `Bearer ${token}`],
      };
    },
    expected: invalidRequest,
  },
  {
    name: 'rejects a header token sent with access_token in the query',
    config: 'main',
    request: async (f) => ({
      certificate: f.clientA,
      path: '/resource?access_token=x',
      token: await f.mint(),
    }),
    expected: invalidRequest,
  },
  {
    name: 'rejects a header token sent with access_token in a form body',
    config: 'main',
    request: async (f) => ({
      method: 'POST',
      certificate: f.clientA,
      token: await f.mint(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'access_token=x&amount=10',
    }),
    expected: invalidRequest,
  },
  {
    name: 'accepts a form body without access_token',
    config: 'main',
    request: async (f) => ({
      method: 'POST',
      certificate: f.clientA,
      token: await f.mint(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount=10',
    }),
    expected: accepted('A'),
  },
  {
    name: 'accepts the scheme name in any case',
    config: 'main',
    request: async (f) => ({
      certificate: f.clientA,
      headers: { authorization: `bEaReR ${await f.mint()}` },
    }),
    expected: accepted('A'),
  },
  {
    name: 'accepts several spaces between the scheme and the token',
    config: 'main',
    request: async (f) => ({
      certificate: f.clientA,
      headers: { authorization: `Bearer   ${await f.mint()}` },
    }),
    expected: accepted('A'),
  },

  // --- JWT validation (RFC 9068, RFC 8725) ---
  {
    name: 'rejects a JWT-shaped token whose header does not decode',
    config: 'main',
    request: (f) => ({ certificate: f.clientA, token: 'bm90IGpzb24.eyJzdWIiOiJ4In0.c2ln' }),
    expected: invalidToken('token_malformed'),
  },
  {
    name: 'rejects a token with a tampered signature',
    config: 'main',
    request: async (f) => ({ certificate: f.clientA, token: flipSignature(await f.mint()) }),
    expected: invalidToken('token_signature_invalid'),
  },
  {
    name: 'rejects an expired token',
    config: 'main',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint({ expiresIn: -120 }) }),
    expected: invalidToken('token_expired'),
  },
  {
    name: 'rejects a token that is not yet valid',
    config: 'main',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint({ claims: { nbf: now() + 600 } }) }),
    expected: invalidToken('token_not_yet_valid'),
  },
  {
    name: 'rejects a token for another audience',
    config: 'main',
    request: async (f) => ({
      certificate: f.clientA,
      token: await f.mint({ audience: 'https://other-api.example.com' }),
    }),
    expected: invalidToken('token_audience_mismatch'),
  },
  {
    name: 'rejects a token naming another issuer',
    config: 'main',
    request: async (f) => ({
      certificate: f.clientA,
      token: await f.mint({ claims: { iss: 'https://evil.example.com' } }),
    }),
    expected: invalidToken('token_issuer_mismatch'),
  },
  {
    name: 'rejects a token whose typ is not at+jwt',
    config: 'main',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint({ header: { typ: 'JWT' } }) }),
    expected: invalidToken('token_type_invalid'),
  },
  {
    name: 'rejects a token without a required claim',
    config: 'main',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint({ claims: { jti: undefined } }) }),
    expected: invalidToken('token_claims_missing'),
  },
  {
    name: 'accepts an RS256 token',
    config: 'main',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint({ alg: 'RS256' }) }),
    expected: accepted('A'),
  },

  // --- Binding (RFC 8705 §3) under binding: 'required' ---
  {
    name: 'accepts a bound token over a connection with the same certificate',
    config: 'main',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint() }),
    expected: accepted('A'),
  },
  {
    name: 'rejects a bound token presented with a look-alike certificate',
    config: 'main',
    request: async (f) => ({ certificate: f.clientB, token: await f.mint() }),
    expected: invalidToken('cnf_mismatch'),
  },
  {
    name: 'rejects a bound token presented without a certificate',
    config: 'main',
    request: async (f) => ({ token: await f.mint() }),
    expected: invalidToken('certificate_missing'),
  },
  {
    name: 'rejects an unbound token under binding required',
    config: 'main',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint({ certificate: null }) }),
    expected: unboundUnderEitherBinding,
  },
  {
    name: 'rejects a thumbprint in standard base64 instead of base64url',
    config: 'main',
    request: async (f) => ({
      certificate: f.clientA,
      token: await f.mint({
        claims: {
          cnf: { 'x5t#S256': `${Buffer.from(f.clientA.thumbprint, 'base64url').toString('base64')}` },
        },
      }),
    }),
    expected: invalidToken('cnf_malformed'),
  },
  {
    name: 'rejects an empty cnf',
    config: 'main',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint({ claims: { cnf: {} } }) }),
    expected: invalidToken('cnf_malformed'),
  },
  {
    name: 'refuses a DPoP-bound cnf (jkt) under Bearer, the error on the DPoP challenge',
    config: 'main',
    request: async (f) => ({
      certificate: f.clientA,
      token: await f.mint({ claims: { cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } } }),
    }),
    expected: refusedDpop('dpop_scheme_required'),
  },

  // --- binding: 'if-present' ---
  {
    name: 'accepts an unbound token without a certificate under if-present',
    config: 'ifPresent',
    request: async (f) => ({ token: await f.mint({ certificate: null }) }),
    expected: accepted('none', { bound: false }),
  },
  {
    name: 'accepts an unbound token with a certificate under if-present, reporting it unbound',
    config: 'ifPresent',
    request: async (f) => ({ certificate: f.clientB, token: await f.mint({ certificate: null }) }),
    expected: (f) => ({ ...accepted('none', { bound: false, thumbprint: f.clientB.thumbprint })(f) }),
  },
  {
    name: 'still rejects a bound token without a certificate under if-present',
    config: 'ifPresent',
    request: async (f) => ({ token: await f.mint() }),
    expected: invalidToken('certificate_missing'),
  },
  {
    name: 'still rejects a bound token with a look-alike certificate under if-present',
    config: 'ifPresent',
    request: async (f) => ({ certificate: f.clientB, token: await f.mint() }),
    expected: invalidToken('cnf_mismatch'),
  },
  {
    name: 'accepts a bound token with its certificate under if-present',
    config: 'ifPresent',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint() }),
    expected: accepted('A'),
  },

  // --- Opaque tokens through introspection (RFC 7662) ---
  {
    name: 'accepts an opaque bound token through introspection with its certificate',
    config: 'main',
    request: (f) => ({
      certificate: f.clientA,
      token: f.issuer.mintOpaqueToken({ certificate: f.clientA, scope: 'read' }),
    }),
    expected: accepted('A', { format: 'opaque' }),
  },
  {
    name: 'rejects an opaque bound token presented with a look-alike certificate',
    config: 'main',
    request: (f) => ({
      certificate: f.clientB,
      token: f.issuer.mintOpaqueToken({ certificate: f.clientA, scope: 'read' }),
    }),
    expected: invalidToken('cnf_mismatch'),
  },
  {
    name: 'rejects an opaque bound token presented without a certificate',
    config: 'main',
    request: (f) => ({ token: f.issuer.mintOpaqueToken({ certificate: f.clientA, scope: 'read' }) }),
    expected: invalidToken('certificate_missing'),
  },
  {
    name: 'rejects a revoked opaque token',
    config: 'main',
    request: (f) => {
      const token = f.issuer.mintOpaqueToken({ certificate: f.clientA, scope: 'read' });
      f.issuer.revoke(token);
      return { certificate: f.clientA, token };
    },
    expected: invalidToken('token_inactive'),
  },
  {
    name: 'rejects an opaque token the authorization server never issued',
    config: 'main',
    request: (f) => ({ certificate: f.clientA, token: 'never-issued-opaque-token' }),
    expected: invalidToken('token_inactive'),
  },
  {
    name: 'rejects an opaque token that is not bound',
    config: 'main',
    request: (f) => ({ certificate: f.clientA, token: f.issuer.mintOpaqueToken({ scope: 'read' }) }),
    expected: unboundUnderEitherBinding,
  },

  // --- Scopes and public routes ---
  {
    name: 'answers a missing scope with 403 insufficient_scope naming it',
    config: 'main',
    request: async (f) => ({ path: '/scoped', certificate: f.clientA, token: await f.mint() }),
    expected: () => ({
      status: 403,
      error: 'insufficient_scope',
      code: 'insufficient_scope',
      scope: 'write',
    }),
  },
  {
    name: 'accepts a token carrying the required scope',
    config: 'main',
    request: async (f) => ({
      path: '/scoped',
      certificate: f.clientA,
      token: await f.mint({ scope: 'read write' }),
    }),
    expected: accepted('A', { scopes: ['read', 'write'] }),
  },
  {
    name: 'checks scopes of opaque tokens too',
    config: 'main',
    request: (f) => ({
      path: '/scoped',
      certificate: f.clientA,
      token: f.issuer.mintOpaqueToken({ certificate: f.clientA, scope: 'read' }),
    }),
    expected: () => ({
      status: 403,
      error: 'insufficient_scope',
      code: 'insufficient_scope',
      scope: 'write',
    }),
  },
  {
    name: 'checks binding before scopes',
    config: 'main',
    request: async (f) => ({ path: '/scoped', certificate: f.clientB, token: await f.mint() }),
    expected: invalidToken('cnf_mismatch'),
  },
  {
    name: 'serves a public route without credentials',
    config: 'main',
    request: () => ({ path: '/health' }),
    expected: () => ({ status: 200, body: { ok: true } }),
  },
  {
    name: 'serves a public route whatever the Authorization header holds',
    config: 'main',
    request: () => ({ path: '/health', headers: { authorization: 'Bearer not-a-token,' } }),
    expected: () => ({ status: 200, body: { ok: true } }),
  },

  // --- Step-up authentication (RFC 9470) on POST /payments: acr mfa within 300 seconds ---
  {
    name: 'lets a recent mfa authentication through the step-up route with 201',
    config: 'main',
    request: async (f) => payment(await f.mint({ claims: { acr: 'mfa', auth_time: recent() } }), f.clientA),
    expected: created(accepted('A')),
  },
  {
    name: 'asks for a new user authentication after a weaker acr, naming acr_values and max_age',
    config: 'main',
    request: async (f) => payment(await f.mint({ claims: { acr: 'pwd', auth_time: recent() } }), f.clientA),
    expected: stepUpRequired(),
  },
  {
    name: 'asks for a new user authentication when the token has no acr',
    config: 'main',
    request: async (f) => payment(await f.mint({ claims: { auth_time: recent() } }), f.clientA),
    expected: stepUpRequired(),
  },
  {
    name: 'asks for a new user authentication after an mfa authentication an hour ago',
    config: 'main',
    request: async (f) =>
      payment(await f.mint({ claims: { acr: 'mfa', auth_time: anHourAgo() } }), f.clientA),
    expected: stepUpRequired(),
  },
  {
    name: 'asks for a new user authentication when the token has no auth_time',
    config: 'main',
    request: async (f) => payment(await f.mint({ claims: { acr: 'mfa' } }), f.clientA),
    expected: stepUpRequired(),
  },
  {
    name: "lets an opaque token through the step-up route on its introspection answer's acr and auth_time",
    config: 'main',
    request: (f) =>
      payment(
        f.issuer.mintOpaqueToken({
          certificate: f.clientA,
          scope: 'read',
          claims: { acr: 'mfa', auth_time: recent() },
        }),
        f.clientA,
      ),
    expected: created(accepted('A', { format: 'opaque' })),
  },
  {
    name: 'asks for a new user authentication when the introspection answer has a weaker acr',
    config: 'main',
    request: (f) =>
      payment(
        f.issuer.mintOpaqueToken({
          certificate: f.clientA,
          scope: 'read',
          claims: { acr: 'pwd', auth_time: recent() },
        }),
        f.clientA,
      ),
    expected: stepUpRequired(),
  },
  {
    name: 'asks for a new user authentication when the introspection answer has an old auth_time',
    config: 'main',
    request: (f) =>
      payment(
        f.issuer.mintOpaqueToken({
          certificate: f.clientA,
          scope: 'read',
          claims: { acr: 'mfa', auth_time: anHourAgo() },
        }),
        f.clientA,
      ),
    expected: stepUpRequired(),
  },
  {
    name: 'lets a DPoP request with a recent mfa authentication through the step-up route',
    config: 'main',
    request: async (f, t) =>
      dpopPayment(f, t, await f.mintDpop({ claims: { acr: 'mfa', auth_time: recent() } })),
    expected: created(acceptedDpop('none')),
  },
  {
    name: 'asks a DPoP client for a new user authentication on the DPoP challenge',
    config: 'main',
    request: async (f, t) =>
      dpopPayment(f, t, await f.mintDpop({ claims: { acr: 'pwd', auth_time: recent() } })),
    expected: stepUpRequired('DPoP'),
  },
  {
    name: 'refuses a stolen token for its binding before step-up: certificate_missing',
    config: 'main',
    request: async (f) => payment(await f.mint({ claims: { acr: 'pwd', auth_time: anHourAgo() } })),
    expected: invalidToken('certificate_missing'),
  },

  // --- Certificates from a trusted proxy's header (RFC 9440) ---
  {
    name: 'accepts a bound token with its certificate in the header of a trusted proxy',
    config: 'headerTrusted',
    request: async (f) => ({ token: await f.mint(), headers: { 'client-cert': rfc9440(f.clientA) } }),
    expected: accepted('A'),
  },
  {
    name: 'rejects a bound token with a look-alike certificate in the header of a trusted proxy',
    config: 'headerTrusted',
    request: async (f) => ({ token: await f.mint(), headers: { 'client-cert': rfc9440(f.clientB) } }),
    expected: invalidToken('cnf_mismatch'),
  },
  {
    name: 'ignores a malformed certificate header from a trusted proxy',
    config: 'headerTrusted',
    request: async (f) => ({ token: await f.mint(), headers: { 'client-cert': 'not-a-certificate' } }),
    expected: invalidToken('certificate_missing'),
  },
  {
    name: 'never falls back to the TLS certificate in header mode',
    config: 'headerTrusted',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint() }),
    expected: invalidToken('certificate_missing'),
  },
  {
    name: 'ignores a certificate header sent by an untrusted peer',
    config: 'headerUntrusted',
    request: async (f) => ({ token: await f.mint(), headers: { 'client-cert': rfc9440(f.clientA) } }),
    expected: invalidToken('certificate_missing'),
  },

  // --- The authorization server unavailable ---
  {
    name: 'answers 503 with Retry-After when the JWKS cannot be fetched',
    config: 'down',
    request: async (f) => ({
      certificate: f.clientA,
      token: await f.downIssuer.mintAccessToken({ certificate: f.clientA, scope: 'read' }),
    }),
    expected: () => ({ status: 503, code: 'authorization_server_unavailable' }),
  },
  {
    name: 'answers 503 with Retry-After when introspection cannot be reached',
    config: 'down',
    request: (f) => ({
      certificate: f.clientA,
      token: f.downIssuer.mintOpaqueToken({ certificate: f.clientA, scope: 'read' }),
    }),
    expected: () => ({ status: 503, code: 'authorization_server_unavailable' }),
  },

  // --- RFC 9728 Protected Resource Metadata ---
  {
    name: 'serves the protected resource metadata document without credentials',
    config: 'metadata',
    request: (f) => ({ path: new URL(f.metadataUrl).pathname }),
    expected: metadataDocument(false),
  },
  {
    name: 'answers HEAD on the metadata document without a body',
    config: 'metadata',
    request: (f) => ({ method: 'HEAD', path: new URL(f.metadataUrl).pathname }),
    expected: () => ({ status: 200, body: null, headers: { 'cache-control': 'public, max-age=3600' } }),
  },
  {
    name: 'points the challenge of a request without credentials to the metadata',
    config: 'metadata',
    request: (f) => ({ certificate: f.clientA }),
    expected: (f) => ({ status: 401, code: 'credentials_missing', resourceMetadata: f.metadataUrl }),
  },
  {
    name: 'points the challenge of a rejected token to the metadata',
    config: 'metadata',
    request: async (f) => ({ certificate: f.clientB, token: await f.mint() }),
    expected: (f) => ({
      status: 401,
      error: 'invalid_token',
      code: 'cnf_mismatch',
      resourceMetadata: f.metadataUrl,
    }),
  },
  {
    name: 'still protects the API when the metadata is configured',
    config: 'metadata',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint() }),
    expected: accepted('A'),
  },

  // --- DPoP (RFC 9449): the scheme, the proof, the binding ---
  {
    name: 'accepts a DPoP-bound token with a proof of its key, reporting the DPoP scheme and the key',
    config: 'main',
    request: async (f, t) => dpopRequest(f, t, { token: await f.mintDpop() }),
    expected: acceptedDpop('none'),
  },
  {
    name: 'accepts a DPoP proof for POST with a form body',
    config: 'main',
    request: async (f, t) => ({
      ...(await dpopRequest(f, t, { token: await f.mintDpop(), method: 'POST' })),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'amount=10',
    }),
    expected: acceptedDpop('none'),
  },
  {
    name: 'accepts a token bound to the certificate and the DPoP key with both proofs',
    config: 'main',
    request: async (f, t) =>
      dpopRequest(f, t, { token: await f.mint({ dpopKey: f.dpopKey }), certificate: f.clientA }),
    expected: acceptedDpop('A'),
  },
  {
    name: 'refuses a token bound to the certificate and the DPoP key without the certificate',
    config: 'main',
    request: async (f, t) => dpopRequest(f, t, { token: await f.mint({ dpopKey: f.dpopKey }) }),
    expected: refusedDpop('certificate_missing'),
  },
  {
    name: 'refuses the DPoP scheme without a DPoP field: dpop_proof_missing',
    config: 'main',
    request: async (f, t) => dpopRequest(f, t, { token: await f.mintDpop(), proofs: 0 }),
    expected: refusedDpop('dpop_proof_missing'),
  },
  {
    name: 'refuses two DPoP field lines: dpop_proof_invalid',
    config: 'main',
    request: async (f, t) => dpopRequest(f, t, { token: await f.mintDpop(), proofs: 2 }),
    expected: refusedDpop('dpop_proof_invalid'),
  },
  {
    name: 'refuses a proof made for another method (htm POST on a GET): dpop_proof_invalid',
    config: 'main',
    request: async (f, t) => dpopRequest(f, t, { token: await f.mintDpop(), htm: 'POST' }),
    expected: refusedDpop('dpop_proof_invalid'),
  },
  {
    name: 'refuses a proof made for another path of the API: dpop_proof_invalid',
    config: 'main',
    request: async (f, t) => dpopRequest(f, t, { token: await f.mintDpop(), htu: `${t.url}/scoped` }),
    expected: refusedDpop('dpop_proof_invalid'),
  },
  {
    name: 'refuses a proof made for another origin: dpop_proof_invalid',
    config: 'main',
    request: async (f, t) =>
      dpopRequest(f, t, { token: await f.mintDpop(), htu: `${NOT_THE_TARGET}/resource` }),
    expected: refusedDpop('dpop_proof_invalid'),
  },
  {
    name: 'refuses a proof sent a second time: dpop_proof_replayed',
    config: 'main',
    request: async (f, t) => ({ ...(await dpopRequest(f, t, { token: await f.mintDpop() })), replay: true }),
    expected: refusedDpop('dpop_proof_replayed'),
  },
  {
    name: 'refuses a DPoP-bound token with a proof by another key: dpop_key_mismatch',
    config: 'main',
    request: async (f, t) => dpopRequest(f, t, { token: await f.mintDpop(), key: f.otherDpopKey }),
    expected: refusedDpop('dpop_key_mismatch'),
  },
  {
    name: 'refuses a DPoP-bound token sent as Bearer: dpop_scheme_required, on the DPoP challenge',
    config: 'main',
    request: async (f) => ({ token: await f.mintDpop() }),
    expected: refusedDpop('dpop_scheme_required'),
  },
  {
    name: 'refuses an unbound token under the DPoP scheme: dpop_key_mismatch',
    config: 'main',
    request: async (f, t) => dpopRequest(f, t, { token: await f.mint({ certificate: null }) }),
    expected: refusedDpop('dpop_key_mismatch'),
  },
  {
    name: 'checks the scopes of a DPoP request too',
    config: 'main',
    request: async (f, t) => dpopRequest(f, t, { token: await f.mintDpop(), path: '/scoped' }),
    expected: () => ({
      status: 403,
      error: 'insufficient_scope',
      code: 'insufficient_scope',
      scope: 'write',
      scheme: 'DPoP',
    }),
  },
  {
    name: 'accepts a DPoP opaque token (introspected token_type DPoP and cnf.jkt) with a proof',
    config: 'main',
    request: (f, t) =>
      dpopRequest(f, t, {
        token: f.issuer.mintOpaqueToken({
          scope: 'read',
          claims: { token_type: 'DPoP', cnf: { jkt: f.dpopJkt } },
        }),
      }),
    expected: acceptedDpop('none', { format: 'opaque' }),
  },
  {
    name: 'refuses a DPoP opaque token sent as Bearer: dpop_scheme_required',
    config: 'main',
    request: (f) => ({
      token: f.issuer.mintOpaqueToken({
        scope: 'read',
        claims: { token_type: 'DPoP', cnf: { jkt: f.dpopJkt } },
      }),
    }),
    expected: refusedDpop('dpop_scheme_required'),
  },
  {
    name: "checks a proof's htu against the origin a trusted proxy forwards",
    config: 'headerTrusted',
    request: async (f, t) => ({
      ...(await dpopRequest(f, t, { token: await f.mintDpop(), htu: `${NOT_THE_TARGET}/resource` })),
      headers: FORWARDED,
    }),
    expected: acceptedDpop('none'),
  },
  {
    name: 'ignores the origin forwarded by an untrusted peer when checking htu',
    config: 'headerUntrusted',
    request: async (f, t) => ({
      ...(await dpopRequest(f, t, { token: await f.mintDpop(), htu: `${NOT_THE_TARGET}/resource` })),
      headers: FORWARDED,
    }),
    expected: refusedDpop('dpop_proof_invalid'),
  },

  // --- DPoP off (dpop: false) ---
  {
    name: 'offers the Bearer challenge alone with DPoP off',
    config: 'noDpop',
    request: (f) => ({ certificate: f.clientA }),
    expected: () => ({ status: 401, code: 'credentials_missing' }),
  },
  {
    name: 'rejects a DPoP-bound cnf (jkt) with DPoP off: cnf_unsupported',
    config: 'noDpop',
    request: async (f) => ({ token: await f.mintDpop() }),
    expected: invalidToken('cnf_unsupported'),
  },
  {
    name: 'treats the DPoP scheme as no credentials with DPoP off',
    config: 'noDpop',
    request: async (f, t) => dpopRequest(f, t, { token: await f.mintDpop() }),
    expected: () => ({ status: 401, code: 'credentials_missing' }),
  },
  {
    name: 'still accepts a certificate-bound token with DPoP off',
    config: 'noDpop',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint() }),
    expected: accepted('A'),
  },

  // --- dpop.required: DPoP-bound tokens only ---
  {
    name: 'offers the DPoP challenge alone under dpop.required',
    config: 'dpopRequired',
    request: (f) => ({ certificate: f.clientA }),
    expected: (f) => ({ status: 401, code: 'credentials_missing', resourceMetadata: f.metadataUrl }),
  },
  {
    name: 'refuses a certificate-bound token as Bearer under dpop.required: token_unbound',
    config: 'dpopRequired',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint() }),
    expected: (f) => ({
      ...invalidToken('token_unbound')(),
      description: 'A DPoP-bound access token is required',
      resourceMetadata: f.metadataUrl,
    }),
  },
  {
    name: 'refuses an unbound token as Bearer under dpop.required: token_unbound',
    config: 'dpopRequired',
    request: async (f) => ({ token: await f.mint({ certificate: null }) }),
    expected: (f) => ({
      ...invalidToken('token_unbound')(),
      description: 'A DPoP-bound access token is required',
      resourceMetadata: f.metadataUrl,
    }),
  },
  {
    name: 'accepts a DPoP-bound token with its proof under dpop.required',
    config: 'dpopRequired',
    request: async (f, t) => dpopRequest(f, t, { token: await f.mintDpop() }),
    expected: acceptedDpop('none'),
  },
  {
    name: 'says DPoP-bound tokens are required in the metadata document',
    config: 'dpopRequired',
    request: (f) => ({ path: new URL(f.metadataUrl).pathname }),
    expected: metadataDocument(true),
  },

  // --- dpop.nonce: resource-server nonces (RFC 9449 §9) ---
  {
    name: 'asks for a nonce with use_dpop_nonce and a DPoP-Nonce when the proof has none',
    config: 'dpopNonce',
    request: async (f, t) => dpopRequest(f, t, { token: await f.mintDpop() }),
    expected: () => ({
      status: 401,
      error: 'use_dpop_nonce',
      code: 'dpop_nonce_required',
      scheme: 'DPoP',
      dpopNonce: true,
    }),
  },
  {
    name: 'refuses a nonce it never issued with use_dpop_nonce and a fresh DPoP-Nonce',
    config: 'dpopNonce',
    request: async (f, t) => dpopRequest(f, t, { token: await f.mintDpop(), nonce: 'made-up-nonce' }),
    expected: () => ({
      status: 401,
      error: 'use_dpop_nonce',
      code: 'dpop_nonce_required',
      scheme: 'DPoP',
      dpopNonce: true,
    }),
  },
  {
    name: 'accepts a proof carrying the nonce it issued, and hands out the current nonce',
    config: 'dpopNonce',
    request: async (f, t) => {
      const token = await f.mintDpop();
      const nonce = await nonceOf(f, t, token);
      return { ...(await dpopRequest(f, t, { token, nonce })), learned: { nonce } };
    },
    expected: (f, spec) => ({
      ...acceptedDpop('none')(f),
      headers: { 'cache-control': 'no-store', 'dpop-nonce': learnedNonce(spec) },
    }),
  },
  {
    name: 'hands out the current nonce to Bearer clients too',
    config: 'dpopNonce',
    request: async (f, t) => {
      const nonce = await nonceOf(f, t, await f.mintDpop());
      return { certificate: f.clientA, token: await f.mint(), learned: { nonce } };
    },
    expected: (f, spec) => ({
      ...accepted('A')(f),
      headers: { 'cache-control': 'no-store', 'dpop-nonce': learnedNonce(spec) },
    }),
  },

  // --- Several authorization servers (issuers): the token's iss selects one ---
  {
    name: 'accepts a bound token of the first issuer, naming it',
    config: 'multiIssuer',
    request: async (f) => ({ certificate: f.clientA, token: await f.mint() }),
    expected: accepted('A'),
  },
  {
    name: 'accepts a bound token of the second issuer for its own audience, naming it',
    config: 'multiIssuer',
    request: async (f) => ({
      certificate: f.clientA,
      token: await f.secondIssuer.mintAccessToken({ certificate: f.clientA, scope: 'read' }),
    }),
    expected: (f) => accepted('A', { issuer: f.secondIssuer.issuer })(f),
  },
  {
    name: "refuses a token claiming the second issuer but signed with the first's key: token_signature_invalid",
    config: 'multiIssuer',
    request: async (f) => ({
      certificate: f.clientA,
      token: await f.mint({ audience: f.secondIssuer.audience, claims: { iss: f.secondIssuer.issuer } }),
    }),
    expected: refusedByMultiIssuer('token_signature_invalid'),
  },
  {
    name: 'refuses a token of an unknown issuer without asking either issuer: token_issuer_mismatch',
    config: 'multiIssuer',
    offline: true,
    request: async (f) => ({
      certificate: f.clientA,
      token: await f.mint({ claims: { iss: 'https://unknown-as.example.test' } }),
    }),
    expected: refusedByMultiIssuer('token_issuer_mismatch'),
  },
  {
    name: 'refuses an opaque token without asking either issuer (several issuers never introspect): token_malformed',
    config: 'multiIssuer',
    offline: true,
    request: (f) => ({
      certificate: f.clientA,
      token: f.issuer.mintOpaqueToken({ certificate: f.clientA, scope: 'read' }),
    }),
    expected: refusedByMultiIssuer('token_malformed'),
  },
  {
    name: "refuses a token of the second issuer for the first's audience: token_audience_mismatch",
    config: 'multiIssuer',
    request: async (f) => ({
      certificate: f.clientA,
      token: await f.secondIssuer.mintAccessToken({
        certificate: f.clientA,
        scope: 'read',
        audience: f.issuer.audience,
      }),
    }),
    expected: refusedByMultiIssuer('token_audience_mismatch'),
  },
  {
    name: "refuses a token of the first issuer for the second's audience: token_audience_mismatch",
    config: 'multiIssuer',
    request: async (f) => ({
      certificate: f.clientA,
      token: await f.mint({ audience: f.secondIssuer.audience }),
    }),
    expected: refusedByMultiIssuer('token_audience_mismatch'),
  },
  {
    name: "checks the binding of the second issuer's tokens too: cnf_mismatch",
    config: 'multiIssuer',
    request: async (f) => ({
      certificate: f.clientB,
      token: await f.secondIssuer.mintAccessToken({ certificate: f.clientA, scope: 'read' }),
    }),
    expected: refusedByMultiIssuer('cnf_mismatch'),
  },
  {
    name: 'lists both issuers as authorization_servers in the metadata document',
    config: 'multiIssuer',
    request: (f) => ({ path: new URL(f.metadataUrl).pathname }),
    expected: metadataDocument(false, 'both'),
  },
];
