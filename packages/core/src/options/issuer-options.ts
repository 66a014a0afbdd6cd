/**
 * The authorization servers whose JWT access tokens are accepted: one `issuer`, or several
 * (`issuers`), each with its own keys (never shared: a key of one issuer never verifies a token
 * claiming another, RFC 8725 §3.8), algorithms and audience (docs/architecture.md#several-issuers).
 */
import type { JSONWebKeySet } from 'jose';
import { DEFAULT_ALGORITHMS, SUPPORTED_ALGORITHMS } from '../jwt/jwt-rules.js';
import { fail, httpsUrl, isRecord, optional, type Reader, stringList, withDefault } from './checks.js';
import { readGroup } from './schema.js';

/** One authorization server among `issuers`. */
export interface IssuerOptions {
  /** The issuer identifier, compared exactly with `iss` (the token's `iss` selects this entry). */
  issuer: string;
  /** Its JWK Set URL. Default: discovered from its metadata. */
  jwksUri?: string;
  /** A local JWK Set instead. */
  jwks?: JSONWebKeySet;
  /** Accepted JWS algorithms for its tokens. Default: the top-level `algorithms`. */
  algorithms?: string[];
  /** The audience its tokens must carry (replaces the top-level `audience`). */
  audience?: string | string[];
}

/** An issuer as the verifier uses it. */
export interface NormalizedIssuer {
  issuer: string;
  jwksUri: string | undefined;
  jwks: JSONWebKeySet | undefined;
  algorithms: string[];
  audience: string[];
}

export const readIssuer: Reader<string> = (value, name) => {
  const issuer = httpsUrl(value, name);
  if (issuer.includes('?')) fail(name, 'a URL without a query (RFC 8414 §2)');
  return issuer;
};

export const readJwks: Reader<JSONWebKeySet> = (value, name) => {
  if (!(isRecord(value) && Array.isArray(value.keys))) fail(name, 'a JWK Set { keys: [...] }');
  return value as unknown as JSONWebKeySet;
};

const readAlgorithmList: Reader<string[]> = (value, name) => {
  const algorithms = stringList(value, name);
  if (algorithms.some((alg) => alg.toLowerCase() === 'none'))
    fail(name, 'signature algorithms ("none" is never accepted)');
  for (const alg of algorithms) {
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
      fail(name, `JWS algorithms among ${SUPPORTED_ALGORITHMS.join(', ')} (got ${JSON.stringify(alg)})`);
    }
  }
  return algorithms;
};

export const readAlgorithms: Reader<string[]> = withDefault(() => [...DEFAULT_ALGORITHMS], readAlgorithmList);

const ISSUER_OPTIONS = {
  issuer: readIssuer,
  jwksUri: optional(httpsUrl),
  jwks: optional(readJwks),
  algorithms: optional(readAlgorithmList),
  audience: optional(stringList),
} satisfies Record<keyof IssuerOptions, Reader<unknown>>;

export const readIssuers: Reader<Array<ReturnType<typeof readEntry>>> = (value, name) => {
  if (!Array.isArray(value) || value.length === 0) fail(name, 'a non-empty array of { issuer, … }');
  const entries = value.map((entry, index) => readEntry(entry, `${name}[${index}]`));
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.issuer))
      fail(name, `made of distinct issuers (${JSON.stringify(entry.issuer)} twice)`);
    seen.add(entry.issuer);
  }
  return entries;
};

function readEntry(value: unknown, name: string) {
  const entry = readGroup(
    value,
    name,
    ISSUER_OPTIONS,
    'an object { issuer, jwksUri?, jwks?, algorithms?, audience? }',
  );
  if (entry.jwks !== undefined && entry.jwksUri !== undefined)
    fail(`${name}.jwks`, 'not combined with "jwksUri"');
  if (entry.algorithms?.some((alg) => alg.startsWith('HS'))) {
    fail(`${name}.algorithms`, 'asymmetric (a shared secret is for a single issuer only)');
  }
  return entry;
}

/** The top-level options these are resolved against. */
interface TopLevel {
  issuer: string | undefined;
  issuers: Array<ReturnType<typeof readEntry>> | undefined;
  audience: string[] | undefined;
  jwksUri: string | undefined;
  jwks: JSONWebKeySet | undefined;
  algorithms: string[];
  secret: Uint8Array | undefined;
  introspection: unknown;
}

/** Exactly one of `issuer` and `issuers`; every entry with an audience; the rest per issuer. */
export function resolveIssuers(o: TopLevel): NormalizedIssuer[] {
  if ((o.issuer === undefined) === (o.issuers === undefined)) {
    fail('issuer', 'given, or "issuers" instead, but not both');
  }
  if (o.issuer !== undefined) {
    if (o.audience === undefined) fail('audience', 'a non-empty string or array of strings');
    return [
      { issuer: o.issuer, jwksUri: o.jwksUri, jwks: o.jwks, algorithms: o.algorithms, audience: o.audience },
    ];
  }
  if (o.introspection !== undefined) {
    fail('introspection', 'used with a single "issuer": an opaque token does not say who issued it');
  }
  if (o.jwksUri !== undefined || o.jwks !== undefined || o.secret !== undefined) {
    fail('issuers', 'given their keys per entry ("jwksUri" / "jwks"), not at the top level');
  }
  return o.issuers!.map((entry, index) => {
    const audience = entry.audience ?? o.audience;
    if (audience === undefined) fail(`issuers[${index}].audience`, 'given, or a top-level "audience"');
    return {
      issuer: entry.issuer,
      jwksUri: entry.jwksUri,
      jwks: entry.jwks,
      algorithms: entry.algorithms ?? o.algorithms,
      audience,
    };
  });
}
