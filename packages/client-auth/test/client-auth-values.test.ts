import { describe, expect, it } from 'vitest';
import { decodeAttributeValue, prepareString } from '../src/attribute-value.js';
import { DistinguishedNameSyntaxError, parseDistinguishedName } from '../src/distinguished-name.js';
import { parseIpAddress } from '../src/ip-address.js';

const CN = '2.5.4.3';
const text = (value: string) => ({ kind: 'string', text: value });
const hex = (value: string) => Buffer.from(value, 'hex');

describe('parseDistinguishedName (RFC 4514 §3)', () => {
  it.each([
    ['an escaped comma', 'CN=Doe\\, John', 'Doe, John'],
    ['an escaped plus sign', 'CN=a\\+b', 'a+b'],
    [
      'an escaped quotation mark, backslash, angle brackets, semicolon and equals sign',
      'CN=\\"\\\\\\<\\>\\;\\=',
      '"\\<>;=',
    ],
    ['an escaped leading number sign', 'CN=\\#hash', '#hash'],
    ['an unescaped number sign and equals sign inside a value', 'CN=a#b=c', 'a#b=c'],
    ['an escaped leading space', 'CN=\\ leading', ' leading'],
    ['a hex-escaped leading space', 'CN=\\20leading', ' leading'],
    ['an escaped trailing space', 'CN=trailing\\ ', 'trailing '],
    ['unescaped spaces around the value (dropped) and inside it (kept)', 'CN=  a   b  ', 'a   b'],
    ['hex escapes forming UTF-8', 'CN=J\\C3\\BCrgen', 'Jürgen'],
    ['lower-case hex escapes', 'CN=J\\c3\\bcrgen', 'Jürgen'],
    ['literal non-ASCII characters', 'CN=Jürgen 𐁁', 'Jürgen 𐁁'],
    ['an escaped NUL (kept, so that it never matches)', 'CN=a\\00b', 'a\u0000b'],
    ['an empty value', 'CN=', ''],
  ])('reads %s', (_name, dn, value) => {
    expect(parseDistinguishedName(dn)).toEqual([[{ type: CN, value: text(value) }]]);
  });

  it('reads RDNs in string order and multi-valued RDNs as sets, with case-insensitive short names', () => {
    expect(parseDistinguishedName('cn=a + OU=b , o=c,Dc=d,E=e,uid=f,0.9.2342.19200300.100.1.25=g')).toEqual([
      [
        { type: CN, value: text('a') },
        { type: '2.5.4.11', value: text('b') },
      ],
      [{ type: '2.5.4.10', value: text('c') }],
      [{ type: '0.9.2342.19200300.100.1.25', value: text('d') }],
      [{ type: '1.2.840.113549.1.9.1', value: text('e') }],
      [{ type: '0.9.2342.19200300.100.1.1', value: text('f') }],
      [{ type: '0.9.2342.19200300.100.1.25', value: text('g') }],
    ]);
  });

  it('reads a #hex string value as its string and another type as its bytes', () => {
    expect(parseDistinguishedName('CN=#0C03616263,2.5.4.45=#03020780')).toEqual([
      [{ type: CN, value: text('abc') }],
      [{ type: '2.5.4.45', value: { kind: 'binary', ber: hex('03020780') } }],
    ]);
  });

  it.each([
    ['an empty string', '', /empty/],
    ['an unpaired surrogate', 'CN=\ud800', /unpaired surrogate/],
    ['a semicolon separator', 'CN=a;O=b', /";" at offset 4 must be escaped/],
    ['a literal NUL', 'CN=a\u0000b', /"\\00" at offset 4 must be escaped/],
    ['an unknown short name', 'SN=Doe', /unknown attribute type "SN"/],
    ['an OID prefix', 'OID.2.5.4.3=a', /"OID.2.5.4.3" is not an attribute type/],
    ['a value that is not one BER TLV', 'CN=#0C0361626364', /not one BER-encoded value/],
    ['a UTF8String #hex value that is not UTF-8', 'CN=#0C01FF', /not one BER-encoded value/],
    ['hex escapes that are not UTF-8', 'CN=\\FF', /not form UTF-8/],
    ['a lone hex digit after a backslash', 'CN=\\F', /invalid escape/],
    ['a trailing comma', 'CN=a,', /missing "="/],
  ])('refuses %s', (_name, dn, reason) => {
    expect(() => parseDistinguishedName(dn)).toThrow(DistinguishedNameSyntaxError);
    expect(() => parseDistinguishedName(dn)).toThrow(reason);
  });
});

