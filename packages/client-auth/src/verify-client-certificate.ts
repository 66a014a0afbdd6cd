/**
 * RFC 8705 §2 mutual-TLS client authentication, for the services that authenticate OAuth clients
 * (an authorization server, a gateway): does the certificate presented on the TLS connection
 * match the client's registered metadata (§2.1 PKI, §2.2 self-signed)?
 */
import { type CertificateInput, certificateDer } from './certificate-input.js';
import { readSubject, readSubjectAltNames } from './certificate-names.js';
import {
  DistinguishedNameSyntaxError,
  distinguishedNamesMatch,
  parseDistinguishedName,
  type RelativeDistinguishedName,
} from './distinguished-name.js';
import { parseSanExpectation, type SanExpectation, type SanRule, sanMatches } from './subject-alt-names.js';

/** The RFC 8705 client authentication methods: §2.1.1 PKI, §2.2.1 self-signed. */
export type ClientCertificateAuthMethod = 'tls_client_auth' | 'self_signed_tls_client_auth';

/** A JWK as far as §2.2.2 uses it: `x5c[0]` is the certificate (standard base64 of DER, RFC 7517 §4.7). */
export interface ClientCertificateJwk {
  x5c?: readonly string[];
}

/**
 * The client's registered metadata (RFC 7591 §2, RFC 8705 §2.1.2 and §2.2.2 names). Other
 * members of a client record are ignored; `null` counts as absent.
 */
export interface ClientCertificateMetadata {
  token_endpoint_auth_method: ClientCertificateAuthMethod;
  /** RFC 4514 string of the expected subject DN. */
  tls_client_auth_subject_dn?: string | null;
  /** Expected dNSName SAN, compared literally (no wildcard matching). */
  tls_client_auth_san_dns?: string | null;
  /** Expected uniformResourceIdentifier SAN, compared exactly. */
  tls_client_auth_san_uri?: string | null;
  /** Expected iPAddress SAN, IPv4 dotted decimal or IPv6 text, compared as octets. */
  tls_client_auth_san_ip?: string | null;
  /** Expected rfc822Name SAN. */
  tls_client_auth_san_email?: string | null;
  /** JWK Set whose keys' `x5c[0]` are the registered self-signed certificates. */
  jwks?: { keys: readonly ClientCertificateJwk[] } | null;
  /** Not fetched here: resolve it and pass the JWK Set as `jwks`. */
  jwks_uri?: string | null;
}

/** The metadata parameter a successful match used. */
export type ClientCertificateRule = 'subject_dn' | 'san_dns' | 'san_uri' | 'san_ip' | 'san_email' | 'x5c';

/** Every reason a certificate is refused: stable values to log or switch on. */
export const CLIENT_CERTIFICATE_FAILURES = [
  'certificate_invalid',
  'chain_not_verified',
  'subject_dn_mismatch',
  'san_dns_mismatch',
  'san_uri_mismatch',
  'san_ip_mismatch',
  'san_email_mismatch',
  'certificate_not_registered',
] as const;

export type ClientCertificateFailure = (typeof CLIENT_CERTIFICATE_FAILURES)[number];

/**
 * The outcome. On failure, answer the client with RFC 6749 §5.2 `invalid_client` (RFC 8705 §2)
 * and keep `reason` for your logs.
 */
export type ClientCertificateVerification =
  | { ok: true; method: ClientCertificateAuthMethod; rule: ClientCertificateRule }
  | { ok: false; method: ClientCertificateAuthMethod; reason: ClientCertificateFailure };

export interface VerifyClientCertificateOptions {
  /**
   * Whether the TLS layer validated the certificate chain to a trusted CA (RFC 5280), which
   * `tls_client_auth` relies on (§2.1) and this function cannot see. Pass `socket.authorized`.
   * Ignored for `self_signed_tls_client_auth`.
   */
  chainVerified?: boolean;
}

const SAN_PARAMETERS = {
  tls_client_auth_san_dns: 'san_dns',
  tls_client_auth_san_uri: 'san_uri',
  tls_client_auth_san_ip: 'san_ip',
  tls_client_auth_san_email: 'san_email',
} as const satisfies Record<string, SanRule>;

const SUBJECT_PARAMETERS = [
  'tls_client_auth_subject_dn',
  'tls_client_auth_san_dns',
  'tls_client_auth_san_uri',
  'tls_client_auth_san_ip',
  'tls_client_auth_san_email',
] as const;

/** Standard base64 (RFC 4648 §4), padded: base64url is not what RFC 7517 §4.7 puts in `x5c`. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

type Expectation = { rule: 'subject_dn'; rdns: RelativeDistinguishedName[] } | SanExpectation;

function invalid(name: string, requirement: string): TypeError {
  return new TypeError(`Invalid client metadata: "${name}" must be ${requirement}`);
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** §2.1.2: exactly one of the five subject parameters, well formed. */
function tlsClientAuthExpectation(client: ClientCertificateMetadata): Expectation {
  const present = SUBJECT_PARAMETERS.filter((name) => isSet(client[name]));
  const [name, other] = present;
  if (name === undefined) {
    throw new TypeError(
      `Invalid client metadata: one of "${SUBJECT_PARAMETERS.join('", "')}" must be set for "tls_client_auth" (RFC 8705 §2.1.2: exactly one)`,
    );
  }
  if (other !== undefined) {
    throw invalid(
      name,
      `the only subject parameter, but "${other}" is also set (RFC 8705 §2.1.2: exactly one)`,
    );
  }
  const value: unknown = client[name];
  if (typeof value !== 'string' || value === '') throw invalid(name, 'a non-empty string');
  if (name === 'tls_client_auth_subject_dn') {
    try {
      return { rule: 'subject_dn', rdns: parseDistinguishedName(value) };
    } catch (error) {
      if (!(error instanceof DistinguishedNameSyntaxError)) throw error;
      throw invalid(name, `an RFC 4514 distinguished name: ${error.message}`);
    }
  }
  const expectation = parseSanExpectation(SAN_PARAMETERS[name], value);
  if (typeof expectation === 'string') throw invalid(name, expectation);
  return expectation;
}

