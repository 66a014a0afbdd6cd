/**
 * Adversarial suite for DPoP proofs (RFC 9449 §4.3, §7.1, §9, §11.1), one check per row, end to end:
 * Express apps (`certbound()`, a catch-all route, `errorHandler()`) on real HTTPS servers asking
 * for client certificates (RFC 8705 §6.2), tokens from the test issuer bound to our DPoP keys
 * (`cnf.jkt`), and every request sent over a new mutual-TLS connection presenting certificate A.
 *
 * The proofs are hand-made here, never by certbound: exact header and payload objects (or bytes)
 * signed with node:crypto (`sign()` below) or with `jws-craft.ts`, so that a row can change one
 * thing — a header parameter, a claim, a signature byte, a header line — and nothing else.
 *
 * Apps:
 * - `main`: the defaults (no `dpop.origins`: `htu` is checked against `https://` + `Host`);
 * - `pinned`: `dpop.origins: ['https://api.example.test']` (the public origin, whatever `Host` says);
 * - `nonce`: resource-server nonces (`dpop.nonce`, RFC 9449 §9);
 * - `es512`: `dpop.algorithms: ['ES512']`.
 *
 * Every row asserts the whole outcome: the status, the JSON body (`error`, `error_description`,
 * `code`), the exact `WWW-Authenticate` (the DPoP challenge first, with the error), `DPoP-Nonce`
 * exactly when a nonce is asked for, never a 5xx, and neither the token nor the proof reflected.
 *
 * Where the RFCs and the core part ways, the row asserts the RFC and says why in a comment: `typ`
 * compared as a media type (two rows), the absolute-form request-target, and two `htu` strings
 * that a WHATWG URL parser equates with the request URI but RFC 3986 does not. Those rows fail
 * until the core follows them.
 */
