import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createTestPki } from '@certbound/testing';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DecodeOptions,
  HEADER_DECODERS,
  HEADER_FORMATS,
  type HeaderFormat,
} from '../src/client-certificate/decoders.js';
import {
  decodeStrictBase64,
  MAX_CHAIN_HEADER_LENGTH,
  MAX_SINGLE_CERTIFICATE_HEADER_LENGTH,
  splitPemBlocks,
  strictPercentDecode,
} from '../src/client-certificate/header-encoding.js';
import {
  CERTIFICATE_HEADER_REASONS,
  CertificateHeaderError,
  type CertificateHeaderReason,
} from '../src/client-certificate/header-error.js';
import { parseXfcc } from '../src/client-certificate/xfcc.js';

const APPENDIX_A_PEM = readFileSync(new URL('./fixtures/rfc8705-appendix-a.pem', import.meta.url), 'utf8');
const APPENDIX_A_DER = Buffer.from(APPENDIX_A_PEM.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');

/** Certificates of different shapes (subjects, SANs, a CA, self-signed, RFC 8705 Appendix A). */
let certificates: Buffer[] = [];
/** A private key in PEM, to mix into PEM arbitraries. */
let privateKeyPem = '';

beforeAll(async () => {
  const pki = await createTestPki();
  const clients = await Promise.all([
    pki.issueClient(),
    pki.issueClient({
      subject: 'CN=a, O=Example\\, Inc.',
      dns: ['a.example'],
      uri: ['spiffe://example.org/a'],
    }),
    pki.issueClient({ subject: 'CN=b', email: ['b@example.org'], ip: ['10.0.0.1'] }),
    pki.selfSigned({ subject: 'CN=self' }),
  ]);
  certificates = [APPENDIX_A_DER, pki.ca.der, ...clients.map((client) => client.der)];
  privateKeyPem = clients[0]!.key;
});

// Encoders as the proxies write them (see header-decoders.test.ts for the sources of each rule).
const base64 = (der: Buffer) => der.toString('base64');
const hex = (char: string) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
const percentEncode = (text: string, keep: RegExp) =>
  [...text].map((c) => (keep.test(c) ? c : hex(c))).join('');
const NGINX_KEEP = /[A-Za-z0-9\-._~]/;
const ENVOY_KEEP = /[A-Za-z0-9*\-._]/;
const ALB_KEEP = /[A-Za-z0-9\-._~+=/]/;

function pem(der: Buffer, lineBreak = '\n', width = 64): string {
  const lines = base64(der).match(new RegExp(`.{1,${width}}`, 'g')) ?? [];
  return ['-----BEGIN CERTIFICATE-----', ...lines, '-----END CERTIFICATE-----'].join(lineBreak) + lineBreak;
}

/** Any character may be sent literally or as `%XX` (upper or lower hex), except `%` itself. */
function mixedPercentEncode(text: string, choices: boolean[]): string {
  return [...text]
    .map((char, i) => {
      const choice = choices[i % Math.max(choices.length, 1)] ?? false;
      if (char !== '%' && !choice) return char;
      const escaped = hex(char);
      return i % 2 === 0 ? escaped : escaped.toLowerCase();
    })
    .join('');
}

const quoted = (text: string) => `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
const sha256Hex = (der: Buffer) => createHash('sha256').update(der).digest('hex');

/** Every decoder, with the options it may be given. */
const anyOptions: fc.Arbitrary<DecodeOptions | undefined> = fc.option(
  fc.record(
    { trustedAppendingHops: fc.integer({ min: -1, max: 3 }), chain: fc.boolean() },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);

/** Throws unless `decode` returned one well-formed certificate or refused with a documented reason. */
function decodesOrRefuses(format: HeaderFormat, value: string, options: DecodeOptions | undefined): void {
  let der: Buffer;
  try {
    der = HEADER_DECODERS[format](value, options);
  } catch (error) {
    if (!(error instanceof CertificateHeaderError)) throw error;
    if (!(CERTIFICATE_HEADER_REASONS as readonly string[]).includes(error.reason)) throw error;
    return;
  }
  expect(Buffer.isBuffer(der)).toBe(true);
  expect(new X509Certificate(der).raw.equals(der)).toBe(true);
}

/** Pieces that make structured garbage for every format. */
const TOKENS = [
  '"',
  '\\',
  ';',
  ',',
  '=',
  ':',
  '%',
  '%2',
  '%0A',
  '%2B',
  '%20',
  '+',
  '/',
  ' ',
  '\t',
  '\r\n',
  '\n',
  'Cert=',
  'HASH=',
  'Chain=',
  'By=',
  'Subject=',
  '-----BEGIN CERTIFICATE-----',
  '-----END CERTIFICATE-----',
  // A key block's first line (spelled in two parts: no key material is kept in the repository).
  `-----BEGIN ${'PRIVATE'} KEY-----`,
  '-----BEGIN%20CERTIFICATE-----',
  'MIIB',
  'AAAA',
  'A',
  '==',
  '\u0000',
  'é',
  '\u{1F600}',
];

/** Real encoded values with random characters replaced, inserted or deleted. */
function mutated(values: () => string[]): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc.nat(),
      fc.array(
        fc.tuple(fc.constantFrom('replace', 'insert', 'delete'), fc.nat(), fc.constantFrom(...TOKENS)),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .map(([pick, edits]) => {
      const all = values();
      let value = all[pick % all.length]!;
      for (const [kind, at, token] of edits) {
        const i = value.length === 0 ? 0 : at % value.length;
        value =
          kind === 'delete'
            ? value.slice(0, i) + value.slice(i + 1)
            : value.slice(0, i) + token + value.slice(kind === 'replace' ? i + 1 : i);
      }
      return value;
    });
}

/** A valid value of each format for a test certificate, and private keys, to mutate. */
function validValues(): string[] {
  const [der, ca] = [certificates[2]!, certificates[1]!];
  return [
    `:${base64(der)}:`,
    base64(der),
    percentEncode(pem(der), NGINX_KEEP),
    percentEncode(pem(der) + pem(ca), ALB_KEEP),
    [der, ca].map(base64).join(','),
    pem(der),
    `Hash=${sha256Hex(der)};Cert="${percentEncode(pem(der), ENVOY_KEEP)}";Subject="CN=x"`,
    pem(der) + privateKeyPem,
    percentEncode(privateKeyPem, NGINX_KEEP),
  ];
}

const garbage = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((parts) => parts.join('')),
    mutated(validValues),
  );

describe.each(HEADER_FORMATS)('the %s decoder on arbitrary input', (format) => {
  it('returns one well-formed certificate or throws a CertificateHeaderError, never anything else', () => {
    fc.assert(
      fc.property(garbage(), anyOptions, (value, options) => decodesOrRefuses(format, value, options)),
      { numRuns: 400 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips: what each proxy sends for any certificate decodes to the same bytes.
// ---------------------------------------------------------------------------------------------

const certificate = () => fc.nat().map((i) => certificates[i % certificates.length]!);
const others = () => fc.array(certificate(), { maxLength: 3 });
const printable = fc.string({
  unit: fc.constantFrom(...'abcXYZ019 ,;="\\/=+-_.:@%é'.split('')),
  maxLength: 30,
});
const keyCase = (key: string) => fc.constantFrom(key, key.toLowerCase(), key.toUpperCase());
const ows = fc.constantFrom('', ' ', '  ', '\t');

/** One Envoy-style element for `der`, with ignored keys in any order and any key case. */
function xfccElement(der: Buffer): fc.Arbitrary<string> {
  return fc
    .record({
      hashKey: keyCase('Hash'),
      upperHash: fc.boolean(),
      certKey: keyCase('Cert'),
      quoteCert: fc.boolean(),
      chain: fc.option(others()),
      by: fc.option(fc.constantFrom('spiffe://cluster.local/ns/a/sa/b', 'http://frontend.lyft.com')),
      subject: fc.option(printable),
      uri: fc.option(fc.constantFrom('', 'spiffe://example.org/x', 'https://x/?a=b')),
      dns: fc.option(fc.constantFrom('a.example', '')),
      extra: fc.option(printable),
      space: ows,
    })
    .chain((r) => {
      const certValue = percentEncode(pem(der), ENVOY_KEEP);
      const pairs = [
        `${r.hashKey}=${r.upperHash ? sha256Hex(der).toUpperCase() : sha256Hex(der)}`,
        `${r.certKey}=${r.quoteCert ? `"${certValue}"` : certValue}`,
        ...(r.chain
          ? [`Chain="${[der, ...r.chain].map((d) => percentEncode(pem(d), ENVOY_KEEP)).join('')}"`]
          : []),
        ...(r.by !== null ? [`By=${r.by}`] : []),
        ...(r.subject !== null ? [`Subject=${quoted(r.subject)}`] : []),
        ...(r.uri !== null ? [`URI=${r.uri}`] : []),
        ...(r.dns !== null ? [`DNS=${r.dns}`] : []),
        ...(r.extra !== null ? [`X-Future=${quoted(r.extra)}`] : []),
      ];
      return fc
        .shuffledSubarray(pairs, { minLength: pairs.length })
        .map((shuffled) => shuffled.join(`${r.space};`));
    });
}

describe('round trips', () => {
  it('rfc9440: `:base64:` with or without padding', () => {
    fc.assert(
      fc.property(certificate(), fc.boolean(), (der, unpadded) => {
        const body = unpadded ? base64(der).replace(/=+$/, '') : base64(der);
        expect(HEADER_DECODERS.rfc9440(`:${body}:`).equals(der)).toBe(true);
      }),
    );
  });

  it('base64-der: padded standard base64', () => {
    fc.assert(
      fc.property(certificate(), (der) => {
        expect(HEADER_DECODERS['base64-der'](base64(der)).equals(der)).toBe(true);
      }),
    );
  });

  it('url-pem: nginx escaping, or any mix of literal and %XX characters', () => {
    fc.assert(
      fc.property(certificate(), fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }), (der, choices) => {
        expect(HEADER_DECODERS['url-pem'](percentEncode(pem(der), NGINX_KEEP)).equals(der)).toBe(true);
        expect(HEADER_DECODERS['url-pem'](mixedPercentEncode(pem(der), choices)).equals(der)).toBe(true);
      }),
    );
  });

  it('aws-alb: the leaf alone, or leaf first in a passthrough chain', () => {
    fc.assert(
      fc.property(certificate(), others(), (der, rest) => {
        expect(HEADER_DECODERS['aws-alb'](percentEncode(pem(der), ALB_KEEP)).equals(der)).toBe(true);
        const chain = percentEncode([der, ...rest].map((d) => pem(d)).join(''), ALB_KEEP);
        expect(HEADER_DECODERS['aws-alb'](chain, { chain: true }).equals(der)).toBe(true);
      }),
    );
  });

  it('traefik: v2 (QueryEscape) or v3 elements, leaf first', () => {
    fc.assert(
      fc.property(certificate(), others(), fc.boolean(), (der, rest, v2) => {
        const element = (d: Buffer) => (v2 ? percentEncode(base64(d), NGINX_KEEP) : base64(d));
        expect(HEADER_DECODERS.traefik([der, ...rest].map(element).join(',')).equals(der)).toBe(true);
      }),
    );
  });

  it('pem: LF, CRLF or space line breaks, 64 or 76 columns', () => {
    fc.assert(
      fc.property(
        certificate(),
        fc.constantFrom('\n', '\r\n', ' '),
        fc.constantFrom(64, 76),
        (der, lineBreak, width) => {
          expect(HEADER_DECODERS.pem(pem(der, lineBreak, width).trim()).equals(der)).toBe(true);
        },
      ),
    );
  });

  it('xfcc: the element of the chosen hop, among any others, whatever the ignored keys say', () => {
    const scenario = fc
      .record({
        der: certificate(),
        before: others(),
        after: others(),
        separator: fc.constantFrom(',', ', ', ' , '),
      })
      .chain(({ der, before, after, separator }) =>
        fc
          .tuple(
            xfccElement(der),
            fc.tuple(...before.map(xfccElement)),
            fc.tuple(...after.map(xfccElement)),
            fc.boolean(),
          )
          .map(([chosen, previous, next, implicit]) => ({
            der,
            chosen,
            previous,
            next,
            separator,
            implicit,
          })),
      );
    fc.assert(
      fc.property(scenario, ({ der, chosen, previous, next, separator, implicit }) => {
        const value = [...previous, chosen, ...next].join(separator);
        const single = previous.length === 0 && next.length === 0 && implicit;
        const options = single ? {} : { trustedAppendingHops: next.length };
        expect(HEADER_DECODERS.xfcc(value, options).equals(der)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Long pathological inputs: what each decoder and helper returns or throws, never how long it
// takes (no timing assertions). Catastrophic regex backtracking is ruled out statically by
// regex-safety.test.ts (recheck analyses every regular expression in packages/core/src); a run
// that hangs fails on the suite's testTimeout (vitest.config.ts).
// ---------------------------------------------------------------------------------------------

const ONE_MIB = 1024 * 1024;

const repeatTo = (pattern: string, length: number) =>
  pattern.repeat(Math.ceil(length / pattern.length)).slice(0, length);

/** What `run` does: the value it returns, or the reason of the CertificateHeaderError it throws. */
type Outcome = { returns: unknown } | { refuses: CertificateHeaderReason };

/** Runs `run`; anything thrown but a CertificateHeaderError fails the test. */
function outcomeOf(run: () => unknown): Outcome {
  try {
    return { returns: run() };
  } catch (error) {
    if (!(error instanceof CertificateHeaderError)) throw error;
    return { refuses: error.reason as CertificateHeaderReason };
  }
}

const refuses = (reason: CertificateHeaderReason): Outcome => ({ refuses: reason });

/** The shared helpers and the XFCC tokenizer: none has a length cap of its own. */
const HELPERS = {
  strictPercentDecode,
  splitPemBlocks,
  decodeStrictBase64: (value: string) => decodeStrictBase64(value, 'optional'),
  parseXfcc,
} satisfies Record<string, (value: string) => unknown>;
type Helper = keyof typeof HELPERS;

/** An expected outcome, or how to compute it from the input (for results as long as the input). */
type Expected = Outcome | ((value: string) => Outcome);

interface Pathological {
  name: string;
  /** The input, exactly `length` characters long. */
  build: (length: number) => string;
  /** The refusal of a decoder at its length cap, where it is not the one in AT_CAP. */
  atCap?: Partial<Record<HeaderFormat, CertificateHeaderReason>>;
  /** The outcome of a helper on 1 MiB, where it is not the one in UNCAPPED. */
  uncapped?: Partial<Record<Helper, Expected>>;
}

/** How each decoder refuses an input that fills its length cap (no input here is a certificate). */
const AT_CAP: Record<HeaderFormat, CertificateHeaderReason> = {
  // Never `:` + base64 + `:` with no other colon.
  rfc9440: 'not-rfc9440-byte-sequence',
  xfcc: 'xfcc-malformed',
  'url-pem': 'pem-malformed',
  'aws-alb': 'pem-malformed',
  // Without a comma, the first element is the whole 64 KiB value: over the 16 KiB leaf cap.
  traefik: 'too-large',
  'base64-der': 'base64-malformed',
  pem: 'pem-malformed',
};

/** What each helper does with 1 MiB of an input. */
const UNCAPPED: Record<Helper, Expected> = {
  // Without a `%`, the input comes back unchanged.
  strictPercentDecode: (value) => ({ returns: value }),
  splitPemBlocks: refuses('pem-malformed'),
  decodeStrictBase64: refuses('base64-malformed'),
  parseXfcc: refuses('xfcc-malformed'),
};

/**
 * A `%` without two hex digits after it: at once for `%` and `%2`; for `%41`, at the end (16 Ki,
 * 64 Ki and 1 Mi are 1 mod 3, so the value ends in `%`).
 */
const TRUNCATED_ESCAPE: Omit<Pathological, 'name' | 'build'> = {
  atCap: { 'url-pem': 'percent-malformed', 'aws-alb': 'percent-malformed' },
  uncapped: { strictPercentDecode: refuses('percent-malformed') },
};

const repeated = (pattern: string, expected: Omit<Pathological, 'name' | 'build'> = {}): Pathological => ({
  name: `${JSON.stringify(pattern.length > 20 ? `${pattern.slice(0, 20)}…` : pattern)} repeated`,
  build: (length) => repeatTo(pattern, length),
  ...expected,
});

/** Inputs built to make a careless parser backtrack or rescan, and what becomes of them. */
const PATHOLOGICAL: Pathological[] = [
  repeated('"'),
  repeated('\\'),
  repeated('%', TRUNCATED_ESCAPE),
  repeated('%2', TRUNCATED_ESCAPE),
  repeated('%41', TRUNCATED_ESCAPE),
  repeated(';'),
  repeated('='),
  repeated(',', { atCap: { traefik: 'traefik-leaf-missing' } }),
  repeated(':'),
  // One pair: key `a`, bare value `a=a=…` (`=` is data in a bare value), and no `Cert`.
  repeated('a=', {
    atCap: { xfcc: 'xfcc-cert-missing' },
    uncapped: { parseXfcc: (value) => ({ returns: [[{ key: 'a', value: value.slice(2) }]] }) },
  }),
  repeated('a=b;'),
  // The first element, `a=b`, is short and not base64.
  repeated('a=b,', { atCap: { traefik: 'base64-malformed' } }),
  repeated('a=b;c="x,y;z=w",', { atCap: { traefik: 'base64-malformed' } }),
  // Valid base64, of bytes that are all zero: not a certificate.
  repeated('A', {
    atCap: { 'base64-der': 'not-a-certificate' },
    uncapped: { decodeStrictBase64: { returns: Buffer.alloc((ONE_MIB / 4) * 3) } },
  }),
  repeated(`${'A'.repeat(63)}\n`),
  repeated('-----BEGIN CERTIFICATE-----'),
  repeated('-----BEGIN CERTIFICATE-----\n'),
  repeated('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
  repeated('-----BEGIN '),
  repeated('-----'),
  {
    name: 'a quoted value of escaped quotes, never closed',
    build: (length) => `a="${repeatTo('\\"', length - 3)}`,
    atCap: { xfcc: 'xfcc-unterminated-quote' },
    uncapped: { parseXfcc: refuses('xfcc-unterminated-quote') },
  },
  {
    name: 'one long quoted value',
    build: (length) => `a="${'x'.repeat(length - 4)}"`,
    atCap: { xfcc: 'xfcc-cert-missing' },
    uncapped: { parseXfcc: (value) => ({ returns: [[{ key: 'a', value: value.slice(3, -1) }]] }) },
  },
  {
    name: 'a PEM block that never ends',
    build: (length) => `-----BEGIN CERTIFICATE-----${'A'.repeat(length - 27)}`,
  },
  { name: 'a PEM label that never ends', build: (length) => `-----BEGIN ${'A'.repeat(length - 11)}` },
];

