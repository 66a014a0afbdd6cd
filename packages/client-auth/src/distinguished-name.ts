/**
 * `tls_client_auth_subject_dn` (RFC 8705 §2.1, §2.1.2): parses the registered RFC 4514 string and
 * compares it with a certificate's subject by distinguishedNameMatch (RFC 4517 §4.2.15), never as
 * raw strings.
 */
import { type AttributeValue, attributeValuesMatch, decodeAttributeValue } from './attribute-value.js';

/** One attribute-value assertion; `type` is a dotted OID. */
export interface AttributeTypeAndValue {
  type: string;
  value: AttributeValue;
}

/** A relative distinguished name: a set of assertions (more than one in a multi-valued RDN). */
export type RelativeDistinguishedName = readonly AttributeTypeAndValue[];

/**
 * The RFC 4514 §3 short names, plus `emailAddress`/`E` (PKCS #9) and `serialNumber` (RFC 4519
 * §2.31), which are common in certificate subjects. Keys are upper case: names are
 * case-insensitive (RFC 4512 §1.4).
 */
const ATTRIBUTE_TYPES: ReadonlyMap<string, string> = new Map([
  ['CN', '2.5.4.3'],
  ['L', '2.5.4.7'],
  ['ST', '2.5.4.8'],
  ['O', '2.5.4.10'],
  ['OU', '2.5.4.11'],
  ['C', '2.5.4.6'],
  ['STREET', '2.5.4.9'],
  ['DC', '0.9.2342.19200300.100.1.25'],
  ['UID', '0.9.2342.19200300.100.1.1'],
  ['EMAILADDRESS', '1.2.840.113549.1.9.1'],
  ['E', '1.2.840.113549.1.9.1'],
  ['SERIALNUMBER', '2.5.4.5'],
]);

const DESCR = /^[A-Za-z][A-Za-z0-9-]*$/;
const NUMERIC_OID = /^(?:0|[1-9]\d*)(?:\.(?:0|[1-9]\d*))+$/;
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;
const HEX_DIGIT = /^[0-9A-Fa-f]$/;
/** RFC 4514 §3 `special`: what may follow a backslash (besides a hex pair). */
const ESCAPABLE = new Set([' ', '"', '#', '+', ',', ';', '<', '=', '>', '\\']);
/** Characters `stringchar` excludes; they may only appear escaped. */
const MUST_ESCAPE = new Set(['"', ';', '<', '>', '\u0000']);

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Why an RFC 4514 string was refused. */
export class DistinguishedNameSyntaxError extends Error {
  override name = 'DistinguishedNameSyntaxError';
}

/**
 * RFC 4514 §3 parser. Leniencies, all from common practice and none changing a value: spaces
 * around `,` `+` `=` and unescaped leading or trailing spaces of a value are ignored (RFC 4518
 * makes them insignificant anyway). Not accepted: `;` as a separator, quoted values (RFC 1779),
 * `OID.` prefixes, unknown short names.
 */
class Rfc4514Parser {
  private index = 0;

  constructor(private readonly text: string) {}

  parse(): RelativeDistinguishedName[] {
    if (this.text.trim() === '') this.fail('it is empty');
    if (/\p{Cs}/u.test(this.text)) this.fail('it contains an unpaired surrogate');
    const rdns: RelativeDistinguishedName[] = [];
    let rdn: AttributeTypeAndValue[] = [];
    for (;;) {
      rdn.push(this.attributeTypeAndValue());
      this.skipSpaces();
      const separator = this.text[this.index++];
      if (separator === '+') continue;
      rdns.push(rdn);
      rdn = [];
      if (separator === undefined) return rdns;
      if (separator !== ',') this.fail(`unexpected "${separator}" at offset ${this.index - 1}`);
    }
  }

  private fail(reason: string): never {
    throw new DistinguishedNameSyntaxError(reason);
  }

  private skipSpaces(): void {
    while (this.text[this.index] === ' ') this.index++;
  }

  private attributeTypeAndValue(): AttributeTypeAndValue {
    this.skipSpaces();
    const equals = this.text.indexOf('=', this.index);
    if (equals < 0) this.fail(`missing "=" after offset ${this.index}`);
    const name = this.text.slice(this.index, equals).trimEnd();
    this.index = equals + 1;
    this.skipSpaces();
    const value = this.text[this.index] === '#' ? this.hexValue() : this.stringValue();
    return { type: this.attributeType(name), value };
  }