import {
  constants,
  createHash,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import { createServer, request as httpsNodeRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { InvalidTokenError } from '@certbound/core';
import { certbound, errorHandler } from '@certbound/express';
import {
  createTestIssuer,
  createTestPki,
  type HttpsResponse,
  httpsRequest,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import express from 'express';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonceIssuer } from '../../packages/core/src/dpop/nonce.js';
import { type RunningApp, startHttpsApp } from '../support/https-app.js';
import { b64url, hmacJws, signingInput, unsignedJws } from './jws-craft.js';

const REALM = 'dpop-adversarial';
const DEFAULT_ALGS = 'ES256 ES384 EdDSA PS256 RS256';
const PINNED_ORIGIN = 'https://api.example.test';
const NONCE_SECRET = 'adversarial-nonce-secret-of-32+bytes!';
/** Long enough that no request of this suite crosses a nonce time step by accident. */
const NONCE_LIFETIME_SECONDS = 3600;
const NONCE_PATTERN = /^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/;

// ---------------------------------------------------------------------------------------------
// Keys and proofs
// ---------------------------------------------------------------------------------------------

type KeyKind = 'ES256' | 'ES384' | 'ES512' | 'EdDSA' | 'RS256' | 'PS256' | 'RSA-1024';

/** A DPoP key of ours: the public JWK a proof carries, the private key, its RFC 7638 thumbprint. */
interface ProofKey {
  /** The JWS algorithm the key signs with by default. */
  alg: string;
  /** Public members only (`kty`, `crv`, `x`, `y`, `n`, `e`). */
  jwk: JWK;
  /** The full private JWK (for the "private key in the header" rows). */
  privateJwk: JWK;
  privateKey: KeyObject;
  jkt: string;
}

async function proofKey(kind: KeyKind): Promise<ProofKey> {
  const pair =
    kind === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : kind === 'RS256' || kind === 'PS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : kind === 'RSA-1024'
          ? generateKeyPairSync('rsa', { modulusLength: 1024 })
          : generateKeyPairSync('ec', {
              namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[kind],
            });
  const jwk = pair.publicKey.export({ format: 'jwk' }) as JWK;
  return {
    alg: kind === 'RSA-1024' ? 'RS256' : kind,
    jwk,
    privateJwk: pair.privateKey.export({ format: 'jwk' }) as JWK,
    privateKey: pair.privateKey,
    jkt: await calculateJwkThumbprint(jwk, 'sha256'),
  };
}

/** The JWS signature of `input` under `alg` (RFC 7518 §3), ECDSA in the JWS (IEEE P1363) form unless told. */
function sign(key: KeyObject, alg: string, input: string, dsaEncoding: 'der' | 'ieee-p1363' = 'ieee-p1363') {
  const data = Buffer.from(input, 'ascii');
  switch (alg) {
    case 'ES256':
      return nodeSign('sha256', data, { key, dsaEncoding });
    case 'ES384':
      return nodeSign('sha384', data, { key, dsaEncoding });
    case 'ES512':
      return nodeSign('sha512', data, { key, dsaEncoding });
    case 'EdDSA':
      return nodeSign(null, data, key);
    case 'RS256':
      return nodeSign('sha256', data, key);
    case 'PS256':
      return nodeSign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    default:
      throw new Error(`no signer for ${alg}`);
  }
}

const sha256 = (text: string) => createHash('sha256').update(text, 'ascii').digest();
const athOf = (token: string) => sha256(token).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** Members to set on top of the defaults; `undefined` removes a member. */
type Overrides = Record<string, unknown>;

function withOverrides(base: Overrides, overrides: Overrides = {}): Overrides {
  const result: Overrides = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return result;
}

/** What a row builds its request from. */
interface Context {
  app: RunningApp;
  /** The access token sent (bound to `key` unless the row says otherwise). */
  token: string;
  /** The DPoP key the token is bound to and the proof is made with, unless the row says otherwise. */
  key: ProofKey;
  /** Request path and query. */
  path: string;
  method: string;
  /** The `htu` a correct proof names: the app's origin (or the pinned one) and the path, no query. */
  htu: string;
  /** A nonce the `nonce` app handed out (that app only). */
  nonce: string | undefined;
}

interface ProofSpec {
  /** Header members over `{ typ: 'dpop+jwt', alg, jwk }`. */
  header?: Overrides;
  /** Claims over `{ jti, htm, htu, iat, ath[, nonce] }`. */
  payload?: Overrides;
  /** The key whose public JWK is in the header and that signs. Default the context's key. */
  key?: ProofKey;
  /** Signs with this key instead (the header keeps `key`'s JWK). */
  signer?: ProofKey;
  /** The signature scheme actually used. Default the header's `alg`. */
  signAlg?: string;
  dsaEncoding?: 'der' | 'ieee-p1363';
}

function proofHeader(ctx: Context, spec: ProofSpec = {}): Overrides {
  const key = spec.key ?? ctx.key;
  return withOverrides({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk }, spec.header);
}

function proofPayload(ctx: Context, spec: ProofSpec = {}): Overrides {
  const base: Overrides = {
    jti: randomUUID(),
    htm: ctx.method,
    htu: ctx.htu,
    iat: now(),
    ath: athOf(ctx.token),
  };
  if (ctx.nonce !== undefined) base.nonce = ctx.nonce;
  return withOverrides(base, spec.payload);
}

/** A proof for the context's request, changed as `spec` says. */
function proof(ctx: Context, spec: ProofSpec = {}): string {
  const header = proofHeader(ctx, spec);
  const input = signingInput(header, proofPayload(ctx, spec));
  const signer = spec.signer ?? spec.key ?? ctx.key;
  const alg = spec.signAlg ?? (typeof header.alg === 'string' ? header.alg : signer.alg);
  return `${input}.${b64url(sign(signer.privateKey, alg, input, spec.dsaEncoding))}`;
}

/** Signs exact header and payload text (or objects) with the context's key, as ES256. */
function proofFromText(ctx: Context, header: string | object, payload: string | object): string {
  const input = signingInput(header, payload);
  return `${input}.${b64url(sign(ctx.key.privateKey, ctx.key.alg, input))}`;
}

function flipSignatureByte(jws: string): string {
  const [h, p, s] = jws.split('.') as [string, string, string];
  const signature = Buffer.from(s, 'base64url');
  signature[5] = signature[5]! ^ 0x01;
  return `${h}.${p}.${signature.toString('base64url')}`;
}

// ---------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------

type AppName = 'main' | 'pinned' | 'nonce' | 'es512';

let pki: TestPki;
let issuer: TestIssuer;
/** The certificate every request presents (unless a row says otherwise). */
let certA: TestCertificate;
/** Same subject as A, another key. */
let lookAlikeB: TestCertificate;
/** Our DPoP keys: alice (ES256, the default), bob (ES256, another client), and one per algorithm. */
let alice: ProofKey;
let bob: ProofKey;
let keys: Record<Exclude<KeyKind, 'ES256'>, ProofKey>;
let apps: Record<AppName, RunningApp>;
/** An HTTPS server the attacker controls (`jku`); it must never be contacted. */
let attacker: { url: string; hits: number; server: Server };

/** A token from the test issuer bound to `key` (`cnf.jkt`), and to a certificate if given. */
function mint(key: ProofKey | null, certificate?: TestCertificate): Promise<string> {
  const cnf: Record<string, string> = {};
  if (key) cnf.jkt = key.jkt;
  if (certificate) cnf['x5t#S256'] = certificate.thumbprint;
  return issuer.mintAccessToken({
    scope: 'read',
    claims: { cnf: Object.keys(cnf).length === 0 ? undefined : cnf },
  });
}

async function startAttackerServer(): Promise<typeof attacker> {
  const state = { url: '', hits: 0, server: undefined as unknown as Server };
  state.server = createServer({ cert: pki.server.cert, key: pki.server.key }, (_req, res) => {
    state.hits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [bob.jwk] }));
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `https://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  return state;
}

beforeAll(async () => {
  pki = await createTestPki();
  issuer = await createTestIssuer({ pki, algorithms: ['ES256'] });
  certA = await pki.issueClient({ subject: 'CN=client-a, O=certbound' });
  lookAlikeB = await pki.issueClient({ subject: 'CN=client-a, O=certbound' });
  [alice, bob] = await Promise.all([proofKey('ES256'), proofKey('ES256')]);
  const kinds = ['ES384', 'ES512', 'EdDSA', 'RS256', 'PS256', 'RSA-1024'] as const;
  const made = await Promise.all(kinds.map((kind) => proofKey(kind)));
  keys = Object.fromEntries(kinds.map((kind, i) => [kind, made[i]!])) as typeof keys;
  attacker = await startAttackerServer();

  const appWith = (dpop: Record<string, unknown> | undefined) => {
    const api = express();
    api.use(
      certbound({
        issuer: issuer.issuer,
        audience: issuer.audience,
        tls: { ca: issuer.ca },
        realm: REALM,
        ...(dpop === undefined ? {} : { dpop }),
      }),
    );
    api.use((req, res) => {
      res.json({
        scheme: req.auth?.scheme,
        jkt: req.auth?.jkt,
        bound: req.auth?.bound,
        thumbprint: req.auth?.thumbprint,
      });
    });
    api.use(errorHandler());
    return startHttpsApp(api, pki);
  };
  const [main, pinned, nonce, es512] = await Promise.all([
    appWith(undefined),
    appWith({ origins: [PINNED_ORIGIN] }),
    appWith({ nonce: { secret: NONCE_SECRET, lifetimeSeconds: NONCE_LIFETIME_SECONDS } }),
    appWith({ algorithms: ['ES512'] }),
  ]);
  apps = { main, pinned, nonce, es512 };
});

afterAll(async () => {
  await Promise.all([
    ...Object.values(apps ?? {}).map((app) => app.close()),
    issuer?.close(),
    attacker &&
      new Promise<void>((resolve) => {
        attacker.server.close(() => resolve());
        attacker.server.closeAllConnections();
      }),
  ]);
});

// ---------------------------------------------------------------------------------------------
// Rows and the runner
// ---------------------------------------------------------------------------------------------

type RefusalCode = Exclude<ConstructorParameters<typeof InvalidTokenError>[0], 'credentials_missing'>;

type Outcome = { kind: 'ok'; key?: () => ProofKey } | { kind: 'refused'; code: RefusalCode };

interface Case {
  name: string;
  /** Default `main`. */
  app?: AppName;
  /** The key the token is bound to and proofs are made with. Default alice. */
  key?: () => ProofKey;
  /** The token. Default: minted for the case's key. */
  token?: (key: ProofKey) => Promise<string>;
  /** Request path (and query). Default `/accounts`. */
  path?: string;
  /** The exact request-target to send instead of `path` (from the app's base URL). */
  target?: (base: string) => string;
  method?: string;
  /** The `htu` a correct proof names, from the app's base URL. Default `<base><path without query>`. */
  htu?: (base: string) => string;
  /** The `DPoP` field value. Default a correct proof. */
  proof?: (ctx: Context) => string;
  /** The request's header lines. Default `Authorization: DPoP <token>` and `DPoP: <proof>`. */
  lines?: (ctx: Context, proof: string) => string[];
  /** Client certificate on the connection. Default A. */
  cert?: 'A' | 'B' | 'none';
  /** Send the identical request first and require a 200 (the row is then the replay). */
  replay?: boolean;
  /** Something to send first (and require a 200 from), e.g. another proof with the same `jti`. */
  before?: (ctx: Context) => { proof: string; token?: string };
  /** The nonce the default proof carries on the `nonce` app. Default one the app handed out. */
  nonce?: () => string | undefined;
  expect: Outcome;
}

const ok = (key?: () => ProofKey): Outcome => ({ kind: 'ok', key });
const refused = (code: RefusalCode): Outcome => ({ kind: 'refused', code });
const invalidProof = refused('dpop_proof_invalid');

/** The `error` each code answers with (RFC 9449 §7.1, §9; RFC 6750 §3.1). */
function errorOf(code: RefusalCode): string {
  const error = new InvalidTokenError(code).error;
  if (error === undefined) throw new Error(`no error for ${code}`);
  return error;
}

function algsOf(app: AppName): string {
  return app === 'es512' ? 'ES512' : DEFAULT_ALGS;
}

function challenge(app: AppName, code: RefusalCode): string {
  const description = new InvalidTokenError(code).description;
  return `DPoP realm="${REALM}", error="${errorOf(code)}", error_description="${description}", algs="${algsOf(app)}", Bearer realm="${REALM}"`;
}

function assertNotReflected(res: HttpsResponse, secrets: string[]): void {
  const needles = secrets.flatMap((s) => [s, ...s.split('.')]).filter((s) => s.length >= 24);
  const haystack = [res.body, ...Object.entries(res.headers).flatMap(([n, v]) => [n, String(v)])].join('\n');
  for (const needle of needles)
    expect(haystack.includes(needle), 'input reflected in the response').toBe(false);
}

/** A nonce the `nonce` app hands out: from the `DPoP-Nonce` of its answer to a proof without one. */
async function serverNonce(): Promise<string> {
  const token = await mint(alice);
  const ctx: Context = {
    app: apps.nonce,
    token,
    key: alice,
    path: '/accounts',
    method: 'GET',
    htu: `${apps.nonce.url}/accounts`,
    nonce: undefined,
  };
  const res = await httpsRequest(`${apps.nonce.url}/accounts`, {
    ca: pki.ca.cert,
    certificate: certA,
    rawHeaders: ['Authorization', `DPoP ${token}`, 'DPoP', proof(ctx)],
  });
  const nonce = res.headers['dpop-nonce'];
  if (res.status !== 401 || typeof nonce !== 'string') throw new Error(`no nonce: ${res.status} ${res.body}`);
  return nonce;
}

/**
 * One request over a new mutual-TLS connection; with a `target`, that exact request-target
 * (e.g. the absolute-form, RFC 9112 §3.2.2) instead of the path.
 */
function send(ctx: Context, c: Case, proofValue: string): Promise<HttpsResponse> {
  const certificate = c.cert === 'none' ? undefined : c.cert === 'B' ? lookAlikeB : certA;
  const lines = c.lines
    ? c.lines(ctx, proofValue)
    : ['Authorization', `DPoP ${ctx.token}`, 'DPoP', proofValue];
  if (c.target === undefined) {
    return httpsRequest(`${ctx.app.url}${ctx.path}`, {
      method: ctx.method,
      ca: pki.ca.cert,
      certificate,
      rawHeaders: lines,
    });
  }
  const url = new URL(ctx.app.url);
  return new Promise((resolve, reject) => {
    const req = httpsNodeRequest(
      {
        hostname: url.hostname,
        port: url.port,
        path: c.target!(ctx.app.url),
        method: ctx.method,
        ca: pki.ca.cert,
        cert: certificate?.cert,
        key: certificate?.key,
        agent: false,
        headers: ['Host', url.host, ...lines] as unknown as OutgoingHttpHeaders,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function run(c: Case): Promise<void> {
  const appName = c.app ?? 'main';
  const app = apps[appName];
  const key = c.key?.() ?? alice;
  const token = c.token ? await c.token(key) : await mint(key);
  const path = c.path ?? '/accounts';
  const base = appName === 'pinned' ? PINNED_ORIGIN : app.url;
  const nonce = appName === 'nonce' ? (c.nonce ? c.nonce() : await serverNonce()) : undefined;
  const ctx: Context = {
    app,
    token,
    key,
    path,
    method: c.method ?? 'GET',
    htu: c.htu ? c.htu(base) : `${base}${path.split('?')[0]}`,
    nonce,
  };
  const proofValue = c.proof ? c.proof(ctx) : proof(ctx);
  if (c.replay || c.before) {
    const first = c.before ? c.before(ctx) : { proof: proofValue };
    const firstCtx = { ...ctx, token: first.token ?? ctx.token };
    const warmUp = await send(firstCtx, { ...c, lines: undefined }, first.proof);
    expect(warmUp.status, `first request: ${warmUp.body}`).toBe(200);
  }
  const res = await send(ctx, c, proofValue);
  expect(res.status, `body: ${res.body}`).toBeLessThan(500);

  if (c.expect.kind === 'ok') {
    const expectedKey = c.expect.key?.() ?? key;
    const presented = c.cert === 'none' ? undefined : c.cert === 'B' ? lookAlikeB : certA;
    expect(res.status, `body: ${res.body}`).toBe(200);
    expect(res.json).toStrictEqual({
      scheme: 'DPoP',
      jkt: expectedKey.jkt,
      bound: true,
      ...(presented ? { thumbprint: presented.thumbprint } : {}),
    });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['www-authenticate']).toBeUndefined();
    if (appName === 'nonce') expect(res.headers['dpop-nonce']).toMatch(NONCE_PATTERN);
    else expect(res.headers['dpop-nonce']).toBeUndefined();
  } else {
    const { code } = c.expect;
    expect(res.status, `body: ${res.body}`).toBe(401);
    expect(res.json).toStrictEqual({
      error: errorOf(code),
      error_description: new InvalidTokenError(code).description,
      code,
    });
    expect(res.headers['www-authenticate']).toBe(challenge(appName, code));
    if (code === 'dpop_nonce_required') expect(res.headers['dpop-nonce']).toMatch(NONCE_PATTERN);
    else expect(res.headers['dpop-nonce']).toBeUndefined();
    assertNotReflected(res, [token, proofValue]);
  }
  expect(attacker.hits, 'jku must never be fetched').toBe(0);
}

// ---------------------------------------------------------------------------------------------
// 1. The DPoP header field (§4.3 steps 1, 2) and the JWS shape
// ---------------------------------------------------------------------------------------------

const fieldCases: Case[] = [
  {
    name: 'accepts a correct ES256 proof (control)',
    expect: ok(),
  },
  {
    name: 'refuses the DPoP scheme without a DPoP header',
    lines: (ctx) => ['Authorization', `DPoP ${ctx.token}`],
    expect: refused('dpop_proof_missing'),
  },
  {
    name: 'refuses two DPoP header lines, each a correct proof',
    lines: (ctx, p) => ['Authorization', `DPoP ${ctx.token}`, 'DPoP', p, 'DPoP', proof(ctx)],
    expect: invalidProof,
  },
  {
    name: 'refuses the same correct proof in two DPoP header lines',
    lines: (ctx, p) => ['Authorization', `DPoP ${ctx.token}`, 'DPoP', p, 'dpop', p],
    expect: invalidProof,
  },
  {
    name: 'refuses two proofs joined by a comma in one DPoP line',
    proof: (ctx) => `${proof(ctx)}, ${proof(ctx)}`,
    expect: invalidProof,
  },
  {
    name: 'refuses an empty DPoP header',
    proof: () => '',
    expect: invalidProof,
  },
  {
    name: 'refuses a DPoP header of spaces',
    proof: () => '   ',
    expect: invalidProof,
  },
  {
    name: 'refuses a correctly signed proof larger than 8 KiB (9000 characters of padding claim)',
    proof: (ctx) => proof(ctx, { payload: { pad: 'p'.repeat(9000) } }),
    expect: invalidProof,
  },
  {
    name: 'accepts a correctly signed proof just under 8 KiB (control for the size cap)',
    proof: (ctx) => {
      const value = proof(ctx, { payload: { pad: 'p'.repeat(5600) } });
      if (value.length > 8192 || value.length < 7600) throw new Error(`bad fixture: ${value.length}`);
      return value;
    },
    expect: ok(),
  },
  {
    name: 'refuses a proof of two segments (signature dropped)',
    proof: (ctx) => proof(ctx).split('.').slice(0, 2).join('.'),
    expect: invalidProof,
  },
  {
    name: 'refuses garbage that is not a JWS',
    proof: () => 'not-a-jwt-at-all',
    expect: invalidProof,
  },
  {
    name: 'refuses five segments (the shape of a JWE)',
    proof: (ctx) => `${proof(ctx)}.AAAA.BBBB`,
    expect: invalidProof,
  },
  {
    name: 'refuses a header segment that is not JSON',
    proof: (ctx) => proofFromText(ctx, 'dpop+jwt', proofPayload(ctx)),
    expect: invalidProof,
  },
  {
    name: 'refuses a payload that is a JSON array',
    proof: (ctx) => proofFromText(ctx, proofHeader(ctx), '[1,2,3]'),
    expect: invalidProof,
  },
  {
    name: 'refuses a proof whose segments use the standard base64 alphabet',
    proof: (ctx) =>
      proof(ctx)
        .split('.')
        .map((s) => Buffer.from(s, 'base64url').toString('base64'))
        .join('.'),
    expect: invalidProof,
  },
  {
    name: 'accepts the DPoP scheme name in lower case (auth schemes are case-insensitive, RFC 9110 §11.1)',
    lines: (ctx, p) => ['Authorization', `dpop ${ctx.token}`, 'DPoP', p],
    expect: ok(),
  },
];

// ---------------------------------------------------------------------------------------------
// 2. typ (§4.3 step 4)
// ---------------------------------------------------------------------------------------------

const typCases: Case[] = [
  {
    name: 'refuses typ "JWT"',
    proof: (ctx) => proof(ctx, { header: { typ: 'JWT' } }),
    expect: invalidProof,
  },
  {
    name: 'refuses a proof without typ',
    proof: (ctx) => proof(ctx, { header: { typ: undefined } }),
    expect: invalidProof,
  },
  {
    name: 'refuses typ "at+jwt" (an access token, not a proof)',
    proof: (ctx) => proof(ctx, { header: { typ: 'at+jwt' } }),
    expect: invalidProof,
  },
  {
    name: 'refuses typ "dpop+jwt " (trailing space)',
    proof: (ctx) => proof(ctx, { header: { typ: 'dpop+jwt ' } }),
    expect: invalidProof,
  },
  // `typ` is a media type (RFC 7515 §4.1.9): "Per RFC 2045, all media type values, subtype
  // values, and parameter names are case insensitive", and "A recipient using the media type value
  // MUST treat it as if 'application/' were prepended to any 'typ' value not containing a '/'".
  // `DPOP+JWT` and `application/dpop+jwt` therefore *are* the value dpop+jwt that RFC 9449 §4.3
  // step 4 asks for (application/dpop+jwt, §12.5), and explicit typing (RFC 8725 §3.11) loses
  // nothing: no other kind of JWT carries that media type. jose's `jwtVerify({ typ })` and
  // oidc-provider's token endpoint compare it so. The core compares the exact string: these two
  // rows record that deviation (interoperability only; no security consequence).
  {
    name: 'accepts typ "DPOP+JWT" (media types are case-insensitive, RFC 7515 §4.1.9)',
    proof: (ctx) => proof(ctx, { header: { typ: 'DPOP+JWT' } }),
    expect: ok(),
  },
  {
    name: 'accepts typ "application/dpop+jwt" (the same media type with its prefix, RFC 7515 §4.1.9)',
    proof: (ctx) => proof(ctx, { header: { typ: 'application/dpop+jwt' } }),
    expect: ok(),
  },
];

// ---------------------------------------------------------------------------------------------
// 3. alg, jwk and the signature (§4.3 steps 5, 6, 7)
// ---------------------------------------------------------------------------------------------

const signatureCases: Case[] = [
  ...(['ES384', 'EdDSA', 'RS256', 'PS256'] as const).map(
    (kind): Case => ({
      name: `accepts a correct ${kind} proof (control)`,
      key: () => keys[kind],
      expect: ok(),
    }),
  ),
  {
    name: 'refuses alg "none" with an empty signature',
    proof: (ctx) => unsignedJws(proofHeader(ctx, { header: { alg: 'none' } }), proofPayload(ctx)),
    expect: invalidProof,
  },
  {
    name: 'refuses alg "none" carrying a signature copied from a correct proof',
    proof: (ctx) =>
      unsignedJws(proofHeader(ctx, { header: { alg: 'none' } }), proofPayload(ctx), proof(ctx).split('.')[2]),
    expect: invalidProof,
  },
  {
    name: 'refuses HS256 with a symmetric jwk (kty oct) that the proof is MACed with',
    proof: (ctx) => {
      const secret = randomBytes(32);
      return hmacJws(
        proofHeader(ctx, { header: { alg: 'HS256', jwk: { kty: 'oct', k: secret.toString('base64url') } } }),
        proofPayload(ctx),
        secret,
      );
    },
    expect: invalidProof,
  },
  {
    name: 'refuses HS256 with the public EC jwk, MACed with its x coordinate (key confusion)',
    proof: (ctx) =>
      hmacJws(
        proofHeader(ctx, { header: { alg: 'HS256' } }),
        proofPayload(ctx),
        Buffer.from(ctx.key.jwk.x!, 'base64url'),
      ),
    expect: invalidProof,
  },
  {
    name: 'refuses ES512, an algorithm the app does not allow',
    key: () => keys.ES512,
    expect: invalidProof,
  },
  {
    name: 'accepts ES512 where dpop.algorithms lists it (control)',
    app: 'es512',
    key: () => keys.ES512,
    expect: ok(),
  },
  {
    name: 'refuses ES256 where dpop.algorithms lists only ES512',
    app: 'es512',
    expect: invalidProof,
  },
  {
    name: 'refuses Ed25519 (the fully-specified name), not in the default list',
    key: () => keys.EdDSA,
    proof: (ctx) => proof(ctx, { header: { alg: 'Ed25519' }, signAlg: 'EdDSA' }),
    expect: invalidProof,
  },
  {
    name: 'refuses a proof without alg',
    proof: (ctx) => proof(ctx, { header: { alg: undefined }, signAlg: 'ES256' }),
    expect: invalidProof,
  },
  {
    name: 'refuses alg ES384 over a P-256 jwk (alg and key disagree)',
    proof: (ctx) => proof(ctx, { header: { alg: 'ES384' }, signAlg: 'ES256' }),
    expect: invalidProof,
  },
  {
    name: 'refuses alg RS256 over an EC jwk',
    proof: (ctx) => proof(ctx, { header: { alg: 'RS256' }, signAlg: 'ES256' }),
    expect: invalidProof,
  },
  {
    name: 'refuses alg RS256 over an RSA key that signed with PSS',
    key: () => keys.RS256,
    proof: (ctx) => proof(ctx, { signAlg: 'PS256' }),
    expect: invalidProof,
  },
  {
    name: 'refuses an RS256 proof by a 1024-bit RSA key (RFC 7518 §3.3: 2048 bits or larger)',
    key: () => keys['RSA-1024'],
    expect: invalidProof,
  },
  {
    name: 'refuses an ES256 signature in DER form instead of the JWS R||S form',
    proof: (ctx) => proof(ctx, { dsaEncoding: 'der' }),
    expect: invalidProof,
  },
  {
    name: 'refuses a proof without jwk',
    proof: (ctx) => proof(ctx, { header: { jwk: undefined } }),
    expect: invalidProof,
  },
  {
    name: 'refuses a jwk that is a string (the thumbprint)',
    proof: (ctx) => proof(ctx, { header: { jwk: ctx.key.jkt } }),
    expect: invalidProof,
  },
  {
    name: 'refuses a jwk carrying the private key (d)',
    proof: (ctx) => proof(ctx, { header: { jwk: ctx.key.privateJwk } }),
    expect: invalidProof,
  },
  {
    name: 'refuses an RSA jwk carrying a private member (p) only',
    key: () => keys.RS256,
    proof: (ctx) => proof(ctx, { header: { jwk: { ...ctx.key.jwk, p: ctx.key.privateJwk.p } } }),
    expect: invalidProof,
  },
  {
    name: 'refuses a jwk of kty "oct" under ES256',
    proof: (ctx) => proof(ctx, { header: { jwk: { kty: 'oct', k: randomBytes(32).toString('base64url') } } }),
    expect: invalidProof,
  },
  {
    name: 'refuses a jwk without kty',
    proof: (ctx) => proof(ctx, { header: { jwk: { ...ctx.key.jwk, kty: undefined } } }),
    expect: invalidProof,
  },
  {
    name: "refuses a proof carrying alice's jwk but signed by another key",
    proof: (ctx) => proof(ctx, { signer: bob }),
    expect: invalidProof,
  },
  {
    name: 'refuses a correct proof with one signature byte flipped',
    proof: (ctx) => flipSignatureByte(proof(ctx)),
    expect: invalidProof,
  },
  {
    name: 'refuses a correct signature moved onto a changed payload',
    proof: (ctx) => {
      const [h, , s] = proof(ctx).split('.');
      return `${h}.${b64url(JSON.stringify(proofPayload(ctx)))}.${s}`;
    },
    expect: invalidProof,
  },
];

// ---------------------------------------------------------------------------------------------
// 4. Other JOSE header parameters (RFC 7515 §4.1.11, RFC 7797, RFC 8725 §3.10)
// ---------------------------------------------------------------------------------------------

const joseHeaderCases: Case[] = [
  {
    // RFC 7515 §4.1.11: a recipient MUST reject a JWS whose `crit` lists an extension it does
    // not understand.
    name: 'refuses a crit header naming an extension the server does not understand',
    proof: (ctx) => proof(ctx, { header: { crit: ['urn:example:ext'], 'urn:example:ext': true } }),
    expect: invalidProof,
  },
  {
    // The signing input is unchanged (the payload segment is signed as its own bytes), so only
    // the `b64: false` header differs from a correct proof: a JWT never has an unencoded payload.
    name: 'refuses b64: false (RFC 7797) even with the payload bytes signed as sent',
    proof: (ctx) => proof(ctx, { header: { b64: false, crit: ['b64'] } }),
    expect: invalidProof,
  },
  {
    name: 'refuses b64: false with a detached payload',
    proof: (ctx) => {
      const header = proofHeader(ctx, { header: { b64: false, crit: ['b64'] } });
      const input = `${b64url(JSON.stringify(header))}.${JSON.stringify(proofPayload(ctx))}`;
      return `${b64url(JSON.stringify(header))}..${b64url(sign(ctx.key.privateKey, 'ES256', input))}`;
    },
    expect: invalidProof,
  },
  // RFC 9449 §4.2: "A DPoP proof MAY contain other JOSE Header Parameters"; the key is the one in
  // `jwk`, so `kid`, `x5c` and `jku` say nothing the verifier needs, and following `jku`/`x5u`
  // would let a request make the server fetch attacker URLs (RFC 8725 §3.10). Ignored: accepted.
  {
    name: 'ignores an extra kid header (the key is the jwk)',
    proof: (ctx) => proof(ctx, { header: { kid: 'some-other-key' } }),
    expect: ok(),
  },
  {
    name: "ignores an x5c header holding another key's certificate (the key is the jwk)",
    proof: (ctx) => proof(ctx, { header: { x5c: [lookAlikeB.der.toString('base64')] } }),
    expect: ok(),
  },
  {
    name: 'does not take the key from x5c: signed by the x5c certificate key, jwk of alice',
    proof: (ctx) => {
      const header = proofHeader(ctx, { header: { x5c: [certA.der.toString('base64')] } });
      const input = signingInput(header, proofPayload(ctx));
      const certKey = { key: certA.key, dsaEncoding: 'ieee-p1363' as const };
      return `${input}.${b64url(nodeSign('sha256', Buffer.from(input), certKey))}`;
    },
    expect: invalidProof,
  },
  {
    name: 'ignores a jku header and never fetches it',
    proof: (ctx) => proof(ctx, { header: { jku: `${attacker.url}/jwks.json` } }),
    expect: ok(),
  },
];

// ---------------------------------------------------------------------------------------------
// 5. htm (§4.3 step 8)
// ---------------------------------------------------------------------------------------------

const htmCases: Case[] = [
  {
    name: 'refuses htm POST on a GET request',
    proof: (ctx) => proof(ctx, { payload: { htm: 'POST' } }),
    expect: invalidProof,
  },
  {
    name: 'refuses htm "get" (methods are case-sensitive, RFC 9110 §9.1)',
    proof: (ctx) => proof(ctx, { payload: { htm: 'get' } }),
    expect: invalidProof,
  },
  {
    name: 'refuses a proof without htm',
    proof: (ctx) => proof(ctx, { payload: { htm: undefined } }),
    expect: invalidProof,
  },
  {
    name: 'refuses htm ["GET"] (not a string)',
    proof: (ctx) => proof(ctx, { payload: { htm: ['GET'] } }),
    expect: invalidProof,
  },
  {
    name: 'accepts htm POST on a POST request (control)',
    method: 'POST',
    expect: ok(),
  },
  {
    name: 'refuses htm GET on a POST request',
    method: 'POST',
    proof: (ctx) => proof(ctx, { payload: { htm: 'GET' } }),
    expect: invalidProof,
  },
];

// ---------------------------------------------------------------------------------------------
// 6. htu (§4.3 step 9: query and fragment ignored; RFC 3986 §6.2.2, §6.2.3 normalization)
// ---------------------------------------------------------------------------------------------

const port = (base: string) => Number(new URL(base).port);

const htuCases: Case[] = [
  {
    name: 'refuses htu naming another host',
    htu: (base) => `https://localhost:${port(base)}/accounts`,
    expect: invalidProof,
  },
  {
    name: 'refuses htu naming another path',
    htu: (base) => `${base}/other`,
    expect: invalidProof,
  },
  {
    name: 'refuses htu naming the path with a trailing slash',
    htu: (base) => `${base}/accounts/`,
    expect: invalidProof,
  },
  {
    name: 'refuses htu naming the path in another case (paths are case-sensitive)',
    htu: (base) => `${base}/Accounts`,
    expect: invalidProof,
  },
  {
    name: 'refuses htu with the http scheme for an https request',
    htu: (base) => `${base.replace('https:', 'http:')}/accounts`,
    expect: invalidProof,
  },
  {
    name: 'refuses htu naming another port',
    htu: (base) => `https://127.0.0.1:${port(base) + 1}/accounts`,
    expect: invalidProof,
  },
  {
    name: 'refuses htu with a percent-encoded slash where the request has a slash',
    path: '/accounts/42',
    htu: (base) => `${base}/accounts%2F42`,
    expect: invalidProof,
  },
  {
    name: 'accepts htu with a query (ignored)',
    htu: (base) => `${base}/accounts?page=2&sort=desc`,
    expect: ok(),
  },
  {
    name: 'accepts a request with a query whose htu has none (ignored)',
    path: '/accounts?page=2',
    expect: ok(),
  },
  {
    name: 'accepts htu with a query other than the request’s (ignored on both sides)',
    path: '/accounts?page=2',
    htu: (base) => `${base}/accounts?page=3`,
    expect: ok(),
  },
  {
    name: 'accepts htu with a fragment (ignored)',
    htu: (base) => `${base}/accounts#section`,
    expect: ok(),
  },
  {
    name: 'refuses a proof without htu',
    proof: (ctx) => proof(ctx, { payload: { htu: undefined } }),
    expect: invalidProof,
  },
  {
    name: 'refuses htu that is not a string',
    proof: (ctx) => proof(ctx, { payload: { htu: { href: ctx.htu } } }),
    expect: invalidProof,
  },
  {
    name: 'refuses a relative htu (the path alone)',
    htu: () => '/accounts',
    expect: invalidProof,
  },
  {
    name: 'refuses a scheme-relative htu',
    htu: (base) => `${base.replace('https:', '')}/accounts`,
    expect: invalidProof,
  },
  {
    // RFC 9110 §4.2.4: userinfo is never part of an http(s) target URI; a recipient SHOULD treat
    // its presence as an error.
    name: 'refuses htu with userinfo',
    htu: (base) => `${base.replace('https://', 'https://user:secret@')}/accounts`,
    expect: invalidProof,
  },
  {
    name: 'accepts htu whose percent-encodings use lower-case hex (RFC 3986 §6.2.2.1)',
    path: '/files/caf%C3%A9',
    htu: (base) => `${base}/files/caf%c3%a9`,
    expect: ok(),
  },
  {
    name: 'accepts htu with percent-encoded unreserved characters (RFC 3986 §6.2.2.2)',
    htu: (base) => `${base}/%61ccount%73`,
    expect: ok(),
  },
  {
    name: 'accepts htu with dot segments (/a/../accounts, RFC 3986 §6.2.2.3)',
    htu: (base) => `${base}/a/../accounts`,
    expect: ok(),
  },
  {
    name: 'accepts htu with an upper-case scheme',
    htu: (base) => `${base.replace('https:', 'HTTPS:')}/accounts`,
    expect: ok(),
  },
  {
    name: 'accepts htu with the default port explicit (https://api.example.test:443, RFC 3986 §6.2.3)',
    app: 'pinned',
    htu: () => 'https://api.example.test:443/accounts',
    expect: ok(),
  },
  {
    name: 'accepts htu with an upper-case host (RFC 3986 §6.2.2.1)',
    app: 'pinned',
    htu: () => 'https://API.Example.TEST/accounts',
    expect: ok(),
  },
  {
    name: 'accepts htu with an empty path for a request to / (RFC 3986 §6.2.3)',
    app: 'pinned',
    path: '/',
    htu: () => 'https://api.example.test',
    expect: ok(),
  },
  {
    name: 'refuses, on an app with configured origins, htu naming the Host origin instead',
    app: 'pinned',
    htu: () => `${apps.pinned.url}/accounts`,
    expect: invalidProof,
  },
  {
    name: 'refuses, on an app with configured origins, htu naming another port of the origin',
    app: 'pinned',
    htu: () => 'https://api.example.test:8443/accounts',
    expect: invalidProof,
  },
  {
    // RFC 9112 §3.2.2: a server MUST accept the absolute-form; the target URI is then that
    // absolute URI (RFC 9112 §3.3), which a proof naming it matches. (Express routes the request
    // by its path, so the app itself serves it.)
    name: 'accepts a request sent in absolute-form whose proof names that URI (RFC 9112 §3.2.2)',
    target: (base) => `${base}/accounts`,
    expect: ok(),
  },
  // The two rows below are strings RFC 3986 does not make equal to the request URI. `\` is not a
  // URI character at all (RFC 3986 §2), so `https://host:port\accounts` is no URI, let alone
  // this request's; and `2130706433` is a reg-name (RFC 3986 §3.2.2: only dotted-decimal is an
  // IPv4 literal; §7.4 calls such forms out), not 127.0.0.1. A WHATWG URL parser equates both with
  // the request URI; RFC 9449 §4.3 asks for RFC 3986 normalization.
  {
    name: 'refuses htu with a backslash for the path separator (not a URI, RFC 3986 §2)',
    htu: (base) => `${base}\\accounts`,
    expect: invalidProof,
  },
  {
    name: 'refuses htu naming the host as the decimal number 2130706433 (a reg-name, not 127.0.0.1)',
    htu: (base) => `https://2130706433:${port(base)}/accounts`,
    expect: invalidProof,
  },
];

