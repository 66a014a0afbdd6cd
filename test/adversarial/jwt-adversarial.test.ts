/**
 * Adversarial suite for the JWT path, end to end: an Express app (`certbound()` + one route +
 * `errorHandler()`) on a real HTTPS server that asks for, but does not verify, client certificates
 * (RFC 8705 §6.2), a test issuer serving discovery and its JWK Set over HTTPS, client certificate A
 * (the one tokens are bound to) and look-alike B (same subject, other key).
 *
 * Four apps answer:
 * - `main`: `binding: 'required'` (default), keys from the issuer's `jwks_uri` (discovered), DPoP
 *   on (the default: the Bearer and DPoP challenges are both offered);
 * - `ifPresent`: the same with `binding: 'if-present'`;
 * - `noDpop`: the same as `main` with `dpop: false` (the Bearer challenge alone);
 * - `crafted`: the same issuer/audience and realm, but a local `jwks` holding only keys of ours
 *   (an ES256 key, and an RSA key published for RS256 only). The test issuer does not expose its
 *   private keys and jose's `SignJWT` refuses `crit`/`b64: false`, so tokens whose exact
 *   header/payload bytes matter (`1e400`, a BOM, duplicate members, non-JSON payloads, DER
 *   signatures, `crit`, PS256 by an RS256-pinned key) are hand-signed (see `jws-craft.ts`) with
 *   those keys and sent to this app. Each group has a control case the crafted app accepts.
 *
 * Every case asserts the whole outcome: status, JSON body (`error`, `error_description`, `code`),
 * the exact `WWW-Authenticate`, never a 5xx, and that the token is not reflected anywhere in the
 * response. Expected descriptions come from the server's own constants.
 */