/** §2.2.2: the DER of `x5c[0]` of each key; keys without a well-formed one are skipped. */
function registeredCertificates(client: ClientCertificateMetadata): Buffer[] {
  const { jwks } = client;
  if (!isSet(jwks) && isSet(client.jwks_uri)) {
    throw invalid('jwks', 'set: "jwks_uri" is not fetched here; fetch it and pass the JWK Set as "jwks"');
  }
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys)) {
    throw invalid('jwks', 'a JWK Set ({ keys: [...] }) for "self_signed_tls_client_auth"');
  }
  const certificates = jwks.keys.flatMap((key: unknown) => {
    const first: unknown = (key as ClientCertificateJwk | null)?.x5c?.[0];
    return typeof first === 'string' && first !== '' && BASE64.test(first)
      ? [Buffer.from(first, 'base64')]
      : [];
  });
  if (certificates.length === 0) {
    throw invalid(
      'jwks',
      'a JWK Set with at least one key whose "x5c" starts with a base64 (not base64url) certificate',
    );
  }
  return certificates;
}

function checkMethod(client: ClientCertificateMetadata): ClientCertificateAuthMethod {
  const method: unknown = (client as Partial<ClientCertificateMetadata> | null)?.token_endpoint_auth_method;
  if (method !== 'tls_client_auth' && method !== 'self_signed_tls_client_auth') {
    throw invalid('token_endpoint_auth_method', '"tls_client_auth" or "self_signed_tls_client_auth"');
  }
  return method;
}

/** Whether the certificate matches; `undefined` if the names it needs are malformed. */
async function matchesExpectation(der: Buffer, expected: Expectation): Promise<boolean | undefined> {
  if (expected.rule === 'subject_dn') {
    const subject = await readSubject(der);
    return subject && distinguishedNamesMatch(expected.rdns, subject);
  }
  const names = await readSubjectAltNames(der);
  return names && sanMatches(expected, names);
}

/**
 * Checks the certificate a client presented on the TLS connection against its registered
 * metadata (RFC 8705 §2), after you located the client by its `client_id`.
 *
 * - `tls_client_auth` (§2.1): the chain must have been validated by your TLS server
 *   (`options.chainVerified`, i.e. `socket.authorized`; otherwise `chain_not_verified`), then the
 *   certificate must match the one registered subject parameter (§2.1.2): the subject DN by
 *   distinguishedNameMatch (RFC 4517 §4.2.15), or a dNSName (literal, ASCII case-insensitive),
 *   uniformResourceIdentifier (exact), iPAddress (binary: `::ffff:192.0.2.1` does not equal a
 *   4-octet 192.0.2.1 SAN) or rfc822Name (domain case-insensitive) SAN.
 * - `self_signed_tls_client_auth` (§2.2): the certificate's DER must equal `x5c[0]` of a key in
 *   `client.jwks`; no chain validation.
 *
 * Revocation and validity dates are not checked here (for `tls_client_auth` the TLS layer checks
 * dates; revocation is your deployment's choice, §2.1).
 *
 * @param certificate the peer certificate: DER, PEM or `X509Certificate`
 *   (`socket.getPeerX509Certificate()`); anything else gives `certificate_invalid`.
 * @throws TypeError (as a rejected promise) if the metadata is misconfigured: unknown method,
 *   not exactly one `tls_client_auth_*` parameter, a malformed DN or IP address, no `jwks`.
 * @example
 * const peer = socket.getPeerX509Certificate(); // undefined: no certificate, invalid_client
 * const result = peer && (await verifyClientCertificate(peer, client, { chainVerified: socket.authorized }));
 * if (!result?.ok) {
 *   // RFC 6749 §5.2: 401 invalid_client; log result?.reason, never send it
 * }
 */
export async function verifyClientCertificate(
  certificate: CertificateInput,
  client: ClientCertificateMetadata,
  options: VerifyClientCertificateOptions = {},
): Promise<ClientCertificateVerification> {
  const method = checkMethod(client);
  const refuse = (reason: ClientCertificateFailure) => ({ ok: false, method, reason }) as const;
  if (method === 'self_signed_tls_client_auth') {
    const registered = registeredCertificates(client);
    const der = certificateDer(certificate);
    if (der === undefined) return refuse('certificate_invalid');
    return registered.some((entry) => entry.equals(der))
      ? { ok: true, method, rule: 'x5c' }
      : refuse('certificate_not_registered');
  }
  const expected = tlsClientAuthExpectation(client);
  const der = certificateDer(certificate);
  if (der === undefined) return refuse('certificate_invalid');
  if (options.chainVerified !== true) return refuse('chain_not_verified');
  const matched = await matchesExpectation(der, expected);
  if (matched === undefined) return refuse('certificate_invalid');
  return matched ? { ok: true, method, rule: expected.rule } : refuse(`${expected.rule}_mismatch`);
}