// ---------------------------------------------------------------------------------------------
// 7. iat (§4.3 step 11, §11.1): 60 s old at most, 5 s ahead at most
// ---------------------------------------------------------------------------------------------

const iatCases: Case[] = [
  {
    name: 'refuses a proof without iat',
    proof: (ctx) => proof(ctx, { payload: { iat: undefined } }),
    expect: invalidProof,
  },
  {
    name: 'refuses iat 60 s in the future (beyond the 5 s tolerance)',
    proof: (ctx) => proof(ctx, { payload: { iat: now() + 60 } }),
    expect: invalidProof,
  },
  {
    name: 'accepts iat 2 s in the future (within the tolerance)',
    proof: (ctx) => proof(ctx, { payload: { iat: now() + 2 } }),
    expect: ok(),
  },
  {
    name: 'refuses iat 120 s old',
    proof: (ctx) => proof(ctx, { payload: { iat: now() - 120 } }),
    expect: invalidProof,
  },
  {
    name: 'accepts iat 40 s old (within the window)',
    proof: (ctx) => proof(ctx, { payload: { iat: now() - 40 } }),
    expect: ok(),
  },
  {
    name: 'refuses iat as a numeric string',
    proof: (ctx) => proof(ctx, { payload: { iat: String(now()) } }),
    expect: invalidProof,
  },
  {
    name: 'refuses iat 0',
    proof: (ctx) => proof(ctx, { payload: { iat: 0 } }),
    expect: invalidProof,
  },
  {
    name: 'refuses iat 1e400 (Infinity once parsed)',
    proof: (ctx) => {
      const claims = proofPayload(ctx);
      delete claims.iat;
      const text = `${JSON.stringify(claims).slice(0, -1)},"iat":1e400}`;
      return proofFromText(ctx, proofHeader(ctx), text);
    },
    expect: invalidProof,
  },
];