import { createPublicKey, type JsonWebKey as NodeJwk, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { InvalidTokenError } from '@certbound/core';
import { certbound, errorHandler } from '@certbound/express';
import {
  createTestIssuer,
  createTestPki,
  type HttpsResponse,
  httpsRequest,
  type MintOptions,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import express from 'express';
import { type CryptoKey, exportJWK, generateKeyPair, importPKCS8, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVALID_REQUEST_DESCRIPTIONS } from '../../packages/core/src/errors.js';
import { type Accepted, challenge as challengeFor, type Scheme } from '../support/challenge.js';
import { type RunningApp, startHttpsApp } from '../support/https-app.js';
import {
  b64url,
  type CraftedRsaSigner,
  type CraftedSigner,
  craftedRsaSigner,
  craftedSigner,
  hmacJws,
  jsonText,
  unsignedJws,
} from './jws-craft.js';

const REALM = 'adversarial';
const SUBJECT = 'CN=client-a, O=certbound';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

// ---------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------

type AppName = 'main' | 'ifPresent' | 'noDpop' | 'crafted';

let pki: TestPki;
let issuer: TestIssuer;
/** The certificate tokens are bound to; its thumbprint contains `-` or `_` (see beforeAll). */
let clientA: TestCertificate;
/** Look-alike of A: same subject, other key. */
let clientB: TestCertificate;
/** A certificate issued to the attacker by the same CA (for `x5c`). */
let attackerCert: TestCertificate;
let attackerCertKey: CryptoKey;
let attackerEs: { privateKey: CryptoKey; jwk: JWK };
let attackerRs: { privateKey: CryptoKey };
let crafted: CraftedSigner;
/** An RSA key the crafted app publishes for RS256 only. */
let craftedRsa: CraftedRsaSigner;
let kids: Record<'ES256' | 'RS256' | 'PS256' | 'EdDSA', string>;
let rsaPublicPem: string;
let rsaModulus: string;
let apps: Record<AppName, RunningApp>;
/** An HTTPS server the attacker controls; `jku`/`x5u` point at it. It must never be contacted. */
let attacker: { url: string; hits: number; server: Server };

const now = () => Math.floor(Date.now() / 1000);

/** A genuine token from the test issuer, bound to A, scope `read`, unless overridden. */
function mint(options: MintOptions = {}): Promise<string> {
  return issuer.mintAccessToken({ certificate: clientA, scope: 'read', ...options });
}

/** RFC 9068 claims as the issuer would mint them, bound to A (for hand-made tokens). */
function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const t = now();
  return {
    iss: issuer.issuer,
    aud: issuer.audience,
    sub: 'client-a',
    client_id: 'client-a',
    iat: t,
    exp: t + 300,
    jti: randomUUID(),
    scope: 'read',
    cnf: { 'x5t#S256': clientA.thumbprint },
    ...extra,
  };
}

/** The default protected header of tokens signed with our own (`crafted`) key. */
function craftedHeader(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { alg: 'ES256', kid: crafted.kid, typ: 'at+jwt', ...extra };
}

/** Signs `payload` (object or exact JSON text) with our own key for the `crafted` app. */
function craft(
  payload: string | Uint8Array | object,
  header: string | Uint8Array | object = craftedHeader(),
): string {
  return crafted.sign(header, payload);
}

const segments = (token: string) => token.split('.') as [string, string, string];

function flipSignatureByte(token: string): string {
  const [h, p, s] = segments(token);
  const signature = Buffer.from(s, 'base64url');
  signature[10] = signature[10]! ^ 0x01;
  return `${h}.${p}.${signature.toString('base64url')}`;
}

/**
 * The same bytes as the unpadded base64url `value` (a thumbprint, a signature), spelled with a
 * non-zero padding bit in the last character (RFC 4648 §3.5: not canonical).
 */
function nonCanonical(value: string): string {
  const last = BASE64URL.indexOf(value.at(-1)!);
  return value.slice(0, -1) + BASE64URL[last | 1];
}

const standardBase64 = (thumbprint: string) => Buffer.from(thumbprint, 'base64url').toString('base64');
const hex = (thumbprint: string) => Buffer.from(thumbprint, 'base64url').toString('hex');

async function startAttackerServer(): Promise<typeof attacker> {
  const state = { url: '', hits: 0, server: undefined as unknown as Server };
  state.server = createServer({ cert: pki.server.cert, key: pki.server.key }, (_req, res) => {
    state.hits++;
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ keys: [attackerEs.jwk] }));
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `https://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  return state;
}

beforeAll(async () => {
  pki = await createTestPki();
  issuer = await createTestIssuer({ pki });
  // A's thumbprint must contain `-` or `_`, so that its standard-base64 spelling really differs.
  do clientA = await pki.issueClient({ subject: SUBJECT });
  while (!/[-_]/.test(clientA.thumbprint));
  clientB = await pki.issueClient({ subject: SUBJECT });
  attackerCert = await pki.issueClient({ subject: 'CN=attacker' });
  attackerCertKey = await importPKCS8(attackerCert.key, 'ES256');

  const es = await generateKeyPair('ES256', { extractable: true });
  attackerEs = {
    privateKey: es.privateKey,
    jwk: { ...(await exportJWK(es.publicKey)), kid: 'attacker-es256' },
  };
  attackerRs = { privateKey: (await generateKeyPair('RS256')).privateKey };
  crafted = craftedSigner('crafted-es256');
  craftedRsa = craftedRsaSigner('crafted-rs256');

  const kidOf = (alg: string) => {
    const key = issuer.jwks.keys.find((k) => k.alg === alg);
    if (!key?.kid) throw new Error(`the test issuer has no ${alg} key`);
    return key.kid;
  };
  kids = { ES256: kidOf('ES256'), RS256: kidOf('RS256'), PS256: kidOf('PS256'), EdDSA: kidOf('EdDSA') };
  const rsaJwk = issuer.jwks.keys.find((k) => k.alg === 'RS256')!;
  rsaModulus = rsaJwk.n!;
  rsaPublicPem = createPublicKey({ key: rsaJwk as NodeJwk, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();

  attacker = await startAttackerServer();

  const base = { issuer: issuer.issuer, audience: issuer.audience, tls: { ca: issuer.ca }, realm: REALM };
  const appWith = (options: Parameters<typeof certbound>[0]) => {
    const api = express();
    api.use(certbound(options));
    api.get('/resource', (req, res) => {
      res.json({
        ok: true,
        subject: req.auth?.subject,
        clientId: req.auth?.clientId,
        scopes: req.auth?.scopes,
        bound: req.auth?.bound,
        thumbprint: req.auth?.thumbprint,
      });
    });
    api.use(errorHandler());
    return startHttpsApp(api, pki);
  };
  const [main, ifPresent, noDpop, craftedApp] = await Promise.all([
    appWith(base),
    appWith({ ...base, binding: 'if-present' }),
    appWith({ ...base, dpop: false }),
    appWith({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwks: { keys: [crafted.jwk, craftedRsa.jwk] },
      realm: REALM,
    }),
  ]);
  apps = { main, ifPresent, noDpop, crafted: craftedApp };
});

afterAll(async () => {
  await Promise.all([
    apps?.main.close(),
    apps?.ifPresent.close(),
    apps?.noDpop.close(),
    apps?.crafted.close(),
    issuer?.close(),
    attacker &&
      new Promise<void>((resolve) => {
        attacker.server.close(() => resolve());
        attacker.server.closeAllConnections();
      }),
  ]);
});

// ---------------------------------------------------------------------------------------------
// Cases and the runner
// ---------------------------------------------------------------------------------------------

type TokenCode = Exclude<ConstructorParameters<typeof InvalidTokenError>[0], 'credentials_missing'>;

type Outcome =
  | { kind: 'ok'; bound: boolean }
  | { kind: 'no-credentials' }
  | { kind: 'invalid-request'; reason: keyof typeof INVALID_REQUEST_DESCRIPTIONS }
  /** 401 `invalid_token`, the error on the challenge of `scheme`; `description` when not the code's own. */
  | { kind: 'invalid-token'; code: TokenCode; scheme: Scheme; description?: string }
  /** 401 `invalid_dpop_proof` (RFC 9449 §7.1), on the DPoP challenge. */
  | { kind: 'invalid-dpop-proof'; code: 'dpop_proof_missing' | 'dpop_proof_invalid' }
  /** Node's own HTTP parser refuses the request before any middleware runs. */
  | { kind: 'header-too-large' };

interface Case {
  name: string;
  /** Which app answers. Default `main`. */
  app?: AppName;
  /** The token under test (also what must never be reflected). */
  token?: () => string | Promise<string>;
  /** Raw header lines `[name, value, …]`. Default `Authorization: Bearer <token>`. */
  lines?: (token: string) => string[];
  /** Request path and query. Default `/resource`. */
  path?: (token: string) => string;
  /** Client certificate presented on the TLS connection. Default A. */
  cert?: 'A' | 'B' | 'none';
  /**
   * First present the same token the ordinary way (A, `Authorization: Bearer`) and require a 200,
   * so that the case itself is answered from the verifier's memo of validated tokens.
   */
  warmUp?: boolean;
  expect: Outcome;
}

const ok = (bound = true): Outcome => ({ kind: 'ok', bound });
const rejected = (code: TokenCode, scheme: Scheme = 'Bearer', description?: string): Outcome => ({
  kind: 'invalid-token',
  code,
  scheme,
  ...(description === undefined ? {} : { description }),
});
const badRequest = (reason: keyof typeof INVALID_REQUEST_DESCRIPTIONS = 'malformed'): Outcome => ({
  kind: 'invalid-request',
  reason,
});
const noCredentials: Outcome = { kind: 'no-credentials' };

/** The constant description the server uses for `code`. */
const describeCode = (code: ConstructorParameters<typeof InvalidTokenError>[0]) =>
  new InvalidTokenError(code).description;

/** The exact `WWW-Authenticate` of `app`: both schemes, or `Bearer` alone under `dpop: false`. */
function challenge(app: AppName, refusal?: { error: string; description: string; scheme?: Scheme }): string {
  const accepted: Accepted = app === 'noDpop' ? 'Bearer' : 'both';
  return challengeFor({ realm: REALM, accepted }, refusal);
}

function assertNotReflected(res: HttpsResponse, token: string): void {
  const needles = [token, ...token.split('.')].filter((s) => s.length >= 16);
  const haystack = [
    res.body,
    ...Object.entries(res.headers).flatMap(([name, value]) => [name, String(value)]),
  ].join('\n');
  for (const needle of needles)
    expect(haystack.includes(needle), 'token reflected in the response').toBe(false);
  expect(res.headers['set-cookie']).toBeUndefined();
}

async function send(c: Case, token: string): Promise<HttpsResponse | Error> {
  const certificate = c.cert === 'none' ? undefined : c.cert === 'B' ? clientB : clientA;
  const lines = c.lines ? c.lines(token) : ['Authorization', `Bearer ${token}`];
  const url = `${apps[c.app ?? 'main'].url}${c.path ? c.path(token) : '/resource'}`;
  try {
    return await httpsRequest(url, { ca: pki.ca.cert, certificate, rawHeaders: lines });
  } catch (error) {
    return error as Error;
  }
}

async function run(c: Case): Promise<void> {
  const token = c.token ? await c.token() : '';
  if (c.warmUp) {
    const first = await send({ name: 'warm-up', app: c.app, expect: ok() }, token);
    if (first instanceof Error) throw first;
    expect(first.status, `warm-up body: ${first.body}`).toBe(200);
  }
  const res = await send(c, token);
  const app = c.app ?? 'main';
  const presented = c.cert === 'none' ? undefined : c.cert === 'B' ? clientB : clientA;
  const outcome = c.expect;

  if (outcome.kind === 'header-too-large') {
    // Node answers `431` + `Connection: close` with an empty body (observed); under load the
    // client may see the connection reset before it reads that answer.
    if (res instanceof Error) expect((res as NodeJS.ErrnoException).code).toMatch(/^(ECONNRESET|EPIPE)$/);
    else {
      expect(res.status).toBe(431);
      expect(res.headers['www-authenticate']).toBeUndefined();
      assertNotReflected(res, token);
    }
    expect(attacker.hits).toBe(0);
    return;
  }
  if (res instanceof Error) throw res;
  expect(res.status, `body: ${res.body}`).toBeLessThan(500);

  switch (outcome.kind) {
    case 'ok':
      expect(res.status, `body: ${res.body}`).toBe(200);
      expect(res.json).toEqual({
        ok: true,
        subject: 'client-a',
        clientId: 'client-a',
        scopes: ['read'],
        bound: outcome.bound,
        thumbprint: presented?.thumbprint,
      });
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
      break;
    case 'no-credentials': {
      expect(res.status, `body: ${res.body}`).toBe(401);
      expect(res.json).toStrictEqual({
        error_description: describeCode('credentials_missing'),
        code: 'credentials_missing',
      });
      expect(res.headers['www-authenticate']).toBe(challenge(app));
      assertNotReflected(res, token);
      break;
    }
    case 'invalid-request': {
      const description = INVALID_REQUEST_DESCRIPTIONS[outcome.reason];
      expect(res.status, `body: ${res.body}`).toBe(400);
      expect(res.json).toStrictEqual({
        error: 'invalid_request',
        error_description: description,
        code: 'invalid_request',
      });
      expect(res.headers['www-authenticate']).toBe(challenge(app, { error: 'invalid_request', description }));
      assertNotReflected(res, token);
      break;
    }
    case 'invalid-token': {
      const description = outcome.description ?? describeCode(outcome.code);
      expect(res.status, `body: ${res.body}`).toBe(401);
      expect(res.json).toStrictEqual({
        error: 'invalid_token',
        error_description: description,
        code: outcome.code,
      });
      expect(res.headers['www-authenticate']).toBe(
        challenge(app, { error: 'invalid_token', description, scheme: outcome.scheme }),
      );
      assertNotReflected(res, token);
      break;
    }
    case 'invalid-dpop-proof': {
      const description = describeCode(outcome.code);
      expect(res.status, `body: ${res.body}`).toBe(401);
      expect(res.json).toStrictEqual({
        error: 'invalid_dpop_proof',
        error_description: description,
        code: outcome.code,
      });
      expect(res.headers['www-authenticate']).toBe(
        challenge(app, { error: 'invalid_dpop_proof', description, scheme: 'DPoP' }),
      );
      assertNotReflected(res, token);
      break;
    }
  }
  // `jku` / `x5u` are never dereferenced, by any case.
  expect(attacker.hits).toBe(0);
}

// ---------------------------------------------------------------------------------------------
// 1. Algorithms and signatures
// ---------------------------------------------------------------------------------------------

const algorithmCases: Case[] = [
  ...(['ES256', 'RS256', 'PS256', 'EdDSA'] as const).map(
    (alg): Case => ({
      name: `accepts a genuine ${alg} token verified with the issuer's published key (control)`,
      token: () => mint({ alg }),
      expect: ok(),
    }),
  ),
  {
    name: 'rejects a hand-made alg "none" token with an empty signature',
    token: () => unsignedJws({ alg: 'none', typ: 'at+jwt' }, claims()),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects alg "NONE" (upper case) with an empty signature',
    token: () => unsignedJws({ alg: 'NONE', typ: 'at+jwt' }, claims()),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects alg "none" carrying an issuer kid and a signature copied from a genuine token',
    token: async () =>
      unsignedJws({ alg: 'none', kid: kids.ES256, typ: 'at+jwt' }, claims(), segments(await mint())[2]),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects HS256 signed with the issuer RSA public key PEM as the HMAC secret (key confusion)',
    token: () => hmacJws({ alg: 'HS256', kid: kids.RS256, typ: 'at+jwt' }, claims(), rsaPublicPem),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects HS256 signed with the RSA JWK "n" string as the HMAC secret (key confusion)',
    token: () => hmacJws({ alg: 'HS256', kid: kids.RS256, typ: 'at+jwt' }, claims(), rsaModulus),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects HS512 without kid signed with the decoded RSA modulus bytes',
    token: () =>
      hmacJws({ alg: 'HS512', typ: 'at+jwt' }, claims(), Buffer.from(rsaModulus, 'base64url'), 'sha512'),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects ES256K, an algorithm outside the allowlist',
    token: () => crafted.sign({ alg: 'ES256K', kid: kids.ES256, typ: 'at+jwt' }, claims()),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects a duplicated alg member whose last value is "none"',
    app: 'crafted',
    token: () =>
      craft(claims(), `{"alg":"ES256","kid":${JSON.stringify(crafted.kid)},"typ":"at+jwt","alg":"none"}`),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: "rejects a token signed by an attacker ES256 key under the issuer's ES256 kid",
    token: () => mint({ signingKey: attackerEs.privateKey }),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: "rejects a token signed by an attacker RS256 key under the issuer's RS256 kid",
    token: () => mint({ alg: 'RS256', signingKey: attackerRs.privateKey }),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects a genuine token with one signature byte flipped',
    token: async () => flipSignatureByte(await mint()),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'accepts a genuine token whose signature ends in a non-canonical character (same bytes)',
    token: async () => {
      const [h, p, s] = segments(await mint());
      const respelled = nonCanonical(s);
      if (!Buffer.from(respelled, 'base64url').equals(Buffer.from(s, 'base64url')))
        throw new Error('bad fixture');
      return `${h}.${p}.${respelled}`;
    },
    expect: ok(),
  },
  {
    name: 'rejects a genuine token whose signature is stripped (trailing dot kept)',
    token: async () => {
      const [h, p] = segments(await mint());
      return `${h}.${p}.`;
    },
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects a genuine token whose signature segment is removed entirely',
    token: async () => {
      const [h, p] = segments(await mint());
      return `${h}.${p}`;
    },
    expect: rejected('token_malformed'),
  },
  {
    name: "rejects a token bound to B spliced with a genuine token's signature",
    token: async () => {
      const [h, p] = segments(await mint({ certificate: clientB }));
      return `${h}.${p}.${segments(await mint())[2]}`;
    },
    cert: 'B',
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects header alg ES256 carrying the kid of the issuer RS256 key',
    token: () => mint({ alg: 'ES256', header: { kid: kids.RS256 } }),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects a PS256 token under the kid of the RS256 key (one key, one algorithm)',
    token: () => mint({ alg: 'PS256', header: { kid: kids.RS256 } }),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'accepts RS256 from the RSA key the crafted app publishes for RS256 (control)',
    app: 'crafted',
    token: () => craftedRsa.sign({ alg: 'RS256', kid: craftedRsa.kid, typ: 'at+jwt' }, claims(), 'RS256'),
    expect: ok(),
  },
  {
    name: 'rejects a valid PS256 signature by that same RSA key, published for RS256 only (key pinned to its alg)',
    app: 'crafted',
    token: () => craftedRsa.sign({ alg: 'PS256', kid: craftedRsa.kid, typ: 'at+jwt' }, claims(), 'PS256'),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects alg Ed25519 against the issuer key published for EdDSA (key pinned to its alg)',
    token: () => mint({ alg: 'EdDSA', header: { alg: 'Ed25519' } }),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects an unknown kid',
    token: () => mint({ header: { kid: 'no-such-key' } }),
    expect: rejected('token_signature_invalid'),
  },
  ...['../../etc/passwd', "' OR 1=1 --", 'x\r\nSet-Cookie: injected=1', '{"$ne":null}', 'k'.repeat(4096)].map(
    (kid): Case => ({
      name: `rejects the injection kid ${JSON.stringify(kid.length > 40 ? `${kid.slice(0, 8)}…(${kid.length})` : kid)} as an unknown key`,
      token: () => mint({ header: { kid } }),
      expect: rejected('token_signature_invalid'),
    }),
  ),
  {
    name: 'rejects a kid that is a number instead of a string',
    token: () => mint({ header: { kid: 12345 } }),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects a JWE-shaped five-segment token',
    token: () =>
      [
        b64url(JSON.stringify({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: kids.RS256 })),
        b64url('encrypted-key'),
        b64url('iv-iv-iv-iv'),
        b64url('ciphertext'),
        b64url('tag'),
      ].join('.'),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects three dot-separated segments of garbage base64url',
    token: () => 'Zm9vYmFy.YmF6cXV4.Z2FyYmFnZQ',
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects segments whose base64url length is impossible',
    token: () => 'eyJhbGciOiJFUzI1NiJ9a.eyJ4IjoxfQa.a',
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects ".." (two dots and nothing else)',
    token: () => '..',
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects a protected header that is a JSON array',
    token: () => unsignedJws('[]', claims(), 'c2ln'),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects a protected header without alg',
    app: 'crafted',
    token: () => craft(claims(), { kid: crafted.kid, typ: 'at+jwt' }),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects an ES256 signature in DER form instead of R||S',
    app: 'crafted',
    token: () => crafted.sign(craftedHeader(), claims(), { dsaEncoding: 'der' }),
    expect: rejected('token_signature_invalid'),
  },
];

