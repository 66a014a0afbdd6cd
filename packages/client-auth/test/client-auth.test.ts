import 'reflect-metadata';
import { webcrypto, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientCertificateFailure,
  type ClientCertificateMetadata,
  type ClientCertificateRule,
  verifyClientCertificate,
} from '../src/verify-client-certificate.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
let keys: webcrypto.CryptoKeyPair;

beforeAll(async () => {
  keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
});

interface CertificateSpec {
  /** The subject in ASN.1 order (least specific RDN first), as @peculiar/x509 JSON. */
  subject?: x509.JsonNameParams;
  san?: x509.JsonGeneralName[];
}

async function issue({ subject = [{ CN: ['client'] }], san }: CertificateSpec = {}): Promise<Buffer> {
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: new x509.Name(subject),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: san ? [new x509.SubjectAlternativeNameExtension(san)] : [],
  });
  return Buffer.from(certificate.rawData);
}

/**
 * A certificate whose CN is exactly the DER TLV `tlv`, for encodings @peculiar/x509 cannot write.
 * It is issued with a PrintableString placeholder of the same length, then patched in place: the
 * signature no longer verifies, which does not matter here (the TLS layer checks signatures).
 */
async function withRawCommonName(tlv: Buffer): Promise<Buffer> {
  const placeholder = 'P'.repeat(tlv.length - 2);
  const der = await issue({ subject: [{ O: ['Example'] }, { CN: [{ printableString: placeholder }] }] });
  // The last occurrence: a self-signed certificate's issuer (earlier) is the same name.
  const at = der.lastIndexOf(
    Buffer.concat([Buffer.from([0x13, placeholder.length]), Buffer.from(placeholder)]),
  );
  expect(at).toBeGreaterThan(0);
  tlv.copy(der, at);
  return der;
}

const hex = (value: string) => Buffer.from(value, 'hex');
const tlv = (tag: number, content: Buffer) => Buffer.concat([Buffer.from([tag, content.length]), content]);
const pki = (
  metadata: Omit<ClientCertificateMetadata, 'token_endpoint_auth_method'>,
): ClientCertificateMetadata => ({
  token_endpoint_auth_method: 'tls_client_auth',
  ...metadata,
});
/** Asserts a rejection with a TypeError whose message is `message` (exactly, or matching a RegExp). */
async function expectTypeError(result: Promise<unknown>, message: string | RegExp): Promise<void> {
  const error = await result.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(TypeError);
  if (typeof message === 'string') expect((error as TypeError).message).toBe(message);
  else expect((error as TypeError).message).toMatch(message);
}

const matched = (rule: ClientCertificateRule) => ({ ok: true, method: 'tls_client_auth', rule });
const refused = (reason: ClientCertificateFailure) => ({ ok: false, method: 'tls_client_auth', reason });
const verified = { chainVerified: true };

const CLIENT_A: x509.JsonNameParams = [{ C: ['GB'] }, { O: ['Example'] }, { CN: ['Client A'] }];

type Subject = x509.JsonNameParams;
type SanMetadata = Omit<ClientCertificateMetadata, 'token_endpoint_auth_method'>;
const MULTI_VALUED: Subject = [{ O: ['Example'] }, { CN: ['a'], OU: ['b'] }];
const WITH_NUL: Subject = [{ CN: [{ utf8String: 'good\u0000evil' }] }];
const JURGEN_T61 = '#14064AFC7267656E'; // TeletexString "Jürgen" in ISO 8859-1
const CLIENT_A_UTF8 = '#0C08436C69656E742041'; // UTF8String "Client A"
const UNIQUE_ID = '2.5.4.45'; // x500UniqueIdentifier, a BIT STRING