// ---------------------------------------------------------------------------------------------
// 8. jti (§4.2, §11.1)
// ---------------------------------------------------------------------------------------------

const jtiCases: Case[] = [
  {
    name: 'refuses a proof without jti',
    proof: (ctx) => proof(ctx, { payload: { jti: undefined } }),
    expect: invalidProof,
  },
  {
    name: 'refuses an empty jti',
    proof: (ctx) => proof(ctx, { payload: { jti: '' } }),
    expect: invalidProof,
  },
  {
    name: 'refuses a jti of 257 characters (unnecessarily large, §11.1)',
    proof: (ctx) => proof(ctx, { payload: { jti: 'j'.repeat(257) } }),
    expect: invalidProof,
  },
  {
    name: 'accepts a jti of 256 characters (control for the cap)',
    proof: (ctx) => proof(ctx, { payload: { jti: randomBytes(192).toString('base64url') } }),
    expect: ok(),
  },
  {
    name: 'refuses a numeric jti',
    proof: (ctx) => proof(ctx, { payload: { jti: 12345 } }),
    expect: invalidProof,
  },
  {
    name: 'refuses a correct proof sent a second time',
    replay: true,
    expect: refused('dpop_proof_replayed'),
  },
  {
    name: 'refuses a fresh proof reusing the jti of a proof already accepted from the same key',
    proof: (ctx) => proof(ctx, { payload: { jti: `reused-${ctx.token.slice(-16)}` } }),
    before: (ctx) => ({ proof: proof(ctx, { payload: { jti: `reused-${ctx.token.slice(-16)}` } }) }),
    expect: refused('dpop_proof_replayed'),
  },
  {
    // Replay is about one key's proofs (a proof cannot be re-signed by another key); scoping the
    // jti to the key keeps one client from spending another client's jti values.
    name: "accepts bob's proof reusing a jti alice already used (jti is per key)",
    key: () => bob,
    proof: (ctx) => proof(ctx, { payload: { jti: `shared-${ctx.token.slice(-16)}` } }),
    before: (ctx) => {
      const aliceCtx = { ...ctx, key: alice };
      return {
        proof: proof(aliceCtx, {
          payload: { jti: `shared-${ctx.token.slice(-16)}`, ath: athOf(aliceToken.get(ctx.token)!) },
        }),
        token: aliceToken.get(ctx.token)!,
      };
    },
    token: async (key) => {
      const token = await mint(key);
      aliceToken.set(token, await mint(alice));
      return token;
    },
    expect: ok(() => bob),
  },
];
/** The alice token that goes with each bob token of the per-key jti row. */
const aliceToken = new Map<string, string>();

