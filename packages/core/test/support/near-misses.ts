/**
 * Confirmations that come close to a certificate's real `x5t#S256` without being it: what a broken
 * comparison (a prefix compare, a case-insensitive compare, a compare that stops early) would
 * accept. Each is itself canonical, so a verifier must refuse it as `cnf_mismatch`, never as
 * `cnf_malformed`.
 */

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The characters a canonical `x5t#S256` may end with (the last 2 bits are padding, zero). */
const CANONICAL_LAST = 'AEIMQUYcgkosw048';

/** Another character of `alphabet`, a fixed step away from `char`. */
function another(char: string, alphabet: string, step = 1): string {
  const index = alphabet.indexOf(char);
  if (index < 0) throw new Error(`near-misses: ${JSON.stringify(char)} is not in the alphabet`);
  return alphabet[(index + step) % alphabet.length]!;
}

function replaceAt(text: string, index: number, char: string): string {
  return `${text.slice(0, index)}${char}${text.slice(index + 1)}`;
}

/** The index of the first letter of `thumbprint` (the one whose case is flipped). */
export function firstLetterIndex(thumbprint: string): number {
  const index = thumbprint.search(/[A-Za-z]/);
  // The last character cannot change case and stay canonical; no real thumbprint gets there.
  if (index < 0 || index === thumbprint.length - 1) throw new Error('near-misses: no letter to flip');
  return index;
}

export interface NearMiss {
  /** How the confirmation differs, completing "a confirmation that …". */
  name: string;
  /** The confirmation, from the certificate's real thumbprint. */
  from(thumbprint: string): string;
  /** The character positions where it differs from the real thumbprint. */
  positions(thumbprint: string): number[];
}

const LAST = 42;
const SEVENTEENTH = 16;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export const NEAR_MISSES: readonly NearMiss[] = [
  {
    name: 'differs from the certificate’s thumbprint in only the last character',
    from: (t) => replaceAt(t, LAST, another(t[LAST]!, CANONICAL_LAST)),
    positions: () => [LAST],
  },
  {
    name: 'differs from the certificate’s thumbprint in only the 17th character',
    from: (t) => replaceAt(t, SEVENTEENTH, another(t[SEVENTEENTH]!, BASE64URL)),
    positions: () => [SEVENTEENTH],
  },
  {
    name: 'differs from the certificate’s thumbprint in only one letter’s case',
    from: (t) => {
      const index = firstLetterIndex(t);
      const letter = t[index]!;
      const flipped = letter === letter.toUpperCase() ? letter.toLowerCase() : letter.toUpperCase();
      return replaceAt(t, index, flipped);
    },
    positions: (t) => [firstLetterIndex(t)],
  },
  {
    name: 'shares only its first 16 characters with the certificate’s thumbprint',
    from: (t) =>
      t.slice(0, SEVENTEENTH) +
      [...t.slice(SEVENTEENTH, LAST)].map((c) => another(c, BASE64URL, 7)).join('') +
      another(t[LAST]!, CANONICAL_LAST, 5),
    positions: () => range(SEVENTEENTH, LAST),
  },
];

/** The positions at which two strings of the same length differ. */
export function differingPositions(a: string, b: string): number[] {
  if (a.length !== b.length) throw new Error('differingPositions: lengths differ');
  return [...a].flatMap((char, i) => (char === b[i] ? [] : [i]));
}

/**
 * The whole refusal of a confirmation that is not the presented certificate's, as the binding
 * functions throw it (no verifier: the default realm, the Bearer challenge alone).
 */
export const CNF_MISMATCH = {
  name: 'InvalidTokenError',
  status: 401,
  statusCode: 401,
  error: 'invalid_token',
  code: 'cnf_mismatch',
  description: 'The access token is bound to another certificate',
  headers: {
    'www-authenticate':
      'Bearer realm="api", error="invalid_token", error_description="The access token is bound to another certificate"',
  },
} as const;

/**
 * The same refusal from a verifier with the default options: DPoP is on, so the Bearer challenge
 * (the scheme the request used, with the error) is followed by the DPoP one.
 */
export const VERIFIER_CNF_MISMATCH = {
  ...CNF_MISMATCH,
  headers: {
    'www-authenticate':
      'Bearer realm="api", error="invalid_token", error_description="The access token is bound to another certificate", DPoP realm="api", algs="ES256 ES384 EdDSA PS256 RS256"',
  },
} as const;
