/**
 * Properties of the `htu` comparison (RFC 9449 §4.3 step 9: the request URI, query and fragment
 * ignored, after RFC 3986 §6.2.2 syntax-based and §6.2.3 scheme-based normalization), checked with
 * fast-check against the core's `normalizeHtu` / `requestHtu` and against a reference RFC 3986
 * path normalizer written here from the RFC text (percent-encodings in upper case, unreserved
 * characters decoded, `remove_dot_segments` of §5.2.4, an empty path as `/`).
 *
 * The generators build URIs from RFC 3986 parts (scheme, reg-name or IPv4 host, port, `pchar`
 * segments), then respell them the ways the RFC calls equivalent: scheme and host case, the
 * default port written out (or an empty port), lower-case hex in percent-encodings, unreserved
 * characters percent-encoded, dot segments. Counterexamples found once are kept as `examples`,
 * so that a failure does not depend on the seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeHtu, normalizeOrigin, requestHtu } from '../../packages/core/src/dpop/htu.js';

const RUNS = { numRuns: 400 };

// ---------------------------------------------------------------------------------------------
// RFC 3986 reference
// ---------------------------------------------------------------------------------------------

/** `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"` (RFC 3986 §2.3). */
const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
/** `pchar` characters other than unreserved ones: sub-delims, ":" and "@" (RFC 3986 §3.3). */
const OTHER_PCHAR = "!$&'()*+,;=:@";
/** Characters a path may only carry percent-encoded: gen-delims, "%", space, non-ASCII bytes. */
const ENCODED_ONLY = ['/', '?', '#', '[', ']', '%', ' ', '"', '<', '>', '\u00e9', '\u20ac'];

const upperHex = (byte: number) => byte.toString(16).toUpperCase().padStart(2, '0');
/** The UTF-8 percent-encoding of `char`, hex in upper case. */
const percentEncode = (char: string) => [...Buffer.from(char, 'utf8')].map((b) => `%${upperHex(b)}`).join('');

/** RFC 3986 §5.2.4. */
function removeDotSegments(path: string): string {
  let input = path;
  let output = '';
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = input.slice(2);
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../') || input === '/..') {
      input = input === '/..' ? '/' : input.slice(3);
      output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
    } else if (input === '.' || input === '..') input = '';
    else {
      const segment = /^\/?[^/]*/.exec(input)![0];
      output += segment;
      input = input.slice(segment.length);
    }
  }
  return output;
}

/** RFC 3986 §6.2.2 and §6.2.3 for an absolute path (every `%` starting a valid triplet). */
function referencePath(path: string): string {
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.includes(char) ? char : `%${hex.toUpperCase()}`;
  });
  return removeDotSegments(decoded) || '/';
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

const scheme = fc.constantFrom('http', 'https');
const label = fc.stringMatching(/^[a-z0-9]{1,8}$/);
/** A reg-name whose last label is letters (a numeric last label would make it an IPv4 host). */
const regName = fc
  .tuple(fc.array(label, { maxLength: 3 }), fc.stringMatching(/^[a-z]{2,6}$/))
  .map(([labels, tld]) => [...labels, tld].join('.'));
const host = fc.oneof({ weight: 4, arbitrary: regName }, { weight: 1, arbitrary: fc.ipV4() });

/** One path character in canonical form: unreserved, another pchar, or a percent-encoding in upper case. */
const canonicalChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...UNRESERVED) },
  { weight: 2, arbitrary: fc.constantFrom(...OTHER_PCHAR) },
  { weight: 2, arbitrary: fc.constantFrom(...ENCODED_ONLY).map(percentEncode) },
);
/** A canonical segment: never "." or ".." (a dot segment is not in normal form). */
const canonicalSegment = fc
  .array(canonicalChar, { minLength: 1, maxLength: 6 })
  .map((chars) => chars.join(''))
  .filter((segment) => segment !== '.' && segment !== '..');

interface Parts {
  scheme: string;
  host: string;
  /** A port other than the scheme's default, or none. */
  port: number | undefined;
  segments: string[];
  trailingSlash: boolean;
}

const parts: fc.Arbitrary<Parts> = fc
  .record({
    scheme,
    host,
    port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    segments: fc.array(canonicalSegment, { maxLength: 4 }),
    trailingSlash: fc.boolean(),
  })
  .filter(({ scheme: s, port }) => port !== (s === 'https' ? 443 : 80));