// ---------------------------------------------------------------------------------------------
// 9. ath (§4.3 step 12, §7)
// ---------------------------------------------------------------------------------------------

const athCases: Case[] = [
  {
    name: 'refuses a proof without ath',
    proof: (ctx) => proof(ctx, { payload: { ath: undefined } }),
    expect: invalidProof,
  },
  {
    name: 'refuses ath of another token bound to the same key',
    proof: (ctx) => proof(ctx, { payload: { ath: athOf(`${ctx.token}x`) } }),
    expect: invalidProof,
  },
  {
    name: 'refuses ath in padded base64url',
    proof: (ctx) => proof(ctx, { payload: { ath: `${athOf(ctx.token)}=` } }),
    expect: invalidProof,
  },
  {
    name: 'refuses ath in hex',
    proof: (ctx) => proof(ctx, { payload: { ath: sha256(ctx.token).toString('hex') } }),
    expect: invalidProof,
  },
  {
    name: 'refuses ath of "DPoP <token>" (the header value, not the token)',
    proof: (ctx) => proof(ctx, { payload: { ath: athOf(`DPoP ${ctx.token}`) } }),
    expect: invalidProof,
  },
  {
    name: 'refuses ath computed with SHA-384',
    proof: (ctx) =>
      proof(ctx, {
        payload: { ath: createHash('sha384').update(ctx.token).digest('base64url') },
      }),
    expect: invalidProof,
  },
];