const capOf = (format: HeaderFormat) =>
  format === 'xfcc' || format === 'traefik' || format === 'aws-alb'
    ? MAX_CHAIN_HEADER_LENGTH
    : MAX_SINGLE_CERTIFICATE_HEADER_LENGTH;

describe.each(HEADER_FORMATS)('the %s decoder on long pathological input', (format) => {
  it.each(PATHOLOGICAL.map((input) => [input.name, input] as const))(
    'refuses 1 MiB of %s as too large',
    (_name, { build }) => {
      const value = build(ONE_MIB);
      expect(value).toHaveLength(ONE_MIB);
      expect(outcomeOf(() => HEADER_DECODERS[format](value, { chain: true }))).toEqual(refuses('too-large'));
    },
  );

  it.each(PATHOLOGICAL.map((input) => [input.name, input] as const))(
    'refuses %s filling its length cap, with the reason expected of it',
    (_name, { build, atCap }) => {
      const value = build(capOf(format));
      expect(value).toHaveLength(capOf(format));
      expect(
        outcomeOf(() => HEADER_DECODERS[format](value, { chain: true, trustedAppendingHops: 0 })),
      ).toEqual(refuses(atCap?.[format] ?? AT_CAP[format]));
    },
  );
});

describe('the shared helpers and the XFCC tokenizer without length caps', () => {
  const cases = (Object.keys(HELPERS) as Helper[]).flatMap((helper) =>
    PATHOLOGICAL.map((input) => ({ helper, input: input.name, pathological: input })),
  );

  it.each(cases)('$helper on 1 MiB of $input returns or refuses as expected', ({ helper, pathological }) => {
    const value = pathological.build(ONE_MIB);
    const expected = pathological.uncapped?.[helper] ?? UNCAPPED[helper];
    expect(outcomeOf(() => HELPERS[helper](value))).toEqual(
      typeof expected === 'function' ? expected(value) : expected,
    );
  });
});
