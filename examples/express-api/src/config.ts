/**
 * Configuration from environment variables, checked once at start-up: a missing or invalid
 * variable stops the process with a message naming it, before anything listens. The result is
 * the HTTPS server's own settings plus the certbound options (see @certbound/core's README).
 */
import { readFileSync } from 'node:fs';
import { HEADER_FORMATS, type HeaderFormat } from '@certbound/core';
import type { CertboundOptions } from '@certbound/express';

export interface Config {
  host: string;
  port: number;
  /** This API's own HTTPS certificate and key (PEM). */
  tls: { cert: string; key: string };
  certbound: CertboundOptions;
}

type CertificateSource = NonNullable<CertboundOptions['certificate']>;

function fail(message: string): never {
  throw new Error(`Configuration error: ${message}`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const get = (name: string) => env[name] || undefined;
  const need = (name: string, meaning: string) => get(name) ?? fail(`${name} is required (${meaning})`);
  const readPem = (name: string, path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      return fail(`${name}: cannot read ${path} (${(error as Error).message})`);
    }
  };

  const issuer = need('ISSUER', "the authorization server's issuer identifier");
  const audience = need('AUDIENCE', "this API's identifier, expected in the tokens' aud");
  const tls = {
    cert: readPem('TLS_CERT_FILE', need('TLS_CERT_FILE', "this API's HTTPS certificate, PEM")),
    key: readPem('TLS_KEY_FILE', need('TLS_KEY_FILE', "this API's HTTPS private key, PEM")),
  };
  const port = Number(get('PORT') ?? 8443); // 0: an ephemeral port
  if (!/^\d{1,5}$/.test(get('PORT') ?? '0') || port > 65535) fail('PORT must be an integer from 0 to 65535');

  const certbound: CertboundOptions = { issuer, audience, certificate: certificateSource(get, need) };
  const ca = get('ISSUER_CA_FILE');
  if (ca) certbound.tls = { ca: readPem('ISSUER_CA_FILE', ca) };
  const clientId = get('INTROSPECTION_CLIENT_ID');
  const clientSecret = get('INTROSPECTION_CLIENT_SECRET');
  if (!clientId !== !clientSecret)
    fail('INTROSPECTION_CLIENT_ID and INTROSPECTION_CLIENT_SECRET go together');
  // RFC 7662: opaque tokens are introspected with this API's own client credentials.
  if (clientId && clientSecret) certbound.introspection = { clientId, clientSecret };
  const realm = get('REALM');
  if (realm) certbound.realm = realm;
  return { host: get('HOST') ?? '127.0.0.1', port, tls, certbound };
}

/** RFC 8705 §6.5: behind a TLS-terminating proxy, the certificate comes in the proxy's header. */
function certificateSource(
  get: (name: string) => string | undefined,
  need: (name: string, meaning: string) => string,
): CertificateSource {
  const source = get('CERTIFICATE_SOURCE') ?? 'tls';
  if (source === 'tls') {
    if (get('CERTIFICATE_HEADER_FORMAT') || get('TRUSTED_PROXIES'))
      fail('CERTIFICATE_HEADER_FORMAT and TRUSTED_PROXIES are used only with CERTIFICATE_SOURCE=header');
    return { from: 'tls' };
  }
  if (source !== 'header') fail('CERTIFICATE_SOURCE must be "tls" or "header"');
  const format = need('CERTIFICATE_HEADER_FORMAT', 'how the proxy encodes the certificate');
  if (!HEADER_FORMATS.includes(format as HeaderFormat))
    fail(`CERTIFICATE_HEADER_FORMAT must be one of ${HEADER_FORMATS.join(', ')}`);
  const trustedProxies = need('TRUSTED_PROXIES', 'comma-separated addresses or CIDRs of the proxies')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  return { from: 'header', format: format as HeaderFormat, trustedProxies };
}