describe('decodeAttributeValue (certificate string types)', () => {
  it.each([
    ['UTF8String', '0c074ac3bc7267656e', text('Jürgen')],
    ['PrintableString', '13074a757267656e20', text('Jurgen ')],
    ['IA5String', '160161', text('a')],
    ['TeletexString as ISO 8859-1', '14064afc7267656e', text('Jürgen')],
    ['BMPString as UTF-16BE', '1e0c004a00fc007200670065006e', text('Jürgen')],
    ['UniversalString as UTF-32BE, beyond U+FFFF', '1c0800010041000000fc', text('𐁁ü')],
    ['a long-form length', '0c8103616263', text('abc')],
    ['a UTF8String that is not UTF-8', '0c02c328', { kind: 'invalid' }],
    ['a PrintableString with a byte above 0x7F', '1301fc', { kind: 'invalid' }],
    ['a BMPString of odd length', '1e03004a00', { kind: 'invalid' }],
    ['a UniversalString beyond U+10FFFF', '1c0400110000', { kind: 'invalid' }],
    ['a UniversalString surrogate', '1c040000d800', { kind: 'invalid' }],
    ['an OCTET STRING (kept as bytes)', '04024142', { kind: 'binary', ber: hex('04024142') }],
    [
      'a constructed string (kept as bytes)',
      '2c050c03616263',
      { kind: 'binary', ber: hex('2c050c03616263') },
    ],
  ])('decodes %s', (_name, ber, expected) => {
    expect(decodeAttributeValue(hex(ber))).toEqual(expected);
  });

  it.each([
    ['trailing bytes', '0c016100'],
    ['a truncated value', '0c0361'],
    ['an indefinite length', '2c800c01610000'],
    ['no length', '0c'],
  ])('refuses %s', (_name, ber) => {
    expect(decodeAttributeValue(hex(ber))).toBeUndefined();
  });
});

describe('prepareString (RFC 4518, caseIgnoreMatch)', () => {
  it.each([
    ['folds case', 'Client A', 'client a'],
    ['removes leading and trailing spaces and collapses inner runs', '  a   b  ', 'a b'],
    ['maps NO-BREAK SPACE and TAB to SPACE', 'a\u00a0\tb', 'a b'],
    ['maps SOFT HYPHEN and ZERO WIDTH SPACE to nothing', 'ad\u00admi\u200bn', 'admin'],
    ['normalises to NFKC', 'ﬁ e\u0301', 'fi é'],
    ['leaves only an empty string of spaces', '   ', ''],
  ])('%s', (_name, value, expected) => {
    expect(prepareString(value)).toBe(expected);
  });

  it.each([
    ['NUL (RFC 8705 §7.5)', 'good\u0000evil'],
    ['a private-use code point', 'a\ue000'],
    ['U+FFFD', 'a\ufffd'],
    ['a non-character', 'a\ufdd0'],
    ['an unpaired surrogate', 'a\ud800'],
  ])('makes a value with %s unmatchable', (_name, value) => {
    expect(prepareString(value)).toBeUndefined();
  });

  it('uses the lower-case mapping, not full case folding: ß is not ss', () => {
    expect(prepareString('Straße')).not.toBe(prepareString('STRASSE'));
  });
});

describe('parseIpAddress (binary form, RFC 5952 §8)', () => {
  it.each([
    ['IPv4', '192.0.2.1', 'c0000201'],
    ['compressed IPv6', '2001:db8::1', '20010db8000000000000000000000001'],
    [
      'full IPv6 in upper case',
      '2001:0DB8:0000:0000:0000:0000:0000:0001',
      '20010db8000000000000000000000001',
    ],
    ['the unspecified address', '::', '00000000000000000000000000000000'],
    ['a trailing ::', '1::', '00010000000000000000000000000000'],
    ['IPv4-mapped IPv6 (16 octets)', '::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    [
      'IPv6 with an embedded dotted quad and no ::',
      '1:2:3:4:5:6:192.0.2.1',
      '000100020003000400050006c0000201',
    ],
  ])('parses %s', (_name, value, octets) => {
    expect(Buffer.from(parseIpAddress(value)!).toString('hex')).toBe(octets);
  });

  it.each([
    ['a zone id', 'fe80::1%eth0'],
    ['brackets', '[::1]'],
    ['a leading zero', '192.0.2.01'],
    ['two ::', '1::2::3'],
    ['a CIDR suffix', '192.0.2.0/24'],
    ['spaces', ' 192.0.2.1'],
    ['a host name', 'localhost'],
  ])('refuses %s', (_name, value) => {
    expect(parseIpAddress(value)).toBeUndefined();
  });
});