describe('tls_client_auth_subject_dn (distinguishedNameMatch, RFC 4517 §4.2.15)', () => {
  it.each<[string, Subject, string]>([
    ['the subject written in RFC 4514 order (reverse of ASN.1)', CLIENT_A, 'CN=Client A,O=Example,C=GB'],
    ['the subject in other case and with insignificant spaces', CLIENT_A, 'cn=  client   a ,o=EXAMPLE, c=gb'],
    ['dotted OIDs as attribute types', CLIENT_A, '2.5.4.3=Client A,2.5.4.10=Example,2.5.4.6=GB'],
    ['an escaped comma', [{ CN: ['Doe, John'] }], 'CN=Doe\\, John'],
    ['a hex-escaped comma', [{ CN: ['Doe, John'] }], 'CN=Doe\\2C John'],
    ['an escaped plus sign', [{ O: ['a+b'] }], 'O=a\\+b'],
    ['an escaped leading number sign', [{ CN: [{ utf8String: '#hash' }] }], 'CN=\\#hash'],
    ['an escaped leading space (insignificant under RFC 4518)', [{ CN: [' leading'] }], 'CN=\\20leading'],
    ['hex-escaped UTF-8', [{ CN: ['Jürgen'] }], 'CN=J\\C3\\BCrgen'],
    ['literal UTF-8', [{ CN: ['Jürgen'] }], 'CN=Jürgen'],
    ['non-ASCII letters in other case', [{ CN: ['JÜRGEN'] }], 'CN=jürgen'],
    ['a multi-valued RDN in the same order', MULTI_VALUED, 'CN=a+OU=b,O=Example'],
    ['a multi-valued RDN in another order', MULTI_VALUED, 'OU=b+CN=a,O=Example'],
    ['a PrintableString value', [{ CN: [{ printableString: 'Client A' }] }], 'CN=Client A'],
    ['a UTF8String value', [{ CN: [{ utf8String: 'Client A' }] }], 'CN=Client A'],
    ['a BMPString value', [{ CN: [{ bmpString: 'Jürgen' }] }], 'CN=Jürgen'],
    ['a UniversalString value', [{ CN: [{ universalString: 'Jürgen' }] }], 'CN=Jürgen'],
    ['a TeletexString value, read as ISO 8859-1', [{ CN: [JURGEN_T61] }], 'CN=Jürgen'],
    [
      'a #hex UTF8String against a PrintableString',
      [{ CN: [{ printableString: 'Client A' }] }],
      `CN=${CLIENT_A_UTF8}`,
    ],
    [
      'a #hex value of a non-string type, byte for byte',
      [{ [UNIQUE_ID]: ['#03020780'] }],
      `${UNIQUE_ID}=#03020780`,
    ],
    ['emailAddress (IA5) in other case', [{ E: ['Admin@Example.com'] }], 'emailAddress=admin@example.com'],
    ['E as emailAddress', [{ E: ['admin@example.com'] }], 'E=admin@example.com'],
    [
      'DC components in other case',
      [{ DC: ['com'] }, { DC: ['Example'] }, { CN: ['x'] }],
      'CN=x,DC=example,DC=COM',
    ],
    [
      'an attribute without a short name, by OID',
      [{ '2.5.4.97': ['PSDGB-FCA-1'] }, { CN: ['x'] }],
      'CN=x,2.5.4.97=psdgb-fca-1',
    ],
  ])('matches %s', async (_name, subject, dn) => {
    const der = await issue({ subject });
    const client = pki({ tls_client_auth_subject_dn: dn });
    await expect(verifyClientCertificate(der, client, verified)).resolves.toEqual(matched('subject_dn'));
  });

  it.each<[string, Subject, string]>([
    ['the RDNs in another order', CLIENT_A, 'C=GB,O=Example,CN=Client A'],
    ['a registered DN with an extra RDN', CLIENT_A, 'CN=Client A,OU=Payments,O=Example,C=GB'],
    ['a certificate with an extra RDN', [...CLIENT_A, { OU: ['Payments'] }], 'CN=Client A,O=Example,C=GB'],
    ['another value', CLIENT_A, 'CN=Client B,O=Example,C=GB'],
    ['a multi-valued RDN written as two RDNs', MULTI_VALUED, 'CN=a,OU=b,O=Example'],
    [
      'two RDNs written as a multi-valued RDN',
      [{ O: ['Example'] }, { OU: ['b'] }, { CN: ['a'] }],
      'CN=a+OU=b,O=Example',
    ],
    [
      'a #hex value of a non-string type with other bytes',
      [{ [UNIQUE_ID]: ['#03020780'] }],
      `${UNIQUE_ID}=#03020740`,
    ],
    ['a CN with an embedded NUL, registered with the NUL escaped', WITH_NUL, 'CN=good\\00evil'],
    ['a CN with an embedded NUL, registered without it', WITH_NUL, 'CN=goodevil'],
    ['a CN with an embedded NUL, registered up to it', WITH_NUL, 'CN=good'],
  ])('refuses %s', async (_name, subject, dn) => {
    const der = await issue({ subject });
    const client = pki({ tls_client_auth_subject_dn: dn });
    await expect(verifyClientCertificate(der, client, verified)).resolves.toEqual(
      refused('subject_dn_mismatch'),
    );
  });

  it.each<[string, Buffer, string, object]>([
    [
      'decodes a UniversalString beyond U+FFFF as itself',
      tlv(0x1c, hex('00010041')),
      'CN=\\F0\\90\\81\\81',
      matched('subject_dn'),
    ],
    [
      'does not read a UniversalString beyond U+FFFF as its low 16 bits',
      tlv(0x1c, hex('00010041')),
      'CN=A',
      refused('subject_dn_mismatch'),
    ],
    [
      'never matches a PrintableString with a byte above 0x7F',
      tlv(0x13, hex('fc')),
      'CN=ü',
      refused('subject_dn_mismatch'),
    ],
    [
      'never matches a PrintableString with an embedded NUL',
      tlv(0x13, hex('610062')),
      'CN=ab',
      refused('subject_dn_mismatch'),
    ],
    // Node (OpenSSL) refuses to parse it; the decoder's own check is in client-auth-values.test.ts.
    [
      'refuses a certificate whose UTF8String is not UTF-8',
      tlv(0x0c, hex('c328')),
      'CN=Ã(',
      refused('certificate_invalid'),
    ],
  ])('%s', async (_name, value, dn, expected) => {
    const der = await withRawCommonName(value);
    const client = pki({ tls_client_auth_subject_dn: `${dn},O=Example` });
    await expect(verifyClientCertificate(der, client, verified)).resolves.toEqual(expected);
  });

  it.each([
    ['only spaces', '   '],
    ['semicolons as separators (RFC 2253, not RFC 4514)', 'CN=a;O=b'],
    ['an unescaped plus sign', 'CN=x,O=a+b'],
    ['an unknown short name', 'GN=John'],
    ['an OID with a leading zero', '2.5.4.03=x'],
    ['a quoted value (RFC 1779)', 'CN="Doe, John"'],
    ['an odd number of hex digits after "#"', 'CN=#0C0'],
    ['"#" not followed by hex (an unescaped leading "#")', 'CN=#hash'],
    ['a "#" value that is not one BER value', 'CN=#0C0541'],
    ['hex escapes that are not UTF-8', 'CN=J\\FCrgen'],
    ['a dangling backslash', 'CN=a\\'],
    ['an invalid escape', 'CN=a\\x'],
    ['a missing attribute type', '=a'],
    ['a missing "="', 'CN'],
    ['an empty RDN', 'CN=a,,O=b'],
  ])('throws a TypeError for a malformed DN: %s', async (_name, dn) => {
    const der = await issue({ subject: CLIENT_A });
    await expectTypeError(
      verifyClientCertificate(der, pki({ tls_client_auth_subject_dn: dn }), verified),
      /^Invalid client metadata: "tls_client_auth_subject_dn" must be an RFC 4514 distinguished name: /,
    );
  });
});