function canonicalPath({ segments, trailingSlash }: Parts): string {
  if (segments.length === 0) return '/';
  return `/${segments.join('/')}${trailingSlash ? '/' : ''}`;
}

/** The URI in RFC 3986 normal form. */
function canonical(p: Parts): string {
  return `${p.scheme}://${p.host}${p.port === undefined ? '' : `:${p.port}`}${canonicalPath(p)}`;
}

/** `text` with each letter's case chosen by `flips`. */
function recase(text: string, flips: boolean[]): string {
  return [...text]
    .map((char, i) => (flips[i % flips.length] ? char.toUpperCase() : char.toLowerCase()))
    .join('');
}

/** A respelling of one canonical segment: unreserved characters percent-encoded, hex in either case. */
function segmentSpelling(segment: string): fc.Arbitrary<string> {
  const tokens = segment.match(/%[0-9A-F]{2}|./g) ?? [];
  return fc.tuple(...tokens.map(() => fc.tuple(fc.boolean(), fc.boolean()))).map((choices) =>
    tokens
      .map((token, i) => {
        const [encode, lower] = choices[i]!;
        const triplet = token.startsWith('%')
          ? token
          : encode && UNRESERVED.includes(token)
            ? percentEncode(token)
            : undefined;
        if (triplet === undefined) return token;
        return lower ? `%${triplet.slice(1).toLowerCase()}` : triplet;
      })
      .join(''),
  );
}

/** A dot-segment detour to put before a segment: none, "./", or "<segment>/../". */
const detour = fc.oneof(
  { weight: 3, arbitrary: fc.constant([] as string[]) },
  { weight: 1, arbitrary: fc.constantFrom(['.'], ['%2e'], ['%2E']) },
  { weight: 1, arbitrary: canonicalSegment.map((s) => [s, '..']) },
  { weight: 1, arbitrary: canonicalSegment.map((s) => [s, '%2e%2E']) },
);

/** An RFC 3986-equivalent spelling of the canonical URI of `p`. */
function spelling(p: Parts): fc.Arbitrary<string> {
  const segments = fc.tuple(...p.segments.map((s) => fc.tuple(detour, segmentSpelling(s))));
  const defaultPort = p.scheme === 'https' ? ':443' : ':80';
  // RFC 3986 §6.2.3: an empty port, or the scheme's default, is the same as none.
  const port = p.port === undefined ? fc.constantFrom('', defaultPort, ':') : fc.constant(`:${p.port}`);
  return fc
    .record({
      schemeFlips: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
      hostFlips: fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      port,
      segments,
      emptyPath: fc.boolean(),
    })
    .map(({ schemeFlips, hostFlips, port: portText, segments: spelled, emptyPath }) => {
      const pieces = spelled.flatMap(([detourSegments, segment]) => [...detourSegments, segment]);
      const path =
        p.segments.length === 0
          ? emptyPath
            ? ''
            : '/'
          : `/${pieces.join('/')}${p.trailingSlash ? '/' : ''}`;
      return `${recase(p.scheme, schemeFlips)}://${recase(p.host, hostFlips)}${portText}${path}`;
    });
}

/** A path over a small alphabet, so that spellings of one path (and near misses) come up often. */
const smallPath = fc
  .array(
    fc.constantFrom(
      'a',
      'b',
      'A',
      '%61',
      '%41',
      '%2F',
      '%2f',
      '.',
      '..',
      '%2e',
      '%2E%2e',
      '~',
      '%7e',
      '%7E',
      '',
    ),
    {
      maxLength: 5,
    },
  )
  .map((segments) => `/${segments.join('/')}`);

/** Visible ASCII (what a query or a fragment can be made of here). */
const visible = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)),
  maxLength: 20,
});