// ---------------------------------------------------------------------------------------------
// 2. JWT header parameters
// ---------------------------------------------------------------------------------------------

const headerCases: Case[] = [
  {
    name: 'never fetches jku and rejects a token signed by the attacker key it points at',
    token: () =>
      mint({
        signingKey: attackerEs.privateKey,
        header: { kid: 'attacker-es256', jku: `${attacker.url}/jwks` },
      }),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: "never fetches jku and rejects an attacker-signed token under the issuer's kid",
    token: () => mint({ signingKey: attackerEs.privateKey, header: { jku: `${attacker.url}/jwks` } }),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'ignores jku on a genuine token: verified with the issuer key only (accepted)',
    token: () => mint({ header: { jku: `${attacker.url}/jwks` } }),
    expect: ok(),
  },
  {
    name: 'never fetches x5u and rejects a token signed by the attacker key it points at',
    token: () =>
      mint({
        signingKey: attackerEs.privateKey,
        header: { kid: 'attacker-es256', x5u: `${attacker.url}/cert.pem` },
      }),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: "ignores an embedded jwk holding the attacker's public key (no kid)",
    token: () => mint({ signingKey: attackerEs.privateKey, header: { kid: undefined, jwk: attackerEs.jwk } }),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: "ignores an embedded jwk holding the attacker's public key and its kid",
    token: () =>
      mint({ signingKey: attackerEs.privateKey, header: { kid: 'attacker-es256', jwk: attackerEs.jwk } }),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'ignores x5c with an attacker certificate from the same CA, signed with its key',
    token: () =>
      mint({
        signingKey: attackerCertKey,
        header: { kid: undefined, x5c: [attackerCert.der.toString('base64')] },
      }),
    expect: rejected('token_signature_invalid'),
  },
  {
    name: 'rejects crit ["exp"] (a registered claim name is not an extension)',
    app: 'crafted',
    token: () => craft(claims(), craftedHeader({ crit: ['exp'], exp: now() + 300 })),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects crit ["urn:example:unknown"] with the parameter present',
    app: 'crafted',
    token: () =>
      craft(claims(), craftedHeader({ crit: ['urn:example:unknown'], 'urn:example:unknown': true })),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects crit naming a parameter that is absent',
    app: 'crafted',
    token: () => craft(claims(), craftedHeader({ crit: ['urn:example:absent'] })),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects an empty crit list',
    app: 'crafted',
    token: () => craft(claims(), craftedHeader({ crit: [] })),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects b64:false with crit ["b64"] (JWTs must not use an unencoded payload)',
    app: 'crafted',
    // The unencoded payload is the base64url text itself, so the token still has JWT shape.
    token: () =>
      crafted.signInput(
        `${b64url(JSON.stringify(craftedHeader({ b64: false, crit: ['b64'] })))}.${b64url(JSON.stringify(claims()))}`,
      ),
    expect: rejected('token_malformed'),
  },
  {
    name: 'ignores b64:false when crit does not list it (payload still base64url; accepted)',
    app: 'crafted',
    token: () => craft(claims(), craftedHeader({ b64: false })),
    expect: ok(),
  },
  {
    name: 'rejects a protected header prefixed with a UTF-8 byte order mark (RFC 8725 §3.7)',
    app: 'crafted',
    token: () =>
      craft(
        claims(),
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(craftedHeader()))]),
      ),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects a token without typ',
    token: () => mint({ header: { typ: undefined } }),
    expect: rejected('token_type_invalid'),
  },
  {
    name: 'rejects typ "JWT" (an ID-token style type)',
    token: () => mint({ header: { typ: 'JWT' } }),
    expect: rejected('token_type_invalid'),
  },
  {
    name: 'accepts typ "at+JWT" (case-insensitive, as in RFC 9068 §3)',
    token: () => mint({ header: { typ: 'at+JWT' } }),
    expect: ok(),
  },
  {
    name: 'accepts typ "AT+JWT"',
    token: () => mint({ header: { typ: 'AT+JWT' } }),
    expect: ok(),
  },
  {
    name: 'accepts typ "application/at+jwt"',
    token: () => mint({ header: { typ: 'application/at+jwt' } }),
    expect: ok(),
  },
  {
    name: 'accepts typ "Application/AT+JWT"',
    token: () => mint({ header: { typ: 'Application/AT+JWT' } }),
    expect: ok(),
  },
  {
    name: 'rejects typ "application/jwt"',
    token: () => mint({ header: { typ: 'application/jwt' } }),
    expect: rejected('token_type_invalid'),
  },
  {
    name: 'rejects typ given as a number',
    token: () => mint({ header: { typ: 9068 } }),
    expect: rejected('token_type_invalid'),
  },
  {
    name: 'rejects typ given as an array ["at+jwt"]',
    token: () => mint({ header: { typ: ['at+jwt'] } }),
    expect: rejected('token_type_invalid'),
  },
  {
    name: 'rejects typ "at+jwt " with a trailing space',
    token: () => mint({ header: { typ: 'at+jwt ' } }),
    expect: rejected('token_type_invalid'),
  },
  {
    name: 'rejects typ "dpop+jwt" (a DPoP proof is not an access token)',
    token: () => mint({ header: { typ: 'dpop+jwt' } }),
    expect: rejected('token_type_invalid'),
  },
  {
    name: 'rejects typ "application/application/at+jwt"',
    token: () => mint({ header: { typ: 'application/application/at+jwt' } }),
    expect: rejected('token_type_invalid'),
  },
  {
    name: 'rejects a duplicated typ member whose last value is "JWT"',
    app: 'crafted',
    token: () =>
      craft(claims(), `{"alg":"ES256","kid":${JSON.stringify(crafted.kid)},"typ":"at+jwt","typ":"JWT"}`),
    expect: rejected('token_type_invalid'),
  },
  {
    name: 'accepts a duplicated typ member whose last value is "at+jwt" (RFC 7515 §4: last one wins)',
    app: 'crafted',
    token: () =>
      craft(claims(), `{"alg":"ES256","kid":${JSON.stringify(crafted.kid)},"typ":"JWT","typ":"at+jwt"}`),
    expect: ok(),
  },
];