const dns = (...values: string[]): CertificateSpec => ({
  san: values.map((value) => ({ type: 'dns', value })),
});
const uri = (value: string): CertificateSpec => ({ san: [{ type: 'url', value }] });
const email = (value: string): CertificateSpec => ({ san: [{ type: 'email', value }] });
const ip = (value: string): CertificateSpec => ({ san: [{ type: 'ip', value }] });
const ruleOf = (metadata: SanMetadata) =>
  Object.keys(metadata)[0]!.replace('tls_client_auth_', '') as ClientCertificateRule;

describe('tls_client_auth_san_* (RFC 8705 §2.1.2)', () => {
  it.each<[string, CertificateSpec, SanMetadata]>([
    [
      'a dNSName in other ASCII case',
      dns('Client.Example.COM'),
      { tls_client_auth_san_dns: 'client.example.com' },
    ],
    [
      'any of several dNSNames',
      dns('a.example.com', 'b.example.com'),
      { tls_client_auth_san_dns: 'b.example.com' },
    ],
    [
      'a wildcard dNSName only as the same literal string',
      dns('*.example.com'),
      { tls_client_auth_san_dns: '*.example.com' },
    ],
    [
      'a URI exactly',
      uri('https://client.example.com/id'),
      { tls_client_auth_san_uri: 'https://client.example.com/id' },
    ],
    [
      'an email whose domain is in other case',
      email('Alice@Example.COM'),
      { tls_client_auth_san_email: 'Alice@example.com' },
    ],
    ['an IPv4 address', ip('192.0.2.1'), { tls_client_auth_san_ip: '192.0.2.1' }],
    [
      'the full form of a compressed IPv6 SAN',
      ip('2001:db8::1'),
      { tls_client_auth_san_ip: '2001:0DB8:0:0:0:0:0:0001' },
    ],
    [
      'the compressed form of a full IPv6 SAN',
      ip('2001:db8:0:0:0:0:0:1'),
      { tls_client_auth_san_ip: '2001:db8::1' },
    ],
    [
      'an IPv4-mapped address written dotted, against its 16 octets',
      ip('::ffff:c000:201'),
      { tls_client_auth_san_ip: '::ffff:192.0.2.1' },
    ],
  ])('matches %s', async (_name, spec, metadata) => {
    const der = await issue(spec);
    await expect(verifyClientCertificate(der, pki(metadata), verified)).resolves.toEqual(
      matched(ruleOf(metadata)),
    );
  });

  it.each<[string, CertificateSpec, SanMetadata]>([
    [
      'a dNSName with an embedded NUL',
      dns('good.example.com\u0000.evil.com'),
      { tls_client_auth_san_dns: 'good.example.com' },
    ],
    [
      'a name under a wildcard dNSName (no pattern matching)',
      dns('*.example.com'),
      { tls_client_auth_san_dns: 'client.example.com' },
    ],
    [
      'a dNSName under a registered wildcard (no pattern matching)',
      dns('client.example.com'),
      { tls_client_auth_san_dns: '*.example.com' },
    ],
    [
      'a subject CN in place of a dNSName',
      { subject: [{ CN: ['client.example.com'] }] },
      { tls_client_auth_san_dns: 'client.example.com' },
    ],
    [
      'a URI in other case (no normalisation)',
      uri('https://client.example.com/id'),
      { tls_client_auth_san_uri: 'https://CLIENT.example.com/id' },
    ],
    [
      'a URI with another path (no normalisation)',
      uri('https://client.example.com/id'),
      { tls_client_auth_san_uri: 'https://client.example.com/id/' },
    ],
    [
      'a URI with an embedded NUL',
      uri('https://good.example.com\u0000.evil.com/'),
      { tls_client_auth_san_uri: 'https://good.example.com' },
    ],
    [
      'an email whose local part is in other case',
      email('Alice@example.com'),
      { tls_client_auth_san_email: 'alice@example.com' },
    ],
    [
      'an email with an embedded NUL',
      email('alice@example.com\u0000.evil.com'),
      { tls_client_auth_san_email: 'alice@example.com' },
    ],
    [
      'a subject emailAddress in place of an rfc822Name',
      { subject: [{ E: ['alice@example.com'] }] },
      { tls_client_auth_san_email: 'alice@example.com' },
    ],
    [
      'an IPv4-mapped address for a 4-octet IPv4 SAN',
      ip('192.0.2.1'),
      { tls_client_auth_san_ip: '::ffff:192.0.2.1' },
    ],
    [
      'an IPv4 address for a 16-octet IPv4-mapped SAN',
      ip('::ffff:c000:201'),
      { tls_client_auth_san_ip: '192.0.2.1' },
    ],
    ['a dNSName in place of an iPAddress', dns('192.0.2.1'), { tls_client_auth_san_ip: '192.0.2.1' }],
  ])('refuses %s', async (_name, spec, metadata) => {
    const der = await issue(spec);
    const expected = refused(`${ruleOf(metadata)}_mismatch` as ClientCertificateFailure);
    await expect(verifyClientCertificate(der, pki(metadata), verified)).resolves.toEqual(expected);
  });

  const DNS = 'a DNS name in ASCII (A-label) form without a trailing dot';
  const EMAIL = 'an email address (local-part@domain)';
  const IP = 'an IPv4 address in dotted decimal or an IPv6 address (RFC 5952) without a zone id';
  it.each<[string, SanMetadata, string]>([
    ['a DNS name with a trailing dot', { tls_client_auth_san_dns: 'client.example.com.' }, DNS],
    ['a DNS name in U-label form', { tls_client_auth_san_dns: 'bücher.example' }, DNS],
    ['a DNS name with NUL', { tls_client_auth_san_dns: 'good.example.com\u0000.evil.com' }, DNS],
    ['an email without "@"', { tls_client_auth_san_email: 'alice.example.com' }, EMAIL],
    ['an email with an empty local part', { tls_client_auth_san_email: '@example.com' }, EMAIL],
    ['an IPv6 address with a zone id', { tls_client_auth_san_ip: 'fe80::1%eth0' }, IP],
    ['an IPv4 address with a leading zero', { tls_client_auth_san_ip: '192.0.2.01' }, IP],
    ['a bracketed IPv6 address', { tls_client_auth_san_ip: '[2001:db8::1]' }, IP],
    ['a CIDR block', { tls_client_auth_san_ip: '192.0.2.0/24' }, IP],
  ])('throws a TypeError for %s', async (_name, metadata, requirement) => {
    const der = await issue(dns('client.example.com'));
    const message = `Invalid client metadata: "${Object.keys(metadata)[0]}" must be ${requirement}`;
    await expectTypeError(verifyClientCertificate(der, pki(metadata), verified), message);
  });
});

