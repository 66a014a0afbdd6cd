/**
 * Reads the names RFC 8705 §2.1.2 compares from a certificate's DER: the subject, with each
 * attribute value's own encoding, and the subjectAltName entries (RFC 5280 §4.1.2.6, §4.2.1.6).
 *
 * `@peculiar/asn1-x509` takes about 100 ms to load and only `tls_client_auth` name comparisons
 * need it, so it is imported on first use, not with this package.
 */
import type * as Asn1Schema from '@peculiar/asn1-schema';
import type * as Asn1X509 from '@peculiar/asn1-x509';
import { type AttributeValue, decodeAttributeValue } from './attribute-value.js';
import type { RelativeDistinguishedName } from './distinguished-name.js';
import { parseIpAddress } from './ip-address.js';

/** The subjectAltName entries compared by `tls_client_auth_san_*`, as they appear in the certificate. */
export interface SubjectAltNames {
  dns: string[];
  uri: string[];
  email: string[];
  /** iPAddress octets: 4 bytes (IPv4) or 16 bytes (IPv6). */
  ip: Uint8Array[];
}

interface RawAttribute {
  type: string;
  value: ArrayBuffer | null;
}

interface SubjectOnly {
  subject: RawAttribute[][];
}

interface Asn1 {
  schema: typeof Asn1Schema;
  x509: typeof Asn1X509;
  /** TBSCertificate with the subject's attribute values kept as their DER encoding. */
  SubjectOnly: new () => SubjectOnly;
}

/**
 * asn1-x509 decodes attribute values to JavaScript strings, losing what this comparison needs
 * (invalid UTF-8, UniversalString beyond U+FFFF), so the subject is read again with a schema
 * whose values are `ANY`. The schema mirrors asn1-x509's TBSCertificate.
 */
function defineSubjectSchema(schema: typeof Asn1Schema, x509: typeof Asn1X509): Asn1['SubjectOnly'] {
  const { AsnArray, AsnProp, AsnPropTypes: Type, AsnType, AsnTypeTypes } = schema;
  class Attribute {
    type = '';
    value: ArrayBuffer | null = null;
  }
  AsnProp({ type: Type.ObjectIdentifier })(Attribute.prototype, 'type');
  AsnProp({ type: Type.Any })(Attribute.prototype, 'value');
  class Rdn extends AsnArray<Attribute> {}
  AsnType({ type: AsnTypeTypes.Set, itemType: Attribute })(Rdn);
  class RdnSequence extends AsnArray<Rdn> {}
  AsnType({ type: AsnTypeTypes.Sequence, itemType: Rdn })(RdnSequence);

  class Tbs {
    version = 0;
    serialNumber = new ArrayBuffer(0);
    signature = new ArrayBuffer(0);
    issuer = new ArrayBuffer(0);
    validity = new ArrayBuffer(0);
    subject = new RdnSequence();
    subjectPublicKeyInfo = new ArrayBuffer(0);
    issuerUniqueID?: ArrayBuffer;
    subjectUniqueID?: ArrayBuffer;
    extensions?: Asn1X509.Extensions;
  }
  const field = (name: keyof Tbs, options: Parameters<typeof AsnProp>[0]) =>
    AsnProp(options)(Tbs.prototype, name);
  field('version', { type: Type.Integer, context: 0, defaultValue: 0 });
  for (const name of ['serialNumber', 'signature', 'issuer', 'validity'] as const)
    field(name, { type: Type.Any });
  field('subject', { type: RdnSequence });
  field('subjectPublicKeyInfo', { type: Type.Any });
  field('issuerUniqueID', { type: Type.BitString, context: 1, implicit: true, optional: true });
  field('subjectUniqueID', { type: Type.BitString, context: 2, implicit: true, optional: true });
  field('extensions', { type: x509.Extensions, context: 3, optional: true });
  return Tbs;
}

let loading: Promise<Asn1> | undefined;

/** Loads the ASN.1 modules once; a failed load is retried on the next call. */
function loadAsn1(): Promise<Asn1> {
  loading ??= Promise.all([import('@peculiar/asn1-schema'), import('@peculiar/asn1-x509')]).then(
    ([schema, x509]) => ({ schema, x509, SubjectOnly: defineSubjectSchema(schema, x509) }),
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

function subjectOf(asn1: Asn1, tbsDer: ArrayBuffer): RelativeDistinguishedName[] {
  const { subject } = asn1.schema.AsnConvert.parse(tbsDer, asn1.SubjectOnly);
  return subject.map((rdn) =>
    rdn.map(({ type, value }) => {
      // asn1-schema returns `null` for an ASN.1 NULL value.
      const ber = value === null ? Uint8Array.of(0x05, 0x00) : new Uint8Array(value);
      const decoded: AttributeValue = decodeAttributeValue(ber) ?? { kind: 'invalid' };
      return { type, value: decoded };
    }),
  );
}

function subjectAltNamesOf(asn1: Asn1, extensions: Asn1X509.Extension[]): SubjectAltNames {
  const names: SubjectAltNames = { dns: [], uri: [], email: [], ip: [] };
  const san = extensions.filter((extension) => extension.extnID === asn1.x509.id_ce_subjectAltName);
  // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
  if (san.length > 1) throw new Error('duplicate subjectAltName extension');
  if (san[0] === undefined) return names;
  const generalNames = asn1.schema.AsnConvert.parse(san[0].extnValue, asn1.x509.SubjectAlternativeName);
  for (const name of generalNames) {
    if (name.dNSName !== undefined) names.dns.push(name.dNSName);
    if (name.uniformResourceIdentifier !== undefined) names.uri.push(name.uniformResourceIdentifier);
    if (name.rfc822Name !== undefined) names.email.push(name.rfc822Name);
    if (name.iPAddress !== undefined) {
      // asn1-x509 renders 4 octets as a dotted quad and 16 as hex groups, both losslessly; other
      // lengths (name-constraint forms) do not parse and never match.
      const octets = parseIpAddress(name.iPAddress);
      if (octets !== undefined) names.ip.push(octets);
    }
  }
  return names;
}

function parseCertificate(asn1: Asn1, der: Uint8Array): Asn1X509.Certificate {
  return asn1.schema.AsnConvert.parse(der, asn1.x509.Certificate);
}

/**
 * The subject of a certificate (already checked to be one DER certificate), in ASN.1 order, or
 * `undefined` if it is malformed. A failure to load the ASN.1 modules is thrown.
 */
export async function readSubject(der: Uint8Array): Promise<RelativeDistinguishedName[] | undefined> {
  const asn1 = await loadAsn1();
  try {
    const tbs = parseCertificate(asn1, der).tbsCertificateRaw;
    return tbs === undefined ? undefined : subjectOf(asn1, tbs);
  } catch {
    return undefined;
  }
}

/** The subjectAltName entries of a certificate, or `undefined` if they are malformed. */
export async function readSubjectAltNames(der: Uint8Array): Promise<SubjectAltNames | undefined> {
  const asn1 = await loadAsn1();
  try {
    return subjectAltNamesOf(asn1, parseCertificate(asn1, der).tbsCertificate.extensions ?? []);
  } catch {
    return undefined;
  }
}
