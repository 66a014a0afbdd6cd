/**
 * A local authorization server stand-in for tests: serves OpenID/RFC 8414 metadata and a JWK Set
 * over HTTPS on 127.0.0.1, and mints RFC 9068 access tokens bound to a certificate. It can also
 * play an outage, so apps can test their 503 handling.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK, SignJWT } from 'jose';
import type { DpopKey } from './dpop.js';
import { commonName, confirmation } from './mint-claims.js';
import { createTestPki, type TestCertificate, type TestPki } from './pki.js';

export type TestAlgorithm = 'ES256' | 'RS256' | 'PS256' | 'EdDSA';

/** How the issuer misbehaves: `none` (healthy), connection reset, HTTP 500, no answer, non-JSON. */
export type OutageMode = 'none' | 'down' | 'error' | 'slow' | 'garbage';

export interface TestIssuerOptions {
  /** PKI whose `server` certificate the issuer serves. Default: a new one. */
  pki?: TestPki;
  /** Default audience of minted tokens. */
  audience?: string;
  /** Signing algorithms to create keys for. Default ES256, RS256, PS256, EdDSA. */
  algorithms?: TestAlgorithm[];
  /**
   * Which metadata documents are served: RFC 8414 `oauth-authorization-server`, OpenID
   * `openid-configuration`, or both (default).
   */
  metadata?: 'both' | 'oauth' | 'openid';
}

export interface MintOptions {
  /**
   * Binds the token to this certificate (`cnf["x5t#S256"]`). Omit or `null` for an unbound token.
   * `sub` and `client_id` default to its subject's CN (`client-a` without a certificate or CN).
   */
  certificate?: (Pick<TestCertificate, 'thumbprint'> & Partial<Pick<TestCertificate, 'subject'>>) | null;
  /** Binds the token to this DPoP key (`cnf.jkt`, RFC 9449 §6.1); with `certificate`, to both. */
  dpopKey?: Pick<DpopKey, 'publicKey'> | null;
  scope?: string;
  audience?: string | string[];
  subject?: string;
  clientId?: string;
  /** Lifetime in seconds from now. Default 300. */
  expiresIn?: number;
  /** Extra or replacing claims; a claim set to `undefined` is removed. */
  claims?: Record<string, unknown>;
  /** Extra or replacing protected header parameters; `undefined` removes one. */
  header?: Record<string, unknown>;
  /** Signing algorithm. Default the first configured one. */
  alg?: TestAlgorithm;
  /** Sign with this key instead of the issuer's (e.g. an attacker's); keeps the issuer's `kid` unless overridden. */
  signingKey?: CryptoKey;
}

export interface TestIssuer {
  /** The issuer identifier (`https://127.0.0.1:<port>`). */
  issuer: string;
  jwksUri: string;
  /** The default audience. */
  audience: string;
  /** PEM of the CA of the issuer's TLS certificate, for the verifier's `tls.ca`. */
  ca: string;
  pki: TestPki;
  /** The public JWK Set. */
  jwks: JSONWebKeySet;
  /** Mints a signed access token (`typ: at+jwt`) with RFC 9068 claims. */
  mintAccessToken(options?: MintOptions): Promise<string>;
  /** The RFC 7662 introspection endpoint (client_secret_basic with `introspectionClient`). */
  introspectionEndpoint: string;
  /** The resource server's credentials at the introspection endpoint. */
  introspectionClient: { clientId: string; clientSecret: string };
  /**
   * Issues an opaque token whose introspection response carries RFC 7662 members and, when
   * `certificate` is given, `cnf["x5t#S256"]`; `claims` override response members.
   */
  mintOpaqueToken(options?: Omit<MintOptions, 'header' | 'alg' | 'signingKey'>): string;
  /** Makes an opaque token introspect as `active: false`. */
  revoke(token: string): void;
  /**
   * Makes discovery, JWKS and introspection misbehave until called again with `none`; with
   * `{ token }`, only the introspection of that token (an attacker's token that makes the
   * authorization server fail, say).
   */
  outage(mode: OutageMode, only?: { token: string }): void;
  /** Removes a key from the published JWK Set (a compromised key); tokens can still be signed with it. */
  removeKey(kid: string): void;
  /** Requests served, by document. */
  counters: { discovery: number; jwks: number; introspection: number };
  close(): Promise<void>;
}

const DEFAULT_ALGORITHMS: TestAlgorithm[] = ['ES256', 'RS256', 'PS256', 'EdDSA'];