describe('tls_client_auth: chain, certificate and metadata', () => {
  const metadata = pki({ tls_client_auth_subject_dn: 'CN=Client A,O=Example,C=GB' });

  it.each([
    ['without options', undefined],
    ['with chainVerified false', { chainVerified: false }],
    ['with chainVerified a truthy non-boolean', { chainVerified: 'true' as unknown as boolean }],
  ])('refuses a matching certificate whose chain was not verified: %s', async (_name, options) => {
    const der = await issue({ subject: CLIENT_A });
    await expect(verifyClientCertificate(der, metadata, options)).resolves.toEqual(
      refused('chain_not_verified'),
    );
  });

  it('returns certificate_invalid for a certificate with two subjectAltName extensions (RFC 5280 §4.2)', async () => {
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=client',
      keys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'other.example.com' }]),
        new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'client.example.com' }]),
      ],
    });
    const client = pki({ tls_client_auth_san_dns: 'client.example.com' });
    await expect(
      verifyClientCertificate(Buffer.from(certificate.rawData), client, verified),
    ).resolves.toEqual(refused('certificate_invalid'));
  });

  it('accepts the certificate as DER, PEM or X509Certificate', async () => {
    const der = await issue({ subject: CLIENT_A });
    const pem = new X509Certificate(der).toString();
    for (const input of [der, new Uint8Array(der), pem, new X509Certificate(der)]) {
      await expect(verifyClientCertificate(input, metadata, verified)).resolves.toEqual(
        matched('subject_dn'),
      );
    }
  });

  it.each([
    ['random bytes', () => Buffer.from('not a certificate')],
    ['DER with a trailing byte', async () => Buffer.concat([await issue(), Buffer.from([0])])],
    ['two PEM blocks', async () => new X509Certificate(await issue()).toString().repeat(2)],
    ['undefined', () => undefined],
  ])('returns certificate_invalid for %s', async (_name, make) => {
    const input = (await make()) as Buffer;
    await expect(verifyClientCertificate(input, metadata, verified)).resolves.toEqual(
      refused('certificate_invalid'),
    );
  });

  it('throws a TypeError naming both parameters when two are set', async () => {
    const client = pki({
      tls_client_auth_subject_dn: 'CN=Client A',
      tls_client_auth_san_dns: 'client.example.com',
    });
    await expectTypeError(
      verifyClientCertificate(await issue(), client, verified),
      'Invalid client metadata: "tls_client_auth_subject_dn" must be the only subject parameter, but "tls_client_auth_san_dns" is also set (RFC 8705 §2.1.2: exactly one)',
    );
  });

  it('throws a TypeError when no subject parameter is set, even for an invalid certificate', async () => {
    await expectTypeError(
      verifyClientCertificate(Buffer.alloc(0), pki({}), verified),
      'Invalid client metadata: one of "tls_client_auth_subject_dn", "tls_client_auth_san_dns", "tls_client_auth_san_uri", "tls_client_auth_san_ip", "tls_client_auth_san_email" must be set for "tls_client_auth" (RFC 8705 §2.1.2: exactly one)',
    );
  });

  it('treats a null parameter as absent', async () => {
    const client = pki({ tls_client_auth_subject_dn: null, tls_client_auth_san_dns: 'client.example.com' });
    const der = await issue(dns('client.example.com'));
    await expect(verifyClientCertificate(der, client, verified)).resolves.toEqual(matched('san_dns'));
  });

  it.each([
    ['an empty string', ''],
    ['a number', 42],
  ])('throws a TypeError for a parameter that is %s', async (_name, value) => {
    const client = pki({ tls_client_auth_san_uri: value as string });
    await expectTypeError(
      verifyClientCertificate(await issue(), client, verified),
      'Invalid client metadata: "tls_client_auth_san_uri" must be a non-empty string',
    );
  });

  it.each([
    ['client_secret_basic', { token_endpoint_auth_method: 'client_secret_basic' }],
    ['a missing method', {}],
  ])('throws a TypeError for %s', async (_name, client) => {
    await expectTypeError(
      verifyClientCertificate(await issue(), client as unknown as ClientCertificateMetadata, verified),
      'Invalid client metadata: "token_endpoint_auth_method" must be "tls_client_auth" or "self_signed_tls_client_auth"',
    );
  });
});