  private attributeType(name: string): string {
    if (NUMERIC_OID.test(name)) return name;
    if (!DESCR.test(name)) this.fail(`"${name}" is not an attribute type`);
    const oid = ATTRIBUTE_TYPES.get(name.toUpperCase());
    if (oid === undefined) this.fail(`unknown attribute type "${name}" (write its dotted OID)`);
    return oid;
  }

  /** RFC 4514 §2.4 `#` hexstring: the BER encoding of the value. */
  private hexValue(): AttributeValue {
    const start = ++this.index;
    while (HEX_DIGIT.test(this.text[this.index] ?? '')) this.index++;
    const hex = this.text.slice(start, this.index);
    if (hex.length === 0 || hex.length % 2 !== 0)
      this.fail(`"#" at offset ${start - 1} must start hex pairs`);
    const value = decodeAttributeValue(Buffer.from(hex, 'hex'));
    if (value === undefined || value.kind === 'invalid') {
      this.fail(`the "#" value at offset ${start - 1} is not one BER-encoded value`);
    }
    return value;
  }

  /** RFC 4514 §3 `string`: escapes and literal characters, collected as UTF-8 bytes. */
  private stringValue(): AttributeValue {
    const bytes: number[] = [];
    let pendingSpaces = 0;
    while (this.index < this.text.length) {
      const char = this.text[this.index]!;
      if (char === ',' || char === '+') break;
      this.index++;
      if (char === ' ') {
        pendingSpaces++;
        continue;
      }
      for (; pendingSpaces > 0; pendingSpaces--) bytes.push(0x20);
      if (char === '\\') {
        bytes.push(this.escaped());
      } else if (MUST_ESCAPE.has(char)) {
        this.fail(`"${char === '\u0000' ? '\\00' : char}" at offset ${this.index - 1} must be escaped`);
      } else {
        const codePoint = this.text.codePointAt(this.index - 1)!;
        if (codePoint > 0xffff) this.index++;
        bytes.push(...Buffer.from(String.fromCodePoint(codePoint), 'utf8'));
      }
    }
    try {
      return { kind: 'string', text: utf8.decode(Uint8Array.from(bytes)) };
    } catch {
      return this.fail('hex escapes in a value do not form UTF-8');
    }
  }

  private escaped(): number {
    const next = this.text[this.index];
    if (next !== undefined && ESCAPABLE.has(next)) {
      this.index++;
      return next.charCodeAt(0);
    }
    const pair = this.text.slice(this.index, this.index + 2);
    if (!HEX_PAIR.test(pair)) this.fail(`invalid escape at offset ${this.index - 1}`);
    this.index += 2;
    return Number.parseInt(pair, 16);
  }
}

/**
 * Parses an RFC 4514 string into RDNs in string order (most specific first).
 *
 * @throws DistinguishedNameSyntaxError if the string is not a distinguished name.
 * @example
 * parseDistinguishedName('CN=Doe\\, John+UID=jd,O=Example') // [[CN, UID], [O]]
 */
export function parseDistinguishedName(text: string): RelativeDistinguishedName[] {
  return new Rfc4514Parser(text).parse();
}

/** Two RDNs are the same set of assertions: the order inside a multi-valued RDN does not count. */
function rdnsMatch(a: RelativeDistinguishedName, b: RelativeDistinguishedName): boolean {
  if (a.length !== b.length) return false;
  const unmatched = [...b];
  return a.every((assertion) => {
    const found = unmatched.findIndex(
      (other) => other.type === assertion.type && attributeValuesMatch(assertion.value, other.value),
    );
    if (found < 0) return false;
    unmatched.splice(found, 1);
    return true;
  });
}

/**
 * distinguishedNameMatch (RFC 4517 §4.2.15): the same number of RDNs, each the same set of
 * assertions as the RDN in the same position. `registered` is in RFC 4514 string order and
 * `subject` in certificate (ASN.1) order: RFC 4514 §2.1 writes the RDNSequence last to first.
 */
export function distinguishedNamesMatch(
  registered: readonly RelativeDistinguishedName[],
  subject: readonly RelativeDistinguishedName[],
): boolean {
  if (registered.length !== subject.length) return false;
  const last = subject.length - 1;
  return registered.every((rdn, index) => rdnsMatch(rdn, subject[last - index]!));
}