// ---------------------------------------------------------------------------------------------
// 3. Claims and time
// ---------------------------------------------------------------------------------------------

const claimCases: Case[] = [
  {
    name: 'accepts a hand-signed token from the key the crafted app trusts (control)',
    app: 'crafted',
    token: () => craft(claims()),
    expect: ok(),
  },
  {
    name: 'rejects exp 10 s in the past (beyond the 5 s tolerance)',
    token: () => mint({ claims: { exp: now() - 10 } }),
    expect: rejected('token_expired'),
  },
  {
    name: 'rejects exp exactly 6 s in the past',
    token: () => mint({ claims: { exp: now() - 6 } }),
    expect: rejected('token_expired'),
  },
  {
    name: 'accepts exp 2 s in the past (within the 5 s tolerance)',
    token: () => mint({ claims: { exp: now() - 2 } }),
    expect: ok(),
  },
  {
    name: 'rejects nbf 60 s in the future',
    token: () => mint({ claims: { nbf: now() + 60 } }),
    expect: rejected('token_not_yet_valid'),
  },
  {
    name: 'accepts nbf 3 s in the future (within tolerance)',
    token: () => mint({ claims: { nbf: now() + 3 } }),
    expect: ok(),
  },
  {
    name: 'rejects iat 60 s in the future',
    token: () => mint({ claims: { iat: now() + 60 } }),
    expect: rejected('token_not_yet_valid'),
  },
  {
    name: 'rejects exp given as a numeric string',
    token: () => mint({ claims: { exp: String(now() + 300) } }),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects exp: 1e400 (JSON.parse makes it Infinity)',
    app: 'crafted',
    token: () => craft(jsonText(claims(), { exp: '1e400' })),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects iat: 1e400 (Infinity) even though jose does not look at iat',
    app: 'crafted',
    token: () => craft(jsonText(claims(), { iat: '1e400' })),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects exp beyond year 9999',
    token: () => mint({ claims: { exp: 1e12 } }),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects exp given as a boolean',
    token: () => mint({ claims: { exp: true } }),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects nbf given as a string',
    token: () => mint({ claims: { nbf: 'yesterday' } }),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects another iss',
    token: () => mint({ claims: { iss: 'https://evil.example' } }),
    expect: rejected('token_issuer_mismatch'),
  },
  {
    name: 'rejects iss with a trailing slash',
    token: () => mint({ claims: { iss: `${issuer.issuer}/` } }),
    expect: rejected('token_issuer_mismatch'),
  },
  {
    name: 'rejects iss in upper case',
    token: () => mint({ claims: { iss: issuer.issuer.toUpperCase() } }),
    expect: rejected('token_issuer_mismatch'),
  },
  {
    name: 'rejects iss given as an array containing the issuer',
    token: () => mint({ claims: { iss: [issuer.issuer] } }),
    expect: rejected('token_issuer_mismatch'),
  },
  {
    name: 'uses the lexically last of duplicated iss members: ours last is accepted',
    app: 'crafted',
    token: () => craft(`{"iss":"https://evil.example",${jsonText(claims()).slice(1)}`),
    expect: ok(),
  },
  {
    name: 'uses the lexically last of duplicated iss members: another issuer last is rejected',
    app: 'crafted',
    token: () => craft(`${jsonText(claims()).slice(0, -1)},"iss":"https://evil.example"}`),
    expect: rejected('token_issuer_mismatch'),
  },
  {
    name: 'rejects another aud',
    token: () => mint({ audience: 'https://other-api.example.test' }),
    expect: rejected('token_audience_mismatch'),
  },
  {
    name: 'rejects aud with a trailing slash',
    token: () => mint({ audience: `${issuer.audience}/` }),
    expect: rejected('token_audience_mismatch'),
  },
  {
    name: 'accepts an aud array that contains ours',
    token: () => mint({ audience: ['https://other-api.example.test', issuer.audience] }),
    expect: ok(),
  },
  {
    name: 'rejects an aud array that does not contain ours',
    token: () => mint({ audience: ['https://other-api.example.test', 'https://third.example.test'] }),
    expect: rejected('token_audience_mismatch'),
  },
  ...(['iss', 'aud', 'sub', 'client_id', 'jti', 'iat', 'exp'] as const).map(
    (claim): Case => ({
      name: `rejects a token missing the required "${claim}" claim`,
      token: () => mint({ claims: { [claim]: undefined } }),
      expect: rejected('token_claims_missing'),
    }),
  ),
  {
    name: 'rejects a missing sub hidden behind a "__proto__" member',
    app: 'crafted',
    token: () => craft(jsonText(claims(), { sub: undefined, ['__proto__']: '{"sub":"client-a"}' })),
    expect: rejected('token_claims_missing'),
  },
  {
    name: 'rejects client_id given as a number',
    token: () => mint({ claims: { client_id: 42 } }),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects sub given as an object',
    token: () => mint({ claims: { sub: { id: 'client-a' } } }),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects scope given as an array',
    token: () => mint({ claims: { scope: ['read', 'admin'] } }),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects a payload that is a JSON array',
    app: 'crafted',
    token: () => craft(JSON.stringify([claims()])),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects a payload that is a JSON string',
    app: 'crafted',
    token: () => craft(JSON.stringify(JSON.stringify(claims()))),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects a payload that is not JSON',
    app: 'crafted',
    token: () => craft('iss=https://evil.example&sub=client-a'),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects a payload that is not UTF-8',
    app: 'crafted',
    token: () =>
      craft(
        Buffer.concat([
          Buffer.from(jsonText(claims(), { sub: undefined }).slice(0, -1)),
          Buffer.from(',"sub":"client-\xff"}', 'latin1'),
        ]),
      ),
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects a payload prefixed with a UTF-8 byte order mark (RFC 8725 §3.7)',
    app: 'crafted',
    token: () => craft(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(jsonText(claims()))])),
    expect: rejected('token_malformed'),
  },
];