interface SigningKey {
  alg: TestAlgorithm;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

function withOverrides(base: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  const result: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return result;
}

/** Starts a test issuer on 127.0.0.1 (an ephemeral port). Close it after the test. */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const pki = options.pki ?? (await createTestPki());
  const keys: SigningKey[] = [];
  for (const alg of options.algorithms ?? DEFAULT_ALGORITHMS) {
    const pair = await generateKeyPair(alg, { extractable: true });
    const kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`;
    keys.push({
      alg,
      kid,
      privateKey: pair.privateKey,
      publicJwk: { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' },
    });
  }
  const jwks: JSONWebKeySet = { keys: keys.map((k) => k.publicJwk) };
  const tokenOutages = new Map<string, OutageMode>();
  const counters = { discovery: 0, jwks: 0, introspection: 0 };
  let mode: OutageMode = 'none';
  let issuer = '';

  const opaqueTokens = new Map<string, Record<string, unknown>>();
  const introspectionClient = {
    clientId: 'resource-server',
    clientSecret: randomBytes(24).toString('base64url'),
  };
  const expectedAuthorization = `Basic ${Buffer.from(`${introspectionClient.clientId}:${introspectionClient.clientSecret}`).toString('base64')}`;

  function introspect(req: IncomingMessage, res: ServerResponse, body: string): void {
    if (req.method !== 'POST' || req.headers.authorization !== expectedAuthorization) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
      return;
    }
    const token = new URLSearchParams(body).get('token') ?? '';
    if (misbehave(tokenOutages.get(token) ?? 'none', req, res)) return;
    const response = opaqueTokens.get(token) ?? { active: false };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(response));
  }

  /** Plays `outage`; returns whether the request was answered (or dropped) that way. */
  function misbehave(outage: OutageMode, req: IncomingMessage, res: ServerResponse): boolean {
    switch (outage) {
      case 'down':
        req.socket.destroy();
        return true;
      case 'error':
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
        return true;
      case 'slow':
        return true; // never answers; the client's timeout fires
      case 'garbage':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [ not json');
        return true;
      default:
        return false;
    }
  }

  const server: Server = createServer({ cert: pki.server.cert, key: pki.server.key }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const served = options.metadata ?? 'both';
    const document =
      (path === '/.well-known/openid-configuration' && served !== 'oauth') ||
      (path === '/.well-known/oauth-authorization-server' && served !== 'openid')
        ? 'discovery'
        : path === '/jwks'
          ? 'jwks'
          : path === '/introspect'
            ? 'introspection'
            : undefined;
    if (document === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    counters[document]++;
    if (misbehave(mode, req, res)) return;
    if (document === 'introspection') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => introspect(req, res, Buffer.concat(chunks).toString('utf8')));
      return;
    }
    const body =
      document === 'discovery'
        ? {
            issuer,
            jwks_uri: `${issuer}/jwks`,
            token_endpoint: `${issuer}/token`,
            introspection_endpoint: `${issuer}/introspect`,
            id_token_signing_alg_values_supported: ['ES256'],
          }
        : jwks;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const audience = options.audience ?? 'https://api.example.test';

  async function mintAccessToken(mint: MintOptions = {}): Promise<string> {
    const key = keys.find((k) => k.alg === (mint.alg ?? keys[0]!.alg));
    if (!key) throw new Error(`mintAccessToken: no ${mint.alg} key`);
    const now = Math.floor(Date.now() / 1000);
    const clientId = mint.clientId ?? commonName(mint.certificate) ?? 'client-a';
    const claims = withOverrides(
      {
        iss: issuer,
        aud: mint.audience ?? audience,
        sub: mint.subject ?? clientId,
        client_id: clientId,
        iat: now,
        exp: now + (mint.expiresIn ?? 300),
        jti: randomUUID(),
        ...(mint.scope === undefined ? {} : { scope: mint.scope }),
        ...(await confirmation(mint)),
      },
      mint.claims,
    );
    const header = withOverrides({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }, mint.header);
    return new SignJWT(claims)
      .setProtectedHeader(header as { alg: string })
      .sign(mint.signingKey ?? key.privateKey);
  }

  function mintOpaqueToken(
    mint: Omit<MintOptions, 'header' | 'alg' | 'signingKey' | 'dpopKey'> = {},
  ): string {
    const token = randomBytes(32).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const clientId = mint.clientId ?? commonName(mint.certificate) ?? 'client-a';
    opaqueTokens.set(
      token,
      withOverrides(
        {
          active: true,
          iss: issuer,
          aud: mint.audience ?? audience,
          sub: mint.subject ?? clientId,
          client_id: clientId,
          token_type: 'Bearer',
          iat: now,
          exp: now + (mint.expiresIn ?? 300),
          ...(mint.scope === undefined ? {} : { scope: mint.scope }),
          ...(mint.certificate ? { cnf: { 'x5t#S256': mint.certificate.thumbprint } } : {}),
        },
        mint.claims,
      ),
    );
    return token;
  }

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    introspectionEndpoint: `${issuer}/introspect`,
    introspectionClient,
    mintOpaqueToken,
    revoke(token) {
      const response = opaqueTokens.get(token);
      if (response) opaqueTokens.set(token, { active: false });
    },
    audience,
    ca: pki.ca.cert,
    pki,
    jwks,
    mintAccessToken,
    outage(next, only) {
      if (only === undefined) mode = next;
      else if (next === 'none') tokenOutages.delete(only.token);
      else tokenOutages.set(only.token, next);
    },
    removeKey(kid) {
      const index = jwks.keys.findIndex((key) => key.kid === kid);
      if (index !== -1) jwks.keys.splice(index, 1);
    },
    counters,
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
