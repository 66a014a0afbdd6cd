import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DEFAULT_VALIDITY_DAYS = 30;
const DAY_MS = 86_400_000;

/** A certificate with its private key, in the forms tests and TLS options need. */
export interface TestCertificate {
  /** PEM-encoded certificate. */
  cert: string;
  /** PEM-encoded PKCS #8 private key. */
  key: string;
  /** DER bytes of the certificate. */
  der: Buffer;
  /** RFC 8705 §3.1 `x5t#S256` of the certificate, computed independently of @certbound/core. */
  thumbprint: string;
  /** The subject distinguished name (RFC 4514 string). */
  subject: string;
}

export interface IssueOptions {
  /** Subject DN, e.g. `CN=client-a, O=Example`. */
  subject?: string;
  /** DNS subjectAltNames. */
  dns?: string[];
  /** IP subjectAltNames. */
  ip?: string[];
  /** URI subjectAltNames. */
  uri?: string[];
  /** Email (rfc822Name) subjectAltNames. */
  email?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

/** A throw-away certificate authority for tests: never use it outside a test. */
export interface TestPki {
  ca: TestCertificate;
  /** A TLS server certificate for `localhost` and `127.0.0.1`. */
  server: TestCertificate;
  /** Issues a client certificate signed by the CA. */
  issueClient(options?: IssueOptions): Promise<TestCertificate>;
  /** Issues a server certificate signed by the CA. */
  issueServer(options?: IssueOptions): Promise<TestCertificate>;
  /** A self-signed client certificate (RFC 8705 §2.2 `self_signed_tls_client_auth`). */
  selfSigned(options?: IssueOptions): Promise<TestCertificate>;
  /**
   * What an attacker would present with a stolen token: a certificate from the same CA with the
   * same subject as `certificate` but another key (so another `x5t#S256`).
   */
  lookAlike(certificate: Pick<TestCertificate, 'subject'>): Promise<TestCertificate>;
}

let serial = 1;
const nextSerial = () => (serial++).toString(16).padStart(2, '0').padStart(16, '1');

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function toTestCertificate(cert: x509.X509Certificate, keys: CryptoKeyPair): Promise<TestCertificate> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const der = Buffer.from(cert.rawData);
  return {
    cert: cert.toString('pem'),
    key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    der,
    thumbprint: createHash('sha256').update(der).digest('base64url'),
    subject: cert.subject,
  };
}

function subjectAltNames(options: IssueOptions): x509.Extension[] {
  const names: x509.JsonGeneralName[] = [
    ...(options.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ip ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(options.uri ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(options.email ?? []).map((value) => ({ type: 'email' as const, value })),
  ];
  return names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [];
}

function validity(options: IssueOptions) {
  const now = Date.now();
  return {
    notBefore: options.notBefore ?? new Date(now - DAY_MS),
    notAfter: options.notAfter ?? new Date(now + DEFAULT_VALIDITY_DAYS * DAY_MS),
  };
}

/**
 * Creates a certificate authority, a server certificate for loopback, and a way to issue client
 * certificates, all with fresh P-256 keys. Two calls of `issueClient` with the same options give
 * look-alike certificates: same subject and names, different keys and thumbprints.
 */
export async function createTestPki(options: { caSubject?: string } = {}): Promise<TestPki> {
  const caKeys = await generateKeys();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: options.caSubject ?? 'CN=certbound test CA',
    ...validity({}),
    keys: caKeys,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  async function issue(issueOptions: IssueOptions, usage: string): Promise<TestCertificate> {
    const keys = await generateKeys();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: nextSerial(),
      subject: issueOptions.subject ?? 'CN=client',
      issuer: caCert.subject,
      ...validity(issueOptions),
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: EC_P256,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([usage]),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
        ...subjectAltNames(issueOptions),
      ],
    });
    return toTestCertificate(cert, keys);
  }

  const issueServer = (o: IssueOptions = {}) =>
    issue(
      { subject: 'CN=localhost', dns: ['localhost'], ip: ['127.0.0.1', '::1'], ...o },
      x509.ExtendedKeyUsage.serverAuth,
    );
  const issueClient = (o: IssueOptions = {}) => issue(o, x509.ExtendedKeyUsage.clientAuth);

  async function selfSigned(o: IssueOptions = {}): Promise<TestCertificate> {
    const keys = await generateKeys();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: nextSerial(),
      name: o.subject ?? 'CN=self-signed client',
      ...validity(o),
      keys,
      signingAlgorithm: EC_P256,
      extensions: [...subjectAltNames(o)],
    });
    return toTestCertificate(cert, keys);
  }

  return {
    ca: await toTestCertificate(caCert, caKeys),
    server: await issueServer(),
    issueClient,
    issueServer,
    selfSigned,
    lookAlike: (certificate) => issueClient({ subject: certificate.subject }),
  };
}