// ---------------------------------------------------------------------------------------------
// 4. cnf encodings and binding modes
// ---------------------------------------------------------------------------------------------

const withCnf = (cnf: unknown) => () => mint({ certificate: null, claims: { cnf } });

const cnfCases: Case[] = [
  {
    name: 'accepts a token bound to A presented with A (control)',
    token: () => mint(),
    expect: ok(),
  },
  {
    name: 'rejects a padded x5t#S256',
    token: () => withCnf({ 'x5t#S256': `${clientA.thumbprint}=` })(),
    expect: rejected('cnf_malformed'),
  },
  {
    name: 'rejects x5t#S256 in the standard base64 alphabet (unpadded)',
    token: () => withCnf({ 'x5t#S256': standardBase64(clientA.thumbprint).replace(/=+$/, '') })(),
    expect: rejected('cnf_malformed'),
  },
  {
    name: 'rejects x5t#S256 in padded standard base64',
    token: () => withCnf({ 'x5t#S256': standardBase64(clientA.thumbprint) })(),
    expect: rejected('cnf_malformed'),
  },
  {
    name: 'rejects x5t#S256 as a hex SHA-256',
    token: () => withCnf({ 'x5t#S256': hex(clientA.thumbprint) })(),
    expect: rejected('cnf_malformed'),
  },
  {
    name: 'rejects the non-canonical spelling of the right thumbprint (same bytes, other last character)',
    token: () => withCnf({ 'x5t#S256': nonCanonical(clientA.thumbprint) })(),
    expect: rejected('cnf_malformed'),
  },
  {
    name: "rejects a token bound to B's thumbprint presented with A",
    token: () => mint({ certificate: clientB }),
    expect: rejected('cnf_mismatch'),
  },
  {
    name: 'rejects a token bound to A presented with look-alike B',
    token: () => mint(),
    cert: 'B',
    expect: rejected('cnf_mismatch'),
  },
  {
    name: 'rejects a thumbprint with a trailing newline',
    token: () => withCnf({ 'x5t#S256': `${clientA.thumbprint}\n` })(),
    expect: rejected('cnf_malformed'),
  },
  {
    name: 'rejects a thumbprint with a leading space',
    token: () => withCnf({ 'x5t#S256': ` ${clientA.thumbprint}` })(),
    expect: rejected('cnf_malformed'),
  },
  {
    name: 'rejects a thumbprint truncated to 42 characters',
    token: () => withCnf({ 'x5t#S256': clientA.thumbprint.slice(0, 42) })(),
    expect: rejected('cnf_malformed'),
  },
  { name: 'rejects cnf: null', token: withCnf(null), expect: rejected('cnf_malformed') },
  { name: 'rejects cnf: []', token: withCnf([]), expect: rejected('cnf_malformed') },
  {
    name: 'rejects cnf: [{ x5t#S256 }] (an array holding the right member)',
    token: () => withCnf([{ 'x5t#S256': clientA.thumbprint }])(),
    expect: rejected('cnf_malformed'),
  },
  { name: 'rejects cnf: {}', token: withCnf({}), expect: rejected('cnf_malformed') },
  {
    name: 'rejects cnf given as the thumbprint string itself',
    token: () => withCnf(clientA.thumbprint)(),
    expect: rejected('cnf_malformed'),
  },
  {
    name: 'refuses cnf: { jkt } sent as Bearer with dpop_scheme_required, on the DPoP challenge (no downgrade)',
    token: withCnf({ jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' }),
    expect: rejected('dpop_scheme_required', 'DPoP'),
  },
  {
    name: 'refuses cnf: { x5t#S256, jkt } sent as Bearer with A: the DPoP proof is required too',
    token: () =>
      withCnf({ 'x5t#S256': clientA.thumbprint, jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' })(),
    expect: rejected('dpop_scheme_required', 'DPoP'),
  },
  {
    name: 'rejects cnf: { jkt } with DPoP off (dpop: false) as an unsupported confirmation',
    app: 'noDpop',
    token: withCnf({ jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' }),
    expect: rejected('cnf_unsupported'),
  },
  {
    name: 'rejects cnf: { x5t#S256, jkt } with DPoP off (dpop: false) as an unsupported confirmation',
    app: 'noDpop',
    token: () =>
      withCnf({ 'x5t#S256': clientA.thumbprint, jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' })(),
    expect: rejected('cnf_unsupported'),
  },
  {
    name: 'rejects cnf: { x5t } (SHA-1 thumbprint)',
    token: () =>
      withCnf({ x5t: Buffer.from(hex(clientA.thumbprint).slice(0, 40), 'hex').toString('base64url') })(),
    expect: rejected('cnf_unsupported'),
  },
  {
    name: 'rejects cnf: { X5T#S256 } (member names are case-sensitive)',
    token: () => withCnf({ 'X5T#S256': clientA.thumbprint })(),
    expect: rejected('cnf_unsupported'),
  },
  {
    name: 'rejects x5t#S256 given as a number',
    token: withCnf({ 'x5t#S256': 8705 }),
    expect: rejected('cnf_malformed'),
  },
  {
    name: 'rejects x5t#S256 given as an array holding the thumbprint',
    token: () => withCnf({ 'x5t#S256': [clientA.thumbprint] })(),
    expect: rejected('cnf_malformed'),
  },
  {
    name: 'binds to the lexically last of duplicated cnf members (B last, presented with A)',
    app: 'crafted',
    token: () =>
      craft(
        `${jsonText(claims()).slice(0, -1)},"cnf":${JSON.stringify({ 'x5t#S256': clientB.thumbprint })}}`,
      ),
    expect: rejected('cnf_mismatch'),
  },
  {
    name: 'rejects a token just accepted with A (validation memoized) when replayed with look-alike B',
    token: () => mint(),
    warmUp: true,
    cert: 'B',
    expect: rejected('cnf_mismatch'),
  },
  {
    name: 'rejects a token just accepted with A (validation memoized) when replayed without a certificate',
    token: () => mint(),
    warmUp: true,
    cert: 'none',
    expect: rejected('certificate_missing'),
  },
  {
    name: 'rejects a bound token sent without a client certificate',
    token: () => mint(),
    cert: 'none',
    expect: rejected('certificate_missing'),
  },
  {
    name: 'rejects an unbound token (no cnf) under binding "required"',
    token: () => mint({ certificate: null }),
    // DPoP is on in this app: either binding would do, and the description says so.
    expect: rejected('token_unbound', 'Bearer', 'A certificate-bound or DPoP-bound access token is required'),
  },
  {
    name: 'accepts an unbound token under binding "if-present"',
    app: 'ifPresent',
    token: () => mint({ certificate: null }),
    expect: ok(false),
  },
  {
    name: 'rejects a token bound to A presented with B under binding "if-present"',
    app: 'ifPresent',
    token: () => mint(),
    cert: 'B',
    expect: rejected('cnf_mismatch'),
  },
  {
    name: 'rejects a bound token without a certificate under binding "if-present"',
    app: 'ifPresent',
    token: () => mint(),
    cert: 'none',
    expect: rejected('certificate_missing'),
  },
  {
    name: 'rejects cnf: {} under binding "if-present" (fails closed in every mode)',
    app: 'ifPresent',
    token: withCnf({}),
    expect: rejected('cnf_malformed'),
  },
  {
    name: 'refuses cnf: { jkt } sent as Bearer under binding "if-present" too (dpop_scheme_required)',
    app: 'ifPresent',
    token: withCnf({ jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' }),
    expect: rejected('dpop_scheme_required', 'DPoP'),
  },
];

// ---------------------------------------------------------------------------------------------
// 5. The Authorization header (exact bytes through rawHeaders)
// ---------------------------------------------------------------------------------------------

const authorization = (value: string) => ['Authorization', value];

const authorizationCases: Case[] = [
  {
    name: 'answers a request without Authorization with a bare challenge',
    lines: () => [],
    expect: noCredentials,
  },
  {
    name: 'answers Basic credentials with a bare challenge (unsupported scheme, no error)',
    lines: () => authorization(`Basic ${Buffer.from('client-a:secret').toString('base64')}`),
    expect: noCredentials,
  },
  {
    name: 'answers an empty Authorization value with a bare challenge',
    lines: () => authorization(''),
    expect: noCredentials,
  },
  {
    name: 'refuses the DPoP scheme without a DPoP proof: dpop_proof_missing, on the DPoP challenge',
    token: () => mint(),
    lines: (t) => authorization(`DPoP ${t}`),
    expect: { kind: 'invalid-dpop-proof', code: 'dpop_proof_missing' },
  },
  {
    name: 'answers the DPoP scheme with the Bearer challenge alone when DPoP is off (dpop: false)',
    app: 'noDpop',
    token: () => mint(),
    lines: (t) => authorization(`DPoP ${t}`),
    expect: noCredentials,
  },
  {
    name: 'answers a scheme that merely starts with "Bearer" ("Bearerx") with a bare challenge',
    token: () => mint(),
    lines: (t) => authorization(`Bearerx ${t}`),
    expect: noCredentials,
  },
  {
    name: 'answers a token only in the ?access_token= query with a bare challenge',
    token: () => mint(),
    lines: () => [],
    path: (t) => `/resource?access_token=${t}`,
    expect: noCredentials,
  },
  {
    name: 'accepts the scheme in lower case ("bearer")',
    token: () => mint(),
    lines: (t) => authorization(`bearer ${t}`),
    expect: ok(),
  },
  {
    name: 'accepts the scheme in upper case ("BEARER")',
    token: () => mint(),
    lines: (t) => authorization(`BEARER ${t}`),
    expect: ok(),
  },
  {
    name: 'accepts several spaces between scheme and token (1*SP)',
    token: () => mint(),
    lines: (t) => authorization(`Bearer    ${t}`),
    expect: ok(),
  },
  {
    name: 'accepts the field name in upper case ("AUTHORIZATION")',
    token: () => mint(),
    lines: (t) => ['AUTHORIZATION', `Bearer ${t}`],
    expect: ok(),
  },
  {
    name: 'rejects a TAB between scheme and token with 400',
    token: () => mint(),
    lines: (t) => authorization(`Bearer\t${t}`),
    expect: badRequest(),
  },
  {
    name: 'rejects "Bearer" alone with 400',
    lines: () => authorization('Bearer'),
    expect: badRequest(),
  },
  {
    name: 'rejects "Bearer" followed only by spaces with 400',
    lines: () => authorization('Bearer    '),
    expect: badRequest(),
  },
  {
    name: 'rejects a token with a space inside with 400',
    token: () => mint(),
    lines: (t) => authorization(`Bearer ${t.slice(0, 30)} ${t.slice(30)}`),
    expect: badRequest(),
  },
  {
    name: 'rejects a token followed by a comma and another parameter with 400',
    token: () => mint(),
    lines: (t) => authorization(`Bearer ${t},realm="x"`),
    expect: badRequest(),
  },
  {
    name: 'rejects a quoted token with 400',
    token: () => mint(),
    lines: (t) => authorization(`Bearer "${t}"`),
    expect: badRequest(),
  },
  {
    name: 'rejects a token made only of "=" with 400',
    lines: () => authorization('Bearer ='),
    expect: badRequest(),
  },
  {
    name: 'rejects a token with non-ASCII (obs-text) bytes with 400',
    token: () => mint(),
    lines: (t) => authorization(`Bearer ${t.slice(0, 20)}\u00e9\u00ff${t.slice(20)}`),
    expect: badRequest(),
  },
  {
    name: 'answers a non-ASCII scheme ("Bearér") with a bare challenge',
    token: () => mint(),
    lines: (t) => authorization(`Bear\u00e9r ${t}`),
    expect: noCredentials,
  },
  {
    name: 'rejects a padded b64token that is syntactically fine but not a JWT with 401 token_malformed',
    token: async () => `${await mint()}==`,
    expect: rejected('token_malformed'),
  },
  {
    name: 'rejects two identical Authorization lines with 400',
    token: () => mint(),
    lines: (t) => [...authorization(`Bearer ${t}`), ...authorization(`Bearer ${t}`)],
    expect: badRequest('duplicate'),
  },
  {
    name: 'rejects "Authorization" and "authorization" lines together with 400',
    token: () => mint(),
    lines: (t) => ['Authorization', `Bearer ${t}`, 'authorization', `Bearer ${t}`],
    expect: badRequest('duplicate'),
  },
  {
    name: 'rejects Bearer and DPoP Authorization lines together with 400',
    token: () => mint(),
    lines: (t) => [...authorization(`Bearer ${t}`), ...authorization(`DPoP ${t}`)],
    expect: badRequest('duplicate'),
  },
  {
    name: 'rejects Bearer and Basic Authorization lines together with 400',
    token: () => mint(),
    lines: (t) => [...authorization(`Bearer ${t}`), ...authorization('Basic Y2xpZW50LWE6c2VjcmV0')],
    expect: badRequest('duplicate'),
  },
  {
    name: 'rejects a header token plus ?access_token= in the query with 400',
    token: () => mint(),
    path: (t) => `/resource?access_token=${t}`,
    expect: badRequest('multipleMethods'),
  },
  {
    name: 'rejects a header token plus an empty ?access_token= among other parameters with 400',
    token: () => mint(),
    path: () => '/resource?page=2&access_token=',
    expect: badRequest('multipleMethods'),
  },
  {
    name: 'rejects a header token plus a bare ?access_token (no "=") with 400',
    token: () => mint(),
    path: () => '/resource?access_token',
    expect: badRequest('multipleMethods'),
  },
  {
    name: 'rejects a header token plus ?access_token= holding malformed percent-escapes with 400',
    token: () => mint(),
    path: () => '/resource?access_token=%zz%E0%A4%A',
    expect: badRequest('multipleMethods'),
  },
  {
    name: 'rejects a header token plus a percent-encoded ?access%5Ftoken= in the query with 400',
    token: () => mint(),
    path: (t) => `/resource?access%5Ftoken=${t}`,
    expect: badRequest('multipleMethods'),
  },
  {
    name: 'rejects a 12 KB JWT-shaped token of garbage with 401 token_malformed',
    token: () => `${'A'.repeat(6000)}.${'B'.repeat(6000)}.${'C'.repeat(100)}`,
    expect: rejected('token_malformed'),
  },
  {
    name: "leaves a 20 KB token to Node's header limit (431, never 200 or 5xx)",
    token: () => `${'A'.repeat(10_000)}.${'B'.repeat(10_000)}.${'C'.repeat(100)}`,
    expect: { kind: 'header-too-large' },
  },
];

// ---------------------------------------------------------------------------------------------

const categories: Array<[string, Case[]]> = [
  ['algorithms and signatures', algorithmCases],
  ['JWT header parameters', headerCases],
  ['claims and time', claimCases],
  ['cnf encodings and binding modes', cnfCases],
  ['the Authorization header', authorizationCases],
];

describe('adversarial JWT path over real mTLS (Express)', () => {
  it('uses fixtures that make the encoding cases meaningful', () => {
    expect(clientA.thumbprint).not.toBe(clientB.thumbprint);
    expect(standardBase64(clientA.thumbprint).replace(/=+$/, '')).not.toBe(clientA.thumbprint);
    const spelled = nonCanonical(clientA.thumbprint);
    expect(spelled).not.toBe(clientA.thumbprint);
    expect(Buffer.from(spelled, 'base64url').equals(Buffer.from(clientA.thumbprint, 'base64url'))).toBe(true);
    for (const [, cases] of categories) expect(cases.length).toBeGreaterThanOrEqual(8);
  });

  for (const [category, cases] of categories) {
    describe(category, () => {
      for (const c of cases) it(c.name, () => run(c));
    });
  }
});