/** Strings that look like URIs, in every way one can get them wrong. */
const uriLike = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  parts.chain(spelling),
  // Percent signs, escapes and hex digits side by side: where decoding could make new escapes.
  fc
    .array(fc.constantFrom('%', '%30', '%41', '%61', '%2e', '%7E', 'a', 'B', '0', '/', '.'), { maxLength: 8 })
    .map((tokens) => `https://h.test/${tokens.join('')}`),
  fc
    .tuple(
      fc.constantFrom('https://', 'http://', 'HTTPS://', 'https:', 'https:/', 'https:///', 'ftp://', ''),
      fc.string({
        unit: fc.constantFrom(..."ab.:/@%?#[]\\~-_0123456789ABCDEFabcdef!$&'()*+,;= ".split('')),
        maxLength: 30,
      }),
    )
    .map(([prefix, rest]) => `${prefix}${rest}`),
);

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('htu normalization (RFC 9449 §4.3, RFC 3986 §6.2.2, §6.2.3)', () => {
  it('leaves a URI already in normal form as it is', () => {
    fc.assert(
      fc.property(parts, (p) => {
        expect(normalizeHtu(canonical(p))).toBe(canonical(p));
      }),
      RUNS,
    );
  });

  it('is idempotent: a normalized URI normalizes to itself', () => {
    fc.assert(
      fc.property(uriLike, (uri) => {
        const normalized = normalizeHtu(uri);
        if (normalized !== undefined) expect(normalizeHtu(normalized)).toBe(normalized);
      }),
      {
        ...RUNS,
        // A bare "%" before an encoded hex digit: decoding "%41" to "A" makes "%Ab" out of
        // "%%41b", which a second pass upper-cases (found reading htu.ts, then by this property).
        examples: [['https://h.test/%%41b'], ['https://h.test/%%61a']],
      },
    );
  });

  it('makes equivalent spellings equal: scheme and host case, default port, hex case, encoded unreserved characters, dot segments', () => {
    fc.assert(
      fc.property(
        parts.chain((p) => spelling(p).map((spelled) => [p, spelled] as const)),
        ([p, spelled]) => {
          expect(normalizeHtu(spelled)).toBe(canonical(p));
        },
      ),
      RUNS,
    );
  });

  it('ignores the query and the fragment, of the htu and of the request target', () => {
    fc.assert(
      fc.property(parts, visible, visible, (p, query, fragment) => {
        const uri = canonical(p);
        const expected = normalizeHtu(uri);
        expect(expected).toBeDefined();
        expect(normalizeHtu(`${uri}?${query}`)).toBe(expected);
        expect(normalizeHtu(`${uri}#${fragment}`)).toBe(expected);
        expect(normalizeHtu(`${uri}?${query}#${fragment}`)).toBe(expected);
        const origin = uri.slice(0, uri.indexOf('/', uri.indexOf('//') + 2));
        const path = uri.slice(origin.length);
        expect(requestHtu(origin, path)).toBe(expected);
        expect(requestHtu(origin, `${path}?${query}`)).toBe(expected);
      }),
      RUNS,
    );
  });

  it('compares two paths equal exactly when RFC 3986 normalizes them to the same path', () => {
    fc.assert(
      fc.property(parts, smallPath, smallPath, (p, a, b) => {
        const origin = canonical({ ...p, segments: [] }).slice(0, -1);
        const same = normalizeHtu(`${origin}${a}`) === normalizeHtu(`${origin}${b}`);
        expect(same).toBe(referencePath(a) === referencePath(b));
        expect(normalizeHtu(`${origin}${a}`)).toBe(`${origin}${referencePath(a)}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('never makes two canonical URIs with different paths equal', () => {
    fc.assert(
      fc.property(parts, fc.array(canonicalSegment, { minLength: 1, maxLength: 4 }), (p, other) => {
        fc.pre(other.join('/') !== p.segments.join('/'));
        const q = { ...p, segments: other };
        expect(normalizeHtu(canonical(p))).not.toBe(normalizeHtu(canonical(q)));
      }),
      RUNS,
    );
  });

  it('never makes two URIs with different origins equal', () => {
    fc.assert(
      fc.property(parts, parts, (p, q) => {
        const a = canonical(p);
        const b = canonical({ ...q, segments: p.segments, trailingSlash: p.trailingSlash });
        fc.pre(p.scheme !== q.scheme || p.host !== q.host || p.port !== q.port);
        expect(normalizeHtu(a)).not.toBe(normalizeHtu(b));
      }),
      RUNS,
    );
  });

  it('never throws, and answers undefined or an absolute http(s) URI without query or fragment', () => {
    fc.assert(
      fc.property(uriLike, (uri) => {
        const normalized = normalizeHtu(uri);
        if (normalized !== undefined) {
          expect(normalized).toMatch(/^https?:\/\/[^/?#]+\/[^?#]*$/);
          expect(normalized.includes('?') || normalized.includes('#')).toBe(false);
        }
        expect(() => normalizeOrigin(uri)).not.toThrow();
        expect(() => requestHtu('https://api.example.test', uri)).not.toThrow();
        expect(() => requestHtu(uri, '/accounts')).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});
