/**
 * The vocabulary of errors: RFC 6750 / RFC 9449 / RFC 9470 `error` values, certbound's stable
 * `code`s (added to, never renamed) with their constant descriptions, and the fixed reasons of a
 * 503 (for operators, never for clients).
 */

/** RFC 6750 §3.1 error codes, and RFC 9449's `invalid_dpop_proof` (§7.1) and `use_dpop_nonce` (§9). */
export type BearerError =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'insufficient_user_authentication'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

/** Stable reasons. New ones may be added; none is ever renamed. */
export type CertboundErrorCode =
  | 'credentials_missing'
  | 'invalid_request'
  | 'token_malformed'
  | 'token_signature_invalid'
  | 'token_type_invalid'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_issuer_mismatch'
  | 'token_audience_mismatch'
  | 'token_claims_missing'
  | 'token_inactive'
  | 'token_unbound'
  | 'certificate_missing'
  | 'cnf_mismatch'
  | 'cnf_malformed'
  | 'cnf_unsupported'
  | 'insufficient_scope'
  | 'authorization_server_unavailable'
  | 'dpop_proof_missing'
  | 'dpop_proof_invalid'
  | 'dpop_proof_replayed'
  | 'dpop_nonce_required'
  | 'dpop_key_mismatch'
  | 'dpop_scheme_required'
  | 'insufficient_user_authentication';

/**
 * Why the authorization server gave no usable answer (a 503): a fixed vocabulary for operators,
 * on `certbound:decision` and in a process warning, never a response body.
 */
export type UnavailableReason =
  | 'tls_untrusted'
  | 'tls_error'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns'
  | 'timeout'
  | 'http_status'
  | 'redirect'
  | 'bad_content_type'
  | 'too_large'
  | 'bad_json'
  | 'issuer_mismatch'
  | 'metadata_incomplete'
  | 'client_key'
  | 'overloaded'
  | 'replay_cache_full'
  | 'replay_store'
  | 'network';

export const DESCRIPTIONS: Record<CertboundErrorCode, string> = {
  credentials_missing: 'Authentication required',
  invalid_request: 'The request is malformed',
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
};

/** The RFC 6750 / RFC 9449 `error` of each 401 code other than `invalid_token`. */
export const TOKEN_ERRORS: Partial<Record<CertboundErrorCode, BearerError | undefined>> = {
  credentials_missing: undefined,
  dpop_proof_missing: 'invalid_dpop_proof',
  dpop_proof_invalid: 'invalid_dpop_proof',
  dpop_proof_replayed: 'invalid_dpop_proof',
  dpop_nonce_required: 'use_dpop_nonce',
};

/** Constant descriptions for the reasons a request is `invalid_request`. */
export const INVALID_REQUEST_DESCRIPTIONS = {
  malformed: 'The Authorization header is malformed',
  duplicate: 'The Authorization header must appear once',
  multipleMethods: 'Multiple methods used to include access token',
} as const;

/**
 * `token_unbound` says which binding the API asks for: a certificate (the code's own description),
 * a DPoP key (`dpop.required`), or either one (`binding: 'required'` with DPoP on).
 */
export const TOKEN_UNBOUND_DESCRIPTIONS = {
  dpopRequired: 'A DPoP-bound access token is required',
  eitherBinding: 'A certificate-bound or DPoP-bound access token is required',
} as const;

/** The codes of 401 errors: no credentials, or why the token was refused. */
export type TokenErrorCode = Exclude<
  CertboundErrorCode,
  'invalid_request' | 'insufficient_scope' | 'authorization_server_unavailable'
>;

/** The codes of the binding decision (RFC 8705 §3), as `checkCertificateBinding` throws them. */
export const BINDING_ERROR_CODES = Object.freeze([
  'token_unbound',
  'certificate_missing',
  'cnf_mismatch',
  'cnf_malformed',
  'cnf_unsupported',
] as const satisfies readonly TokenErrorCode[]);

/** One of {@link BINDING_ERROR_CODES}. */
export type BindingErrorCode = (typeof BINDING_ERROR_CODES)[number];