describe('self_signed_tls_client_auth (RFC 8705 §2.2)', () => {
  const selfSigned = (jwks: unknown): ClientCertificateMetadata =>
    ({ token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks }) as ClientCertificateMetadata;
  const registered = { ok: true, method: 'self_signed_tls_client_auth', rule: 'x5c' };
  const notRegistered = {
    ok: false,
    method: 'self_signed_tls_client_auth',
    reason: 'certificate_not_registered',
  };
  let der: Buffer;
  let other: Buffer;

  beforeAll(async () => {
    // base64url must differ from base64 for the test below: ask for a DER whose base64 has + or /.
    do der = await issue({ subject: [{ CN: ['self-signed client'] }] });
    while (!/[+/]/.test(der.toString('base64')));
    other = await issue({ subject: [{ CN: ['someone else'] }] });
  });

  it.each<[string, () => unknown, object]>([
    [
      'matches x5c[0] of the only key',
      () => ({ keys: [{ kty: 'EC', x5c: [der.toString('base64')] }] }),
      registered,
    ],
    [
      'matches x5c[0] of a later key',
      () => ({ keys: [{ x5c: [other.toString('base64')] }, { x5c: [der.toString('base64')] }] }),
      registered,
    ],
    [
      'skips keys without x5c',
      () => ({ keys: [{ kty: 'RSA', use: 'sig' }, { x5c: [der.toString('base64')] }] }),
      registered,
    ],
    ['refuses another certificate', () => ({ keys: [{ x5c: [other.toString('base64')] }] }), notRegistered],
    [
      'compares only x5c[0], not the rest of the chain',
      () => ({ keys: [{ x5c: [other.toString('base64'), der.toString('base64')] }] }),
      notRegistered,
    ],
    [
      'does not match x5c[0] in base64url',
      () => ({ keys: [{ x5c: [der.toString('base64url')] }, { x5c: [other.toString('base64')] }] }),
      notRegistered,
    ],
    [
      'does not match x5c[0] with line breaks',
      () => ({
        keys: [
          { x5c: [der.toString('base64').replace(/(.{64})/g, '$1\n')] },
          { x5c: [other.toString('base64')] },
        ],
      }),
      notRegistered,
    ],
  ])('%s', async (_name, jwks, expected) => {
    await expect(verifyClientCertificate(der, selfSigned(jwks()))).resolves.toEqual(expected);
  });

  it('does not need chainVerified (the certificate is self-signed)', async () => {
    const jwks = { keys: [{ x5c: [der.toString('base64')] }] };
    await expect(verifyClientCertificate(der, selfSigned(jwks), { chainVerified: false })).resolves.toEqual(
      registered,
    );
  });

  it('returns certificate_invalid for a certificate that is not one', async () => {
    const jwks = { keys: [{ x5c: [der.toString('base64')] }] };
    await expect(verifyClientCertificate(Buffer.from('junk'), selfSigned(jwks))).resolves.toEqual({
      ok: false,
      method: 'self_signed_tls_client_auth',
      reason: 'certificate_invalid',
    });
  });

  it.each<[string, () => unknown, RegExp]>([
    [
      'only base64url x5c values',
      () => ({ keys: [{ x5c: [der.toString('base64url')] }] }),
      /"jwks" must be a JWK Set with at least one key whose "x5c" starts with a base64 \(not base64url\)/,
    ],
    ['no keys', () => ({ keys: [] }), /"jwks" must be a JWK Set with at least one key/],
    [
      'keys that is not an array',
      () => ({ keys: 'x' }),
      /"jwks" must be a JWK Set \(\{ keys: \[\.\.\.\] \}\)/,
    ],
    ['no jwks', () => undefined, /"jwks" must be a JWK Set/],
  ])('throws a TypeError for %s', async (_name, jwks, message) => {
    await expectTypeError(verifyClientCertificate(der, selfSigned(jwks())), message);
  });

  it('throws a TypeError telling the caller to resolve jwks_uri', async () => {
    const client = {
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks_uri: 'https://client.example.com/jwks',
    } as const;
    await expectTypeError(
      verifyClientCertificate(der, client),
      'Invalid client metadata: "jwks" must be set: "jwks_uri" is not fetched here; fetch it and pass the JWK Set as "jwks"',
    );
  });
});

describe('module loading', () => {
  it('imports @peculiar/asn1-* only lazily (types and dynamic import), never statically', () => {
    const directory = new URL('../src/', import.meta.url);
    for (const file of readdirSync(directory)) {
      const source = readFileSync(new URL(file, directory), 'utf8');
      expect(source, file).not.toMatch(/^import (?!type )[^;]*from '@peculiar\//m);
      expect(source, file).not.toContain("'@peculiar/x509'");
    }
  });
});