// ---------------------------------------------------------------------------------------------
// 10. Resource-server nonces (§9, §8): a nonce is accepted during its time step and the next
// ---------------------------------------------------------------------------------------------

const stepMs = NONCE_LIFETIME_SECONDS * 1000;
const nonceIssuer = () => new NonceIssuer(new TextEncoder().encode(NONCE_SECRET), NONCE_LIFETIME_SECONDS);

const nonceCases: Case[] = [
  {
    name: 'accepts a proof carrying the nonce the server handed out (control)',
    app: 'nonce',
    expect: ok(),
  },
  {
    name: 'asks for a nonce (use_dpop_nonce, DPoP-Nonce) when the proof has none',
    app: 'nonce',
    nonce: () => undefined,
    expect: refused('dpop_nonce_required'),
  },
  {
    name: 'accepts a nonce of the previous time step',
    app: 'nonce',
    nonce: () => nonceIssuer().current(Date.now() - stepMs),
    expect: ok(),
  },
  {
    name: 'asks for a new nonce when the proof carries one two time steps old (stale)',
    app: 'nonce',
    nonce: () => nonceIssuer().current(Date.now() - 2 * stepMs),
    expect: refused('dpop_nonce_required'),
  },
  {
    name: 'asks for a new nonce when the proof carries one of the next time step (not issued yet)',
    app: 'nonce',
    nonce: () => nonceIssuer().current(Date.now() + stepMs),
    expect: refused('dpop_nonce_required'),
  },
  {
    name: 'asks for a new nonce when the proof carries a forged one of the right shape',
    app: 'nonce',
    nonce: () => `${Math.floor(Date.now() / stepMs).toString(36)}.${randomBytes(32).toString('base64url')}`,
    expect: refused('dpop_nonce_required'),
  },
  {
    name: 'asks for a new nonce when the proof carries one made with another secret',
    app: 'nonce',
    nonce: () =>
      new NonceIssuer(
        new TextEncoder().encode('another-secret-of-at-least-32-bytes'),
        NONCE_LIFETIME_SECONDS,
      ).current(),
    expect: refused('dpop_nonce_required'),
  },
  {
    name: 'asks for a new nonce when the nonce claim is a number',
    app: 'nonce',
    nonce: () => undefined,
    proof: (ctx) => proof(ctx, { payload: { nonce: 12345 } }),
    expect: refused('dpop_nonce_required'),
  },
  {
    name: 'still refuses a replayed proof that carries a good nonce',
    app: 'nonce',
    replay: true,
    expect: refused('dpop_proof_replayed'),
  },
];

