import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeCertificateHeader, x5tS256 } from '@certbound/core';
import { createTestPki, type TestCertificate } from '@certbound/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_HEADER_NAMES,
  type DecodeOptions,
  HEADER_DECODERS,
  HEADER_FORMATS,
  type HeaderFormat,
  MAX_CERTIFICATE_HEADER_LENGTH,
} from '../src/client-certificate/decoders.js';
import { splitPemBlocks, strictPercentDecode } from '../src/client-certificate/header-encoding.js';
import {
  CERTIFICATE_HEADER_REASONS,
  CertificateHeaderError,
} from '../src/client-certificate/header-error.js';
import { parseXfcc } from '../src/client-certificate/xfcc.js';
import { InvalidTokenError } from '../src/errors.js';
import { thrownBy } from './support/outcomes.js';

// RFC 8705 Appendix A: a certificate with a known x5t#S256 (derived here without the code under test).
const APPENDIX_A_PEM = readFileSync(new URL('./fixtures/rfc8705-appendix-a.pem', import.meta.url), 'utf8');
const APPENDIX_A_THUMBPRINT = 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0';
const APPENDIX_A_DER = Buffer.from(APPENDIX_A_PEM.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');

interface Certificate {
  der: Buffer;
  thumbprint: string;
}

/** The certificates every case can use, filled in `beforeAll`. */
interface Fixtures {
  appendixA: Certificate;
  client: TestCertificate;
  other: TestCertificate;
  ca: TestCertificate;
}

const fixtures = {} as Fixtures;

beforeAll(async () => {
  const pki = await createTestPki();
  fixtures.appendixA = { der: APPENDIX_A_DER, thumbprint: APPENDIX_A_THUMBPRINT };
  fixtures.client = await pki.issueClient({
    subject: 'CN=client, O=Example',
    uri: ['spiffe://example.org/client'],
  });
  fixtures.other = await pki.issueClient({ subject: 'CN=client, O=Example' });
  fixtures.ca = pki.ca;
});

// ---------------------------------------------------------------------------------------------
// Encoders that do what each proxy does (docs/proxies.md), written independently of the decoders.
// ---------------------------------------------------------------------------------------------

const base64 = (der: Buffer) => der.toString('base64');
const sha256Hex = (der: Buffer) => createHash('sha256').update(der).digest('hex');

/** OpenSSL `PEM_write_bio_X509` (nginx, Envoy, ALB): 64-column lines, LF, a final LF. */
function opensslPem(der: Buffer, label = 'CERTIFICATE'): string {
  const lines = base64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Percent-encodes (upper-case hex) every character not matched by `keep`. */
function percentEncode(text: string, keep: RegExp): string {
  return [...text]
    .map((char) =>
      keep.test(char) ? char : `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

/** nginx `$ssl_client_escaped_cert`: `ngx_escape_uri(NGX_ESCAPE_URI_COMPONENT)` keeps `A-Za-z0-9-._~` only. */
const nginxEscapedCert = (der: Buffer) => percentEncode(opensslPem(der), /[A-Za-z0-9\-._~]/);
/** Envoy `PercentEncoding::urlEncode`: keeps `A-Za-z0-9*-._`, everything else `%XX`. */
const envoyUrlEncode = (pem: string) => percentEncode(pem, /[A-Za-z0-9*\-._]/);
/** AWS ALB: URL-encoded PEM "with `+=/` as safe characters". */
const albEncode = (pem: string) => percentEncode(pem, /[A-Za-z0-9\-._~+=/]/);
/** Go `url.QueryEscape` (Traefik v2): unreserved kept, space as `+`, the rest `%XX`. */
const goQueryEscape = (text: string) => percentEncode(text, /[A-Za-z0-9\-._~ ]/).replaceAll(' ', '+');
/** Traefik: each PEM without armour and newlines, i.e. bare base64 DER, joined with `,`. */
const traefikV3 = (ders: Buffer[]) => ders.map(base64).join(',');
const traefikV2 = (ders: Buffer[]) => ders.map((der) => goQueryEscape(base64(der))).join(',');
/** Apache `SSL_CLIENT_CERT` in a header: line breaks folded into spaces. */
const apachePem = (der: Buffer) => opensslPem(der).trim().replaceAll('\n', ' ');

interface XfccElement {
  by?: string;
  der: Buffer;
  cert?: boolean;
  chain?: Buffer[];
  subject?: string;
  uri?: string;
  dns?: string;
}

/** Envoy `set_current_client_cert_details`: By, Hash, then Cert, Chain, Subject (quoted), URI, DNS. */
function envoyXfcc(element: XfccElement): string {
  const pairs: string[] = [];
  if (element.by !== undefined) pairs.push(`By=${element.by}`);
  pairs.push(`Hash=${sha256Hex(element.der)}`);
  if (element.cert !== false) pairs.push(`Cert="${envoyUrlEncode(opensslPem(element.der))}"`);
  if (element.chain)
    pairs.push(`Chain="${element.chain.map((der) => envoyUrlEncode(opensslPem(der))).join('')}"`);
  if (element.subject !== undefined) pairs.push(`Subject="${element.subject}"`);
  if (element.uri !== undefined) pairs.push(`URI=${element.uri}`);
  if (element.dns !== undefined) pairs.push(`DNS=${element.dns}`);
  return pairs.join(';');
}

/** What Envoy's `Subject` looks like: RFC 2253 with its own backslash escapes, then quoted. */
const RFC2253_SUBJECT = String.raw`CN=client,O=Example\, Inc.,OU=\"R&D\";team=a\\b`;

// ---------------------------------------------------------------------------------------------

/** Calls a decoder expecting a refusal, checks the whole outcome, and returns the reason. */
function refusal(format: HeaderFormat, value: string, options?: DecodeOptions): string {
  try {
    HEADER_DECODERS[format](value, options);
  } catch (error) {
    expect(error).toBeInstanceOf(CertificateHeaderError);
    expect(error).toBeInstanceOf(InvalidTokenError);
    const refused = error as CertificateHeaderError;
    expect(refused).toMatchObject({ status: 401, error: 'invalid_token', code: 'certificate_missing' });
    expect(CERTIFICATE_HEADER_REASONS).toContain(refused.reason);
    expect((refused.cause as Error).message).toBe(refused.reason);
    if (typeof value === 'string' && value.length > 8) {
      expect(refused.message).not.toContain(value.slice(0, 8));
      expect(refused.reason).not.toContain(value.slice(0, 8));
    }
    return refused.reason;
  }
  throw new Error(`the ${format} decoder accepted the value`);
}

type Pick = (f: Fixtures) => Certificate;
const appendixA: Pick = (f) => f.appendixA;
const client: Pick = (f) => f.client;

interface Encoding {
  format: HeaderFormat;
  proxy: string;
  encode: (der: Buffer, f: Fixtures) => string;
  options?: DecodeOptions;
}

const ENCODINGS: Encoding[] = [
  {
    format: 'rfc9440',
    proxy: 'HAProxy `:%[ssl_c_der,base64]:` (also Cloudflare, GCP)',
    encode: (der) => `:${base64(der)}:`,
  },
  {
    format: 'base64-der',
    proxy: 'HAProxy `%[ssl_c_der,base64]` and Azure `X-ARR-ClientCert`',
    encode: base64,
  },
  { format: 'url-pem', proxy: 'nginx `$ssl_client_escaped_cert`', encode: nginxEscapedCert },
  {
    format: 'aws-alb',
    proxy: 'AWS ALB verify mode (`+=/` unescaped)',
    encode: (der) => albEncode(opensslPem(der)),
  },
  {
    format: 'aws-alb',
    proxy: 'AWS ALB passthrough mode (leaf, then CA)',
    encode: (der, f) => albEncode(opensslPem(der) + opensslPem(f.ca.der)),
    options: { chain: true },
  },
  {
    format: 'traefik',
    proxy: 'Traefik v2 (QueryEscape, leaf then CA)',
    encode: (der, f) => traefikV2([der, f.ca.der]),
  },
  { format: 'traefik', proxy: 'Traefik v3 (unescaped, leaf only)', encode: (der) => traefikV3([der]) },
  {
    format: 'xfcc',
    proxy: 'Envoy SANITIZE_SET with By, Hash, Cert, Chain, Subject, URI, DNS',
    encode: (der, f) =>
      envoyXfcc({
        by: 'spiffe://cluster.local/ns/default/sa/frontend',
        der,
        chain: [der, f.ca.der],
        subject: RFC2253_SUBJECT,
        uri: 'spiffe://example.org/client',
        dns: 'client.example.org',
      }),
  },
  {
    format: 'xfcc',
    proxy: 'Azure Container Apps `Hash;Cert;Chain`',
    encode: (der, f) => envoyXfcc({ der, chain: [der, f.ca.der] }),
  },
  {
    format: 'xfcc',
    proxy: 'Envoy APPEND_FORWARD after a client-sent element (trustedAppendingHops 0)',
    encode: (der, f) => `${envoyXfcc({ der: f.other.der })},${envoyXfcc({ der })}`,
    options: { trustedAppendingHops: 0 },
  },
  {
    format: 'xfcc',
    proxy: 'two appending Envoy hops, the edge one chosen (trustedAppendingHops 1)',
    encode: (der, f) =>
      [
        envoyXfcc({ der: f.other.der }),
        envoyXfcc({ der, by: 'spiffe://edge' }),
        envoyXfcc({ der: f.ca.der }),
      ].join(','),
    options: { trustedAppendingHops: 1 },
  },
  { format: 'pem', proxy: 'Apache `SSL_CLIENT_CERT` with line breaks folded into spaces', encode: apachePem },
  {
    format: 'pem',
    proxy: 'PEM with CRLF line breaks',
    encode: (der) => opensslPem(der).replaceAll('\n', '\r\n'),
  },
  { format: 'pem', proxy: 'PEM with LF line breaks', encode: (der) => opensslPem(der).trim() },
];

describe.each([
  ['the RFC 8705 Appendix A certificate', appendixA],
  ['a test PKI client certificate', client],
])('decoding %s', (_name, pick) => {
  it.each(ENCODINGS)(
    '$format decodes what $proxy sends into the same DER and thumbprint',
    ({ format, encode, options }) => {
      const certificate = pick(fixtures);
      const der = HEADER_DECODERS[format](encode(certificate.der, fixtures), options);
      expect(der.equals(certificate.der)).toBe(true);
      expect(createHash('sha256').update(der).digest('base64url')).toBe(certificate.thumbprint);
      expect(new X509Certificate(der).raw.equals(der)).toBe(true);
    },
  );
});

describe('the header format registry', () => {
  // The default header names are documented: docs/architecture.md#header-formats.
  it('lists every format with a decoder and its default header name', () => {
    expect([...HEADER_FORMATS]).toEqual([
      'rfc9440',
      'xfcc',
      'url-pem',
      'aws-alb',
      'traefik',
      'base64-der',
      'pem',
    ]);
    expect(Object.keys(HEADER_DECODERS).sort()).toEqual([...HEADER_FORMATS].sort());
    expect(DEFAULT_HEADER_NAMES).toEqual({
      rfc9440: 'client-cert',
      xfcc: 'x-forwarded-client-cert',
      'url-pem': 'x-ssl-client-cert',
      pem: 'x-ssl-client-cert',
      'aws-alb': 'x-amzn-mtls-clientcert-leaf',
      traefik: 'x-forwarded-tls-client-cert',
      'base64-der': 'x-arr-clientcert',
    });
  });

  it('caps header values at 64 KiB before any decoding', () => {
    expect(MAX_CERTIFICATE_HEADER_LENGTH).toBe(64 * 1024);
  });

  it.each(HEADER_FORMATS)('refuses a value that is not a string in %s', (format) => {
    expect(refusal(format, undefined as unknown as string)).toBe('not-a-string');
  });
});

describe('what real proxies also send', () => {
  it('keeps a literal + as + in an ALB value (never a space)', () => {
    const value = albEncode(opensslPem(APPENDIX_A_DER));
    expect(value).toContain('+');
    expect(HEADER_DECODERS['aws-alb'](value).equals(APPENDIX_A_DER)).toBe(true);
  });

  it('accepts the ALB documentation example style with `=` percent-encoded', () => {
    const value = albEncode(opensslPem(APPENDIX_A_DER)).replaceAll('=', '%3D');
    expect(HEADER_DECODERS['aws-alb'](value).equals(APPENDIX_A_DER)).toBe(true);
  });

  it('accepts lower-case percent escapes and older Envoy escaping (only LF, SP, +, /, = escaped)', () => {
    const lower = nginxEscapedCert(APPENDIX_A_DER).replace(/%[0-9A-F]{2}/g, (escaped) =>
      escaped.toLowerCase(),
    );
    expect(HEADER_DECODERS['url-pem'](lower).equals(APPENDIX_A_DER)).toBe(true);
    const old = opensslPem(APPENDIX_A_DER).replace(
      /[\n +/=]/g,
      (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    );
    expect(
      HEADER_DECODERS.xfcc(`Hash=${sha256Hex(APPENDIX_A_DER)};Cert="${old}"`).equals(APPENDIX_A_DER),
    ).toBe(true);
  });

  it('accepts an RFC 9440 byte sequence without padding (RFC 9651 §4.2.7)', () => {
    const unpadded = base64(APPENDIX_A_DER).replace(/=+$/, '');
    expect(HEADER_DECODERS.rfc9440(`:${unpadded}:`).equals(APPENDIX_A_DER)).toBe(true);
  });

  it('reads only the first Traefik element, whatever follows it', () => {
    expect(
      HEADER_DECODERS.traefik(`${base64(fixtures.client.der)},not base64 at all`).equals(fixtures.client.der),
    ).toBe(true);
  });

  it('reads XFCC keys case-insensitively, an upper-case Hash, an unquoted Cert and an empty URI', () => {
    const { der } = fixtures.client;
    const value = `hash=${sha256Hex(der).toUpperCase()};CERT=${envoyUrlEncode(opensslPem(der))};URI=;Subject=""`;
    expect(HEADER_DECODERS.xfcc(value).equals(der)).toBe(true);
  });

  it('treats commas, semicolons, equals and escaped quotes inside XFCC quotes as data', () => {
    const { der } = fixtures.client;
    const value = `By="a,b;c=d";${envoyXfcc({ der, subject: String.raw`x\",y;z=\\` })};${String.raw`Other="\";,="`}`;
    expect(HEADER_DECODERS.xfcc(value).equals(der)).toBe(true);
  });

  it.each([
    ['an open quote', 'By="x'],
    ['an open quote and a trailing backslash', 'By="x\\'],
  ])('does not let a client-sent element with %s swallow the element Envoy appends', (_name, prefix) => {
    const appended = envoyXfcc({ der: fixtures.client.der, subject: 'CN=client' });
    expect(refusal('xfcc', `${prefix},${appended}`, { trustedAppendingHops: 0 })).toBe('xfcc-malformed');
  });

  it('accepts spaces around XFCC separators (Node joins repeated lines with ", ")', () => {
    const { der } = fixtures.client;
    const value = `${envoyXfcc({ der: fixtures.other.der })} , Hash=${sha256Hex(der)} ; Cert="${envoyUrlEncode(opensslPem(der))}"`;
    expect(HEADER_DECODERS.xfcc(value, { trustedAppendingHops: 0 }).equals(der)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed and hostile values: each one is refused with a stable reason.
// ---------------------------------------------------------------------------------------------

interface Refusal {
  format: HeaderFormat;
  name: string;
  value: (f: Fixtures) => string;
  options?: DecodeOptions;
  reason: string;
}

const A = APPENDIX_A_DER;
const A64 = base64(A);
const KiB = 1024;
const withTrailingByte = (der: Buffer) => Buffer.concat([der, Buffer.from([0])]);
const pkcs8Der = (f: Fixtures) => Buffer.from(f.client.key.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
/** nginx's deprecated `$ssl_client_cert`: every line but the first prefixed by a TAB. */
const tabFolded = (der: Buffer) => opensslPem(der).trim().replaceAll('\n', '\n\t');
/** What a form decoder (`+` as space) would have done to the value on the way. */
const plusAsSpace = (text: string) => text.replaceAll('+', ' ');
const xfccOf = (f: Fixtures, element: Partial<XfccElement> = {}) =>
  envoyXfcc({ der: f.client.der, ...element });
const urlCert = (der: Buffer) => envoyUrlEncode(opensslPem(der));

const REFUSALS: Refusal[] = [
  // RFC 9440
  {
    format: 'rfc9440',
    name: 'base64 without the colons',
    value: () => A64,
    reason: 'not-rfc9440-byte-sequence',
  },
  {
    format: 'rfc9440',
    name: 'a missing closing colon',
    value: () => `:${A64}`,
    reason: 'not-rfc9440-byte-sequence',
  },
  {
    format: 'rfc9440',
    name: 'a parameter',
    value: () => `:${A64}:;alg=x`,
    reason: 'not-rfc9440-byte-sequence',
  },
  {
    format: 'rfc9440',
    name: 'a list (Client-Cert-Chain syntax, a chain member after the leaf)',
    value: (f) => `:${A64}:, :${base64(f.ca.der)}:`,
    reason: 'not-rfc9440-byte-sequence',
  },
  { format: 'rfc9440', name: 'a lone colon', value: () => ':', reason: 'not-rfc9440-byte-sequence' },
  {
    format: 'rfc9440',
    name: 'another character in place of the opening colon',
    value: () => `x${A64}:`,
    reason: 'not-rfc9440-byte-sequence',
  },
  { format: 'rfc9440', name: 'an empty byte sequence', value: () => '::', reason: 'base64-malformed' },
  {
    format: 'rfc9440',
    name: 'the base64url alphabet',
    value: () => `:${A.toString('base64url')}:`,
    reason: 'base64-malformed',
  },
  {
    format: 'rfc9440',
    name: 'whitespace inside',
    value: () => `:${A64.slice(0, 64)} ${A64.slice(64)}:`,
    reason: 'base64-malformed',
  },
  {
    format: 'rfc9440',
    name: 'PEM armour inside the colons',
    value: () => `:${opensslPem(A).trim()}:`,
    reason: 'base64-malformed',
  },
  { format: 'rfc9440', name: 'excess padding', value: () => `:${A64}=:`, reason: 'base64-malformed' },
  {
    format: 'rfc9440',
    name: 'non-zero pad bits',
    value: () => `:${A64.replace(/Y=$/, 'Z=')}:`,
    reason: 'base64-malformed',
  },
  {
    format: 'rfc9440',
    name: 'a + decoded as a space',
    value: () => `:${plusAsSpace(A64)}:`,
    reason: 'base64-malformed',
  },
  {
    format: 'rfc9440',
    name: 'trailing garbage after the DER',
    value: () => `:${base64(withTrailingByte(A))}:`,
    reason: 'not-a-certificate',
  },
  {
    format: 'rfc9440',
    name: 'two concatenated certificates',
    value: (f) => `:${base64(Buffer.concat([A, f.ca.der]))}:`,
    reason: 'not-a-certificate',
  },
  {
    format: 'rfc9440',
    name: 'base64 of PEM text',
    value: () => `:${Buffer.from(opensslPem(A)).toString('base64')}:`,
    reason: 'not-a-certificate',
  },
  {
    format: 'rfc9440',
    name: 'a private key',
    value: (f) => `:${base64(pkcs8Der(f))}:`,
    reason: 'not-a-certificate',
  },
  {
    format: 'rfc9440',
    name: 'more than 16 KiB',
    value: () => `:${'A'.repeat(16 * KiB)}:`,
    reason: 'too-large',
  },
  // base64-der
  {
    format: 'base64-der',
    name: 'the base64url alphabet',
    value: () => A.toString('base64url'),
    reason: 'base64-malformed',
  },
  {
    format: 'base64-der',
    name: 'missing padding',
    value: () => A64.replace(/=+$/, ''),
    reason: 'base64-malformed',
  },
  {
    format: 'base64-der',
    name: 'a + decoded as a space',
    value: () => plusAsSpace(A64),
    reason: 'base64-malformed',
  },
  { format: 'base64-der', name: 'RFC 9440 colons', value: () => `:${A64}:`, reason: 'base64-malformed' },
  { format: 'base64-der', name: 'PEM armour', value: () => opensslPem(A), reason: 'base64-malformed' },
  {
    format: 'base64-der',
    name: 'trailing garbage after the DER',
    value: () => base64(withTrailingByte(A)),
    reason: 'not-a-certificate',
  },
  {
    format: 'base64-der',
    name: 'a private key',
    value: (f) => base64(pkcs8Der(f)),
    reason: 'not-a-certificate',
  },
  {
    format: 'base64-der',
    name: 'more than 16 KiB',
    value: () => 'A'.repeat(16 * KiB + 4),
    reason: 'too-large',
  },
  {
    format: 'base64-der',
    name: 'exactly 16 KiB of zeros (the cap itself is not too large)',
    value: () => 'A'.repeat(16 * KiB),
    reason: 'not-a-certificate',
  },
  // url-pem (nginx)
  {
    format: 'url-pem',
    name: 'a % without two hex digits',
    value: () => `${nginxEscapedCert(A)}%G1`,
    reason: 'percent-malformed',
  },
  {
    format: 'url-pem',
    name: 'a truncated % escape',
    value: () => nginxEscapedCert(A).slice(0, -1),
    reason: 'percent-malformed',
  },
  {
    format: 'url-pem',
    name: 'a + decoded as a space (sent as %20)',
    value: () => nginxEscapedCert(A).replaceAll('%2B', '%20'),
    reason: 'pem-malformed',
  },
  {
    format: 'url-pem',
    name: 'two PEM blocks (a chain member after the leaf)',
    value: (f) => percentEncode(opensslPem(f.client.der) + opensslPem(f.ca.der), /[A-Za-z0-9\-._~]/),
    reason: 'pem-multiple-blocks',
  },
  {
    format: 'url-pem',
    name: 'a private key block',
    value: (f) => percentEncode(f.client.key, /[A-Za-z0-9\-._~]/),
    reason: 'pem-not-certificate',
  },
  {
    format: 'url-pem',
    name: 'the certificate followed by its private key',
    value: (f) => percentEncode(opensslPem(f.client.der) + f.client.key, /[A-Za-z0-9\-._~]/),
    reason: 'pem-not-certificate',
  },
  {
    format: 'url-pem',
    name: 'TAB-folded `$ssl_client_cert`',
    value: () => tabFolded(A),
    reason: 'pem-tab-folded',
  },
  { format: 'url-pem', name: 'bare base64 DER', value: () => A64, reason: 'pem-malformed' },
  {
    format: 'url-pem',
    name: 'text before the block',
    value: () => `subject%3DCN%0A${nginxEscapedCert(A)}`,
    reason: 'pem-malformed',
  },
  {
    format: 'url-pem',
    name: 'a block without its END line',
    value: () => nginxEscapedCert(A).split('-----END')[0]!,
    reason: 'pem-malformed',
  },
  { format: 'url-pem', name: 'only whitespace once decoded', value: () => '%20%0A', reason: 'pem-missing' },
  {
    format: 'url-pem',
    name: 'trailing garbage after the DER',
    value: () => nginxEscapedCert(withTrailingByte(A)),
    reason: 'not-a-certificate',
  },
  {
    format: 'url-pem',
    name: 'more than 16 KiB',
    value: () => `${nginxEscapedCert(A)}${'%0A'.repeat(6 * KiB)}`,
    reason: 'too-large',
  },
  // aws-alb
  {
    format: 'aws-alb',
    name: 'a + decoded as a space',
    value: () => plusAsSpace(albEncode(opensslPem(A))),
    reason: 'pem-malformed',
  },
  {
    format: 'aws-alb',
    name: 'a % without two hex digits',
    value: () => `%${albEncode(opensslPem(A))}`,
    reason: 'percent-malformed',
  },
  {
    format: 'aws-alb',
    name: 'a passthrough chain in the verify-mode (leaf) header',
    value: (f) => albEncode(opensslPem(f.client.der) + opensslPem(f.ca.der)),
    reason: 'pem-multiple-blocks',
  },
  {
    format: 'aws-alb',
    name: 'a chain holding a private key block',
    value: (f) => albEncode(opensslPem(f.client.der) + f.client.key),
    options: { chain: true },
    reason: 'pem-not-certificate',
  },
  {
    format: 'aws-alb',
    name: 'a chain whose first block is not base64',
    value: (f) =>
      albEncode(`-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n${opensslPem(f.client.der)}`),
    options: { chain: true },
    reason: 'pem-malformed',
  },
  {
    format: 'aws-alb',
    name: 'a leaf header over 16 KiB',
    value: () => 'A'.repeat(16 * KiB + 1),
    reason: 'too-large',
  },
  {
    format: 'aws-alb',
    name: 'a chain header over 64 KiB',
    value: () => 'A'.repeat(64 * KiB + 1),
    options: { chain: true },
    reason: 'too-large',
  },
  // traefik
  {
    format: 'traefik',
    name: 'an empty first element',
    value: (f) => `,${base64(f.client.der)}`,
    reason: 'traefik-leaf-missing',
  },
  {
    format: 'traefik',
    name: 'PEM armour kept',
    value: () => opensslPem(A).replaceAll('\n', ''),
    reason: 'base64-malformed',
  },
  {
    format: 'traefik',
    name: 'a % without two hex digits',
    value: () => `${goQueryEscape(A64)}%2`,
    reason: 'percent-malformed',
  },
  {
    format: 'traefik',
    name: 'the base64url alphabet',
    value: () => A.toString('base64url'),
    reason: 'base64-malformed',
  },
  {
    format: 'traefik',
    name: 'a + decoded as a space',
    value: () => plusAsSpace(A64),
    reason: 'base64-malformed',
  },
  {
    format: 'traefik',
    name: 'trailing garbage after the DER',
    value: () => base64(withTrailingByte(A)),
    reason: 'not-a-certificate',
  },
  {
    format: 'traefik',
    name: 'a first element over 16 KiB',
    value: () => `${'A'.repeat(16 * KiB + 4)},${A64}`,
    reason: 'too-large',
  },
  {
    format: 'traefik',
    name: 'a first element of exactly 16 KiB of zeros (the cap itself is not too large)',
    value: () => `${'A'.repeat(16 * KiB)},${A64}`,
    reason: 'not-a-certificate',
  },
  {
    format: 'traefik',
    name: 'missing padding (Traefik always pads)',
    value: () => A64.replace(/=+$/, ''),
    reason: 'base64-malformed',
  },
  {
    format: 'traefik',
    name: 'a header over 64 KiB',
    value: () => `${A64},${'A'.repeat(64 * KiB)}`,
    reason: 'too-large',
  },
  // pem
  {
    format: 'pem',
    name: 'TAB-folded nginx `$ssl_client_cert`',
    value: () => tabFolded(A),
    reason: 'pem-tab-folded',
  },
  {
    format: 'pem',
    name: 'two PEM blocks (a chain member after the leaf)',
    value: (f) => opensslPem(f.client.der) + opensslPem(f.ca.der),
    reason: 'pem-multiple-blocks',
  },
  { format: 'pem', name: 'a private key block', value: (f) => f.client.key, reason: 'pem-not-certificate' },
  { format: 'pem', name: 'a percent-encoded PEM', value: () => nginxEscapedCert(A), reason: 'pem-malformed' },
  {
    format: 'pem',
    name: 'explanatory text before the block',
    value: () => `subject=CN=mtls\n${opensslPem(A)}`,
    reason: 'pem-malformed',
  },
  {
    format: 'pem',
    name: 'an END label that differs',
    value: () => opensslPem(A).replace('END CERTIFICATE', 'END X509 CRL'),
    reason: 'pem-malformed',
  },
  {
    format: 'pem',
    name: 'a block inside a block',
    value: () => opensslPem(A).replace('\nMII', '\n-----BEGIN CERTIFICATE-----MII'),
    reason: 'pem-malformed',
  },
  {
    format: 'pem',
    name: 'a + decoded as a space',
    value: () => plusAsSpace(opensslPem(A)),
    reason: 'pem-malformed',
  },
  {
    format: 'pem',
    name: 'trailing garbage after the DER',
    value: () => opensslPem(withTrailingByte(A)),
    reason: 'not-a-certificate',
  },
  {
    format: 'pem',
    name: 'more than 16 KiB',
    value: () => `${opensslPem(A)}${' '.repeat(16 * KiB)}`,
    reason: 'too-large',
  },
  // xfcc
  {
    format: 'xfcc',
    name: 'two elements (a client-sent one joined by Node with ", ")',
    value: (f) => `${xfccOf(f, { der: f.other.der })}, ${xfccOf(f)}`,
    reason: 'xfcc-element-count',
  },
  {
    format: 'xfcc',
    name: 'fewer elements than trustedAppendingHops needs',
    value: (f) => `${xfccOf(f)},${xfccOf(f)}`,
    options: { trustedAppendingHops: 2 },
    reason: 'xfcc-hop-out-of-range',
  },
  {
    format: 'xfcc',
    name: 'a negative trustedAppendingHops',
    value: (f) => xfccOf(f),
    options: { trustedAppendingHops: -1 },
    reason: 'xfcc-hop-out-of-range',
  },
  {
    format: 'xfcc',
    name: 'a Hash that does not match Cert',
    value: (f) => `Hash=${sha256Hex(f.other.der)};Cert="${urlCert(f.client.der)}"`,
    reason: 'xfcc-hash-mismatch',
  },
  {
    format: 'xfcc',
    name: 'a Hash that is not 64 hex digits',
    value: (f) => `Hash=abc;Cert="${urlCert(f.client.der)}"`,
    reason: 'xfcc-hash-malformed',
  },
  {
    format: 'xfcc',
    name: 'a Hash of 65 hex digits (the right one and one more)',
    value: (f) => `Hash=${sha256Hex(f.client.der)}0;Cert="${urlCert(f.client.der)}"`,
    reason: 'xfcc-hash-malformed',
  },
  {
    format: 'xfcc',
    name: 'a Hash with a character before the right one',
    value: (f) => `Hash=x${sha256Hex(f.client.der)};Cert="${urlCert(f.client.der)}"`,
    reason: 'xfcc-hash-malformed',
  },
  {
    format: 'xfcc',
    name: 'a Chain whose first certificate is not Cert',
    value: (f) => xfccOf(f, { chain: [f.ca.der, f.client.der] }),
    reason: 'xfcc-chain-mismatch',
  },
  {
    format: 'xfcc',
    name: 'a chain member (the CA) presented as Cert',
    value: (f) => xfccOf(f, { der: f.ca.der, chain: [f.client.der, f.ca.der] }),
    reason: 'xfcc-chain-mismatch',
  },
  {
    format: 'xfcc',
    name: 'no Cert (Envoy’s default Hash-only element)',
    value: (f) => xfccOf(f, { cert: false }),
    reason: 'xfcc-cert-missing',
  },
  {
    format: 'xfcc',
    name: 'Cert twice in one element',
    value: (f) => `${xfccOf(f)};cert="${urlCert(f.other.der)}"`,
    reason: 'xfcc-duplicate-key',
  },
  {
    format: 'xfcc',
    name: 'Hash twice in one element',
    value: (f) => `HASH=${sha256Hex(f.client.der)};${xfccOf(f)}`,
    reason: 'xfcc-duplicate-key',
  },
  {
    format: 'xfcc',
    name: 'an unterminated quote',
    value: (f) => `Hash=${sha256Hex(f.client.der)};Cert="${urlCert(f.client.der)}`,
    reason: 'xfcc-unterminated-quote',
  },
  {
    format: 'xfcc',
    name: 'a quote ending in a backslash',
    value: () => 'Subject="abc\\',
    reason: 'xfcc-unterminated-quote',
  },
  {
    format: 'xfcc',
    name: 'text after a quoted value',
    value: (f) => `${xfccOf(f)}"x"`,
    reason: 'xfcc-malformed',
  },
  {
    format: 'xfcc',
    name: 'a key without a value',
    value: (f) => `Hash;${xfccOf(f)}`,
    reason: 'xfcc-malformed',
  },
  { format: 'xfcc', name: 'an empty element', value: (f) => `${xfccOf(f)},`, reason: 'xfcc-malformed' },
  { format: 'xfcc', name: 'a trailing semicolon', value: (f) => `${xfccOf(f)};`, reason: 'xfcc-malformed' },
  {
    format: 'xfcc',
    name: 'a quote inside a bare value',
    value: (f) => `By=a"b;${xfccOf(f)}`,
    reason: 'xfcc-malformed',
  },
  {
    format: 'xfcc',
    name: 'a quote between a bare value and the next pair',
    value: (f) => `By=a"${xfccOf(f)}`,
    reason: 'xfcc-malformed',
  },
  {
    format: 'xfcc',
    name: 'a DEL inside a bare value',
    value: (f) => `By=a\u007fb;${xfccOf(f)}`,
    reason: 'xfcc-malformed',
  },
  {
    format: 'xfcc',
    name: 'a pair without a key',
    value: (f) => `=a;${xfccOf(f)}`,
    reason: 'xfcc-malformed',
  },
  {
    format: 'xfcc',
    name: 'a space inside a bare value',
    value: (f) => `By=a b;${xfccOf(f)}`,
    reason: 'xfcc-malformed',
  },
  {
    format: 'xfcc',
    name: 'a control character inside quotes',
    value: (f) => `Subject="a\u0001";${xfccOf(f)}`,
    reason: 'xfcc-malformed',
  },
  {
    format: 'xfcc',
    name: 'a DEL inside quotes',
    value: (f) => `Subject="a\u007f";${xfccOf(f)}`,
    reason: 'xfcc-malformed',
  },
  {
    format: 'xfcc',
    name: 'a backslash escaping a control character inside quotes',
    value: (f) => `Subject="a\\\u0001";${xfccOf(f)}`,
    reason: 'xfcc-malformed',
  },
  {
    format: 'xfcc',
    name: 'a Cert with a malformed %',
    value: () => 'Cert="%2"',
    reason: 'percent-malformed',
  },
  {
    format: 'xfcc',
    name: 'a Cert holding two PEM blocks',
    value: (f) => `Cert="${urlCert(f.client.der)}${urlCert(f.ca.der)}"`,
    reason: 'pem-multiple-blocks',
  },
  {
    format: 'xfcc',
    name: 'a Cert with trailing garbage after the DER',
    value: () => `Cert="${urlCert(withTrailingByte(A))}"`,
    reason: 'not-a-certificate',
  },
  {
    format: 'xfcc',
    name: 'more than 64 KiB',
    value: (f) => `${xfccOf(f)};Subject="${'x'.repeat(64 * KiB)}"`,
    reason: 'too-large',
  },
];

describe('malformed and hostile header values', () => {
  it.each(REFUSALS)('$format refuses $name ($reason)', ({ format, value, options, reason }) => {
    expect(refusal(format, value(fixtures), options)).toBe(reason);
  });

  it('exercises every documented reason', () => {
    const seen = new Set(['not-a-string', ...REFUSALS.map((refused) => refused.reason)]);
    expect([...seen].sort()).toEqual([...CERTIFICATE_HEADER_REASONS].sort());
  });
});

describe('decodeCertificateHeader', () => {
  it('decodes what proxies send to the same certificate', () => {
    expect(x5tS256(decodeCertificateHeader(`:${APPENDIX_A_DER.toString('base64')}:`, 'rfc9440'))).toBe(
      APPENDIX_A_THUMBPRINT,
    );
    expect(x5tS256(decodeCertificateHeader(encodeURIComponent(APPENDIX_A_PEM), 'url-pem'))).toBe(
      APPENDIX_A_THUMBPRINT,
    );
    expect(x5tS256(decodeCertificateHeader(APPENDIX_A_DER.toString('base64'), 'base64-der'))).toBe(
      APPENDIX_A_THUMBPRINT,
    );
  });

  it('throws a CertificateHeaderError with a reason for a malformed value', () => {
    const error = thrownBy(() => decodeCertificateHeader('not-a-certificate', 'rfc9440'));
    expect(error).toBeInstanceOf(CertificateHeaderError);
    expect(error).toMatchObject({
      status: 401,
      error: 'invalid_token',
      code: 'certificate_missing',
      reason: 'not-rfc9440-byte-sequence',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The building blocks on their own: what a decoder's outcome alone does not show.
// ---------------------------------------------------------------------------------------------

/** The reason a building block refuses `run` with. */
function reasonOf(run: () => unknown): string {
  const error = thrownBy(run);
  expect(error).toBeInstanceOf(CertificateHeaderError);
  return (error as CertificateHeaderError).reason;
}

describe('decodeCertificateHeader trimming', () => {
  it('ignores SP and HTAB around the value', () => {
    const value = ` \t:${APPENDIX_A_DER.toString('base64')}:\t `;
    expect(x5tS256(decodeCertificateHeader(value, 'rfc9440'))).toBe(APPENDIX_A_THUMBPRINT);
  });
});

describe('strictPercentDecode', () => {
  it('decodes every hex digit, in either case, and leaves + and the rest as they are', () => {
    expect(strictPercentDecode('%30%39%41%46%61%66%7e%7E+a')).toBe('09AFaf~~+a');
  });

  it.each(['%@0', '%`0', '%/0', '%:0', '%G0', '%g0', '%0', '%'])('refuses %j', (text) => {
    expect(reasonOf(() => strictPercentDecode(text))).toBe('percent-malformed');
  });
});

describe('splitPemBlocks', () => {
  const block = (label: string, body = 'AAAA') => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----`;

  it('reads blocks separated and surrounded by SP, HTAB, CR and LF', () => {
    const blocks = splitPemBlocks(`\t ${block('CERTIFICATE')}\r\n\t${block('X')}\t\n`);
    expect(blocks.map(({ label, body }) => [label, body])).toEqual([
      ['CERTIFICATE', '\nAAAA\n'],
      ['X', '\nAAAA\n'],
    ]);
  });

  it('reads a label of 64 characters and refuses one of 65', () => {
    expect(splitPemBlocks(block('A'.repeat(64)))[0]!.label).toBe('A'.repeat(64));
    expect(reasonOf(() => splitPemBlocks(block('A'.repeat(65))))).toBe('pem-malformed');
  });

  it.each([
    ['a misspelled BEGIN line', block('CERTIFICATE').replace('BEGIN', 'BEGIX')],
    ['a control character at the start of the label', block('\u0001CERTIFICATE')],
    ['a control character at the end of the label', block('CERTIFICATE\u0001')],
    ['a - inside the body', block('CERTIFICATE', 'AA-A')],
    [
      'a block without its END line after leading spaces',
      `${' '.repeat(64)}-----BEGIN CERTIFICATE-----\nAAAA\n`,
    ],
  ])('refuses %s', (_name, text) => {
    expect(reasonOf(() => splitPemBlocks(text))).toBe('pem-malformed');
  });
});

describe('parseXfcc', () => {
  it('splits elements at commas and pairs at semicolons, with SP or HTAB around them', () => {
    expect(parseXfcc('By=a;\tURI=b ,\tBy=c')).toEqual([
      [
        { key: 'by', value: 'a' },
        { key: 'uri', value: 'b' },
      ],
      [{ key: 'by', value: 'c' }],
    ]);
  });

  it('ends a bare value at a comma: the next element is never part of it', () => {
    expect(parseXfcc('By=a,URI=b')).toEqual([[{ key: 'by', value: 'a' }], [{ key: 'uri', value: 'b' }]]);
  });

  it('unescapes quoted-strings and keeps a TAB inside them', () => {
    const tab = '\t';
    expect(parseXfcc(String.raw`Subject="x\"y\\z\a";DNS="a${tab}b"`)).toEqual([
      [
        { key: 'subject', value: 'x"y\\za' },
        { key: 'dns', value: 'a\tb' },
      ],
    ]);
  });
});

describe('decodeXfcc', () => {
  it('decodes a Cert without Hash', () => {
    const { der } = fixtures.client;
    expect(HEADER_DECODERS.xfcc(`Cert="${urlCert(der)}"`).equals(der)).toBe(true);
  });

  it('accepts repeated keys other than Cert, Hash and Chain (Envoy repeats URI and DNS)', () => {
    const { der } = fixtures.client;
    const value = `By=a;By=b;${envoyXfcc({ der, uri: 'spiffe://x' })};URI=spiffe://y;DNS=a;DNS=b`;
    expect(HEADER_DECODERS.xfcc(value).equals(der)).toBe(true);
  });
});