// ---------------------------------------------------------------------------------------------
// 11. The binding (§6, §7.1, §7.2): cnf.jkt against the proof key, and both confirmations
// ---------------------------------------------------------------------------------------------

const bindingCases: Case[] = [
  {
    name: "refuses a token bound to bob's key with a correct proof of alice's key",
    token: () => mint(bob),
    expect: refused('dpop_key_mismatch'),
  },
  {
    name: 'refuses an unbound token under the DPoP scheme with a correct proof',
    token: () => mint(null),
    expect: refused('dpop_key_mismatch'),
  },
  {
    name: 'refuses a certificate-bound token under the DPoP scheme, with its certificate and a proof',
    token: () => mint(null, certA),
    expect: refused('dpop_key_mismatch'),
  },
  {
    name: 'refuses a DPoP-bound token sent as Bearer (no downgrade)',
    lines: (ctx) => ['Authorization', `Bearer ${ctx.token}`],
    expect: refused('dpop_scheme_required'),
  },
  {
    name: 'refuses a DPoP-bound token sent as Bearer even with a correct DPoP header beside it',
    lines: (ctx, p) => ['Authorization', `Bearer ${ctx.token}`, 'DPoP', p],
    expect: refused('dpop_scheme_required'),
  },
  {
    name: 'accepts a token bound to the key and the certificate with both proofs (control)',
    token: (key) => mint(key, certA),
    expect: ok(),
  },
  {
    name: 'refuses a token bound to the key and the certificate with the DPoP proof alone',
    token: (key) => mint(key, certA),
    cert: 'none',
    expect: refused('certificate_missing'),
  },
  {
    name: 'refuses a token bound to the key and the certificate with the proof on a look-alike certificate',
    token: (key) => mint(key, certA),
    cert: 'B',
    expect: refused('cnf_mismatch'),
  },
  {
    name: 'refuses a token bound to the key and the certificate with the certificate alone (Bearer)',
    token: (key) => mint(key, certA),
    lines: (ctx) => ['Authorization', `Bearer ${ctx.token}`],
    expect: refused('dpop_scheme_required'),
  },
  {
    name: "refuses a token bound to the key and the certificate with the certificate and bob's proof",
    token: () => mint(alice, certA),
    key: () => bob,
    expect: refused('dpop_key_mismatch'),
  },
];

// ---------------------------------------------------------------------------------------------
// 12. JSON and JWT details: duplicate members (RFC 7515 §4, RFC 8259 §4), exp and nbf (RFC 7519)
// ---------------------------------------------------------------------------------------------

/** `members` as JSON text with `extra` members appended verbatim (duplicates allowed). */
function jsonWith(members: Overrides, extra: string): string {
  return `${JSON.stringify(members).slice(0, -1)},${extra}}`;
}

const jsonCases: Case[] = [
  {
    // RFC 7515 §4: a parser MUST reject duplicate Header Parameter names or use the lexically
    // last one; both the header check and the signature check must then see the same value.
    name: 'accepts a duplicated typ whose lexically last value is dpop+jwt',
    proof: (ctx) =>
      proofFromText(
        ctx,
        jsonWith({ typ: 'JWT', ...proofHeader(ctx, { header: { typ: undefined } }) }, '"typ":"dpop+jwt"'),
        proofPayload(ctx),
      ),
    expect: ok(),
  },
  {
    name: 'refuses a duplicated typ whose lexically last value is JWT',
    proof: (ctx) => proofFromText(ctx, jsonWith(proofHeader(ctx), '"typ":"JWT"'), proofPayload(ctx)),
    expect: invalidProof,
  },
  {
    name: 'refuses a duplicated alg whose lexically last value is none',
    proof: (ctx) => proofFromText(ctx, jsonWith(proofHeader(ctx), '"alg":"none"'), proofPayload(ctx)),
    expect: invalidProof,
  },
  {
    name: 'refuses a duplicated htu whose lexically last value names another path',
    proof: (ctx) =>
      proofFromText(
        ctx,
        proofHeader(ctx),
        jsonWith(proofPayload(ctx), `"htu":${JSON.stringify(`${ctx.htu}/other`)}`),
      ),
    expect: invalidProof,
  },
  {
    name: 'refuses a proof carrying an exp in the past (RFC 7519 §4.1.4)',
    proof: (ctx) => proof(ctx, { payload: { exp: now() - 30 } }),
    expect: invalidProof,
  },
  {
    name: 'refuses a proof carrying an nbf in the future (RFC 7519 §4.1.5)',
    proof: (ctx) => proof(ctx, { payload: { nbf: now() + 120 } }),
    expect: invalidProof,
  },
  {
    name: 'accepts a proof carrying extra claims (RFC 9449 §4.2: other claims MAY be present)',
    proof: (ctx) => proof(ctx, { payload: { purpose: 'test', exp: now() + 30 } }),
    expect: ok(),
  },
];

const categories: [string, Case[]][] = [
  ['the DPoP header field', fieldCases],
  ['typ', typCases],
  ['alg, jwk and the signature', signatureCases],
  ['other JOSE header parameters', joseHeaderCases],
  ['htm', htmCases],
  ['htu', htuCases],
  ['iat', iatCases],
  ['jti and replay', jtiCases],
  ['ath', athCases],
  ['resource-server nonces', nonceCases],
  ['the binding', bindingCases],
  ['JSON and JWT details', jsonCases],
];

describe('adversarial DPoP proofs over real mTLS (Express)', () => {
  it('has at least 40 rows, each with a unique name', () => {
    const names = categories.flatMap(([, cases]) => cases.map((c) => c.name));
    expect(names.length).toBeGreaterThanOrEqual(40);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const [category, cases] of categories) {
    describe(category, () => {
      for (const c of cases) it(c.name, () => run(c));
    });
  }
});
