/**
 * A real OAuth 2.0 authorization server for integration tests, built on `oidc-provider`.
 *
 * It speaks HTTPS on an ephemeral loopback port, authenticates clients with RFC 8705 mutual TLS
 * (`tls_client_auth` and `self_signed_tls_client_auth`) and issues certificate-bound access tokens
 * (`cnf["x5t#S256"]`) with the client credentials grant, as JWTs or as opaque tokens that only
 * introspection can explain. With DPoP (RFC 9449, `features.dPoP`) it also issues DPoP-bound access
 * tokens (`cnf.jkt`, introspected as `token_type: DPoP`) to clients registered with
 * `registerDpopClient()`, whose token requests carry a proof made by oauth4webapi (the test's
 * `DPoPHandle`): nothing here makes a proof. Clients registered for the authorization code grant
 * get tokens for a user's authentication, with its `acr` and `auth_time`
 * (test/support/user-authentication.ts). It can play an outage. Never use it outside a test.
 */
import 'reflect-metadata';
import { randomBytes, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import {
  type AuthorizationServer as AuthorizationServerMetadata,
  type ClientAuth,
  ClientSecretBasic,
  clientCredentialsGrantRequest,
  customFetch,
  type DPoPHandle,
  processClientCredentialsResponse,
  TlsClientAuth,
  type TokenEndpointResponse,
} from 'oauth4webapi';
import { Agent, request } from 'undici';
import type { TestCertificate, TestPki } from '../../packages/testing/src/index.js';
import {
  type AuthorizationRequestOptions,
  authorize,
  INTERACTION_PREFIX,
  type InteractionProvider,
  LoginInteractions,
  REDIRECT_URI,
  type UserLogin,
  userAuthenticationClaims,
} from './user-authentication.js';

export interface AuthorizationServerOptions {
  pki: TestPki;
  /** Audience/resource indicator the tokens are for, e.g. 'https://api.example.test'. */
  resource: string;
  /** 'jwt' (default) or 'opaque' access tokens for that resource. */
  accessTokenFormat?: 'jwt' | 'opaque';
  /** JWT signing alg for access tokens, default 'ES256'. */
  signingAlg?: 'ES256' | 'RS256' | 'PS256' | 'EdDSA';
  /** Scopes the resource supports, default ['read', 'write']. */
  scopes?: string[];
  /** Access token TTL in seconds, default 300. */
  accessTokenTtlSeconds?: number;
  /** `acr` values the server supports (`acr_values_supported`); none by default. */
  acrValues?: string[];
}

export interface RegisteredClient {
  clientId: string;
  certificate: TestCertificate;
}

export interface RegisterMtlsClientOptions {
  clientId?: string;
  /**
   * RFC 8705 method the client authenticates with: `tls_client_auth` (default; the certificate
   * must chain to the test CA and its subject DN must match) or `self_signed_tls_client_auth`
   * (the certificate itself is registered in the client's JWKS, e.g. from `pki.selfSigned()`).
   */
  authMethod?: 'tls_client_auth' | 'self_signed_tls_client_auth';
  /** Format of this client's access tokens; defaults to the server's `accessTokenFormat`. */
  accessTokenFormat?: 'jwt' | 'opaque';
  /**
   * `client_credentials` (default) or `authorization_code`: tokens for a user, obtained with
   * `authorizeUser()` (redirect URI {@link REDIRECT_URI}, PKCE).
   */
  grantType?: 'client_credentials' | 'authorization_code';
}

/** How the server is unavailable: `down` (every connection reset), `jwks` (the JWK Set answers 500). */
export type AuthorizationServerOutage = 'none' | 'down' | 'jwks';

export interface RegisterDpopClientOptions {
  clientId?: string;
  /**
   * How the client authenticates at the token endpoint: `client_secret_basic` (default; a secret
   * is generated) or `tls_client_auth` with `certificate` (subject DN match, the certificate on the
   * TLS connection of every token request). Either way the client is registered with
   * `dpop_bound_access_tokens: true` (a token request without a proof is refused) and its tokens
   * are bound to the DPoP key only: oidc-provider refuses to bind one token both ways ("multiple
   * proof-of-possession mechanisms are not allowed").
   */
  authMethod?: 'client_secret_basic' | 'tls_client_auth';
  /** The client certificate, for `tls_client_auth`. */
  certificate?: TestCertificate;
  /** Format of this client's access tokens; defaults to the server's `accessTokenFormat`. */
  accessTokenFormat?: 'jwt' | 'opaque';
}

/** A client of `registerDpopClient()`. */
export interface RegisteredDpopClient {
  clientId: string;
  authMethod: 'client_secret_basic' | 'tls_client_auth';
  /** For `client_secret_basic`. */
  clientSecret?: string;
  /** For `tls_client_auth`: presented on the TLS connection of its token requests. */
  certificate?: TestCertificate;
}

export interface TokenRequestOptions {
  /** Space-separated scopes to request; defaults to every scope of the resource, `''` requests none. */
  scope?: string;
}

export interface AuthorizationServer {
  /** `https://127.0.0.1:<port>` (no trailing slash), the exact `iss` of tokens. */
  issuer: string;
  /** Same origin as `issuer`. */
  url: string;
  /** PEM of the CA that signed the server certificate (`pki.ca.cert`). */
  ca: string;
  /** Registers a `tls_client_auth` client (subject DN match) with tls_client_certificate_bound_access_tokens: true. */
  registerMtlsClient(
    certificate: TestCertificate,
    options?: RegisterMtlsClientOptions,
  ): Promise<RegisteredClient> | RegisteredClient;
  /** Client credentials grant over mTLS with `resource` = options.resource; returns the access token string. */
  issueToken(client: RegisteredClient, options?: TokenRequestOptions): Promise<string>;
  /** Same, but returns the full token-endpoint JSON response. */
  tokenResponse(client: RegisteredClient, options?: TokenRequestOptions): Promise<Record<string, unknown>>;
  /**
   * The authorization code flow of a client registered with `grantType: 'authorization_code'`:
   * the user authenticates as `login` says (test/support/user-authentication.ts), then the code
   * is exchanged over mTLS at the token endpoint alias, so the access token is certificate-bound
   * and carries the login's `acr` and `auth_time`. Returns the full token-endpoint JSON response.
   */
  authorizeUser(
    client: RegisteredClient,
    login: UserLogin,
    options?: Partial<AuthorizationRequestOptions>,
  ): Promise<Record<string, unknown>>;
  /**
   * Registers a client for DPoP-bound access tokens with the client credentials grant (RFC 9449
   * §5): `client_secret_basic` by default, or `tls_client_auth` (see {@link RegisterDpopClientOptions}).
   */
  registerDpopClient(options?: RegisterDpopClientOptions): Promise<RegisteredDpopClient>;
  /**
   * Client credentials grant with a DPoP proof made by oauth4webapi with `dpop`
   * (`clientCredentialsGrantRequest(…, { DPoP })`), sent to the token endpoint (not the mTLS
   * alias: oidc-provider checks `htu` against `<issuer>/token`), `resource` = options.resource.
   * Returns the token response as oauth4webapi validated it (`token_type` `dpop`, lower-cased).
   */
  dpopTokenResponse(
    client: RegisteredDpopClient,
    dpop: DPoPHandle,
    options?: TokenRequestOptions,
  ): Promise<TokenEndpointResponse>;
  /** Same, but returns the access token string. */
  issueDpopToken(
    client: RegisteredDpopClient,
    dpop: DPoPHandle,
    options?: TokenRequestOptions,
  ): Promise<string>;
  /** RFC 7662 introspection of `token` as the client_secret_basic resource server; the response JSON. */
  introspect(token: string): Promise<Record<string, unknown>>;
  /** A confidential client allowed to call the introspection endpoint with client_secret_basic. */
  introspectionClient: { clientId: string; clientSecret: string };
  /** A client allowed to introspect with client_secret_post. */
  introspectionPostClient: { clientId: string; clientSecret: string };
  /** A client allowed to introspect with private_key_jwt (ES256; the private JWK carries alg and kid). */
  introspectionJwtClient: { clientId: string; privateJwk: JWK };
  /** A client for introspection via tls_client_auth (certificate registered by subject DN); uses the mtls alias. */
  introspectionMtlsClient: { clientId: string; certificate: TestCertificate };
  /** Revoke a token (RFC 7009) so introspection returns active:false. Opaque tokens only: JWTs cannot be revoked. */
  revoke(token: string): Promise<void>;
  /**
   * The private JWKs (with `kid` and `alg`) the server signs access tokens with, one per
   * algorithm: for tests that forge a token with this server's key.
   */
  signingKeys: readonly JWK[];
  /** Plays an outage from now on (`none` ends it); the counters count only the requests answered. */
  outage(mode: AuthorizationServerOutage): void;
  /** Counters of requests served, for asserting call counts (mtls aliases included). */
  counters: {
    introspection: number;
    mtlsIntrospection: number;
    jwks: number;
    discovery: number;
    token: number;
  };
  /** Stop accepting new connections and close all sockets. */
  close(): Promise<void>;
}

/** Where the RFC 8705 §5 endpoint aliases live: the same server, under this prefix. */
const MTLS_PREFIX = '/mtls';
/** oidc-provider's default routes. */
const ROUTES = {
  discovery: '/.well-known/openid-configuration',
  jwks: '/jwks',
  token: '/token',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
} as const;
/** RFC 8414 metadata is served as a copy of the OpenID discovery document. */
const OAUTH_METADATA = '/.well-known/oauth-authorization-server';

const SIGNING_ALGS = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const;

/** The little of oidc-provider's Koa context the mTLS helpers need. */
interface ProviderContext {
  socket: Socket;
}

/** The little of oidc-provider's client and token models the policies need. */
interface ProviderClient {
  clientId: string;
  clientAuthMethod: string;
}
interface ProviderToken {
  clientId?: string;
  resourceServer?: { accessTokenTTL?: number };
}

type AdapterPayload = Record<string, unknown>;
interface StoredPayload {
  payload: AdapterPayload;
  expiresAt: number | undefined;
}

/**
 * oidc-provider storage for one server instance. The package's built-in memory adapter is a
 * module-wide singleton, so two servers in one test process would share (and clobber) clients.
 */
class MapAdapter {
  constructor(
    private readonly store: Map<string, StoredPayload>,
    private readonly model: string,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  private read(key: string): AdapterPayload | undefined {
    const stored = this.store.get(key);
    if (!stored) return undefined;
    if (stored.expiresAt !== undefined && stored.expiresAt <= Date.now()) {
      this.store.delete(key);
      return undefined;
    }
    return stored.payload;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined;
    this.store.set(this.key(id), { payload: { ...payload }, expiresAt });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.read(this.key(id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.findBy('uid', uid);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.findBy('userCode', userCode);
  }

  async consume(id: string): Promise<void> {
    const payload = this.read(this.key(id));
    if (payload) payload['consumed'] = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const [key, { payload }] of this.store) {
      if (payload['grantId'] === grantId) this.store.delete(key);
    }
  }

  private findBy(property: string, value: string): AdapterPayload | undefined {
    const prefix = `${this.model}:`;
    for (const key of this.store.keys()) {
      if (!key.startsWith(prefix)) continue;
      const payload = this.read(key);
      if (payload?.[property] === value) return payload;
    }
    return undefined;
  }
}

type OidcProviderModule = typeof import('oidc-provider');
let oidcProviderModule: Promise<OidcProviderModule> | undefined;

/**
 * Imports oidc-provider without its one-time "Unsupported runtime" warning, which it prints on
 * Node.js 20 (it works there; the workspace supports Node.js >= 20.19). Other warnings pass.
 */
function loadOidcProvider(): Promise<OidcProviderModule> {
  oidcProviderModule ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime'))
        return;
      warn.apply(console, args);
    };
    try {
      return await import('oidc-provider');
    } finally {
      console.warn = warn;
    }
  })();
  return oidcProviderModule;
}

async function signingKeys(): Promise<JWK[]> {
  return Promise.all(
    SIGNING_ALGS.map(async (alg) => {
      const { privateKey } = await generateKeyPair(alg, { extractable: true });
      const jwk = await exportJWK(privateKey);
      return { ...jwk, kid: `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}`, alg, use: 'sig' };
    }),
  );
}

function peerCertificate(ctx: ProviderContext): X509Certificate | undefined {
  const { socket } = ctx;
  if (!(socket instanceof TLSSocket)) return undefined;
  return socket.getPeerX509Certificate() ?? undefined;
}

/** Subject DNs compared in one canonical (RFC 4514) rendering, whatever spacing the registration used. */
function sameDistinguishedName(cert: X509Certificate, expected: string): boolean {
  try {
    const actual = new x509.X509Certificate(cert.raw).subjectName.toString();
    return actual === new x509.Name(expected).toString();
  } catch {
    return false;
  }
}

/** Node renders subjectAltName as `DNS:a, IP Address:1.2.3.4, URI:https://x, email:a@b`. */
function subjectAltNames(cert: X509Certificate, type: 'DNS' | 'IP Address' | 'URI' | 'email'): string[] {
  const prefix = `${type}:`;
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith(prefix))
    .map((entry) => entry.slice(prefix.length));
}

function certificateSubjectMatches(ctx: ProviderContext, property: string, expected: string): boolean {
  const cert = peerCertificate(ctx);
  if (!cert) return false;
  switch (property) {
    case 'tls_client_auth_subject_dn':
      return sameDistinguishedName(cert, expected);
    case 'tls_client_auth_san_dns':
      return subjectAltNames(cert, 'DNS').includes(expected);
    case 'tls_client_auth_san_ip':
      return subjectAltNames(cert, 'IP Address').includes(expected);
    case 'tls_client_auth_san_uri':
      return subjectAltNames(cert, 'URI').includes(expected);
    case 'tls_client_auth_san_email':
      return subjectAltNames(cert, 'email').includes(expected);
    default:
      return false;
  }
}

/** `x5c` wants standard base64 DER, not PEM. */
function x5c(certificate: TestCertificate): string {
  return certificate.der.toString('base64');
}

async function publicJwk(certificate: TestCertificate): Promise<JWK> {
  const jwk = await exportJWK(new X509Certificate(certificate.cert).publicKey);
  return { ...jwk, use: 'sig', x5c: [x5c(certificate)] };
}

function basicAuthorization(clientId: string, clientSecret: string): string {
  // RFC 6749 §2.3.1: form-urlencode each part before base64.
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

function randomId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export async function startAuthorizationServer(
  options: AuthorizationServerOptions,
): Promise<AuthorizationServer> {
  const { pki, resource } = options;
  const accessTokenFormat = options.accessTokenFormat ?? 'jwt';
  const signingAlg = options.signingAlg ?? 'ES256';
  const scopes = options.scopes ?? ['read', 'write'];
  const accessTokenTTL = options.accessTokenTtlSeconds ?? 300;

  const [{ default: Provider, errors }, keys, introspectionCertificate] = await Promise.all([
    loadOidcProvider(),
    signingKeys(),
    pki.issueClient({ subject: 'CN=certbound introspection client, O=certbound tests' }),
  ]);

  /** Access-token format by client, for clients registered with their own. */
  const formatByClient = new Map<string, 'jwt' | 'opaque'>();
  const counters = { introspection: 0, mtlsIntrospection: 0, jwks: 0, discovery: 0, token: 0 };
  const sockets = new Set<Socket>();
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  let interactionProvider: InteractionProvider | undefined;
  let outage: AuthorizationServerOutage = 'none';
  const interactions = new LoginInteractions();

  const server = createServer(
    {
      cert: pki.server.cert,
      key: pki.server.key,
      // With rejectUnauthorized: false a client certificate that does not chain to `ca` is still
      // accepted (self_signed_tls_client_auth needs that); `socket.authorized` says whether it does.
      ca: pki.ca.cert,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      if (outage === 'down') {
        req.socket.destroy();
        return;
      }
      const url = new URL(req.url ?? '/', 'https://authorization-server.invalid');
      let path = url.pathname;
      const viaMtlsAlias = path.startsWith(`${MTLS_PREFIX}/`);
      if (viaMtlsAlias) path = path.slice(MTLS_PREFIX.length);
      if (path === OAUTH_METADATA) path = ROUTES.discovery;
      req.url = `${path}${url.search}`;
      if (outage === 'jwks' && path === ROUTES.jwks) {
        res.writeHead(500).end();
        return;
      }

      if (path === ROUTES.token) counters.token++;
      else if (path === ROUTES.introspection) {
        counters.introspection++;
        if (viaMtlsAlias) counters.mtlsIntrospection++;
      } else if (path === ROUTES.jwks) counters.jwks++;
      else if (path === ROUTES.discovery) counters.discovery++;

      if (!handle || !interactionProvider) {
        res.writeHead(503).end();
        return;
      }
      if (path.startsWith(INTERACTION_PREFIX)) {
        void interactions.handle(interactionProvider, req, res);
        return;
      }
      handle(req, res);
    },
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // A client that gives up mid-handshake is no concern of the tests.
  server.on('tlsClientError', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected server address');
  const issuer = `https://127.0.0.1:${address.port}`;
  const mtlsBase = `${issuer}${MTLS_PREFIX}`;

  const introspectionClient = {
    clientId: 'resource-server',
    clientSecret: randomBytes(24).toString('base64url'),
  };
  const introspectionMtlsClient = { clientId: 'resource-server-mtls', certificate: introspectionCertificate };
  const introspectionPostClient = {
    clientId: 'resource-server-post',
    clientSecret: randomBytes(24).toString('base64url'),
  };
  const assertionKeys = await generateKeyPair('ES256', { extractable: true });
  const assertionKid = 'resource-server-jwt-key';
  const introspectionJwtClient = {
    clientId: 'resource-server-jwt',
    privateJwk: { ...(await exportJWK(assertionKeys.privateKey)), alg: 'ES256', kid: assertionKid },
  };
  const resourceServerClients = new Set([
    introspectionClient.clientId,
    introspectionMtlsClient.clientId,
    introspectionPostClient.clientId,
    introspectionJwtClient.clientId,
  ]);
  const noRedirects = { grant_types: [], response_types: [], redirect_uris: [] };

  const store = new Map<string, StoredPayload>();
  const tokenTtl = (_ctx: unknown, token: ProviderToken) =>
    token.resourceServer?.accessTokenTTL ?? accessTokenTTL;

  let closing: Promise<void> | undefined;
  const agents = new Map<TestCertificate | undefined, Agent>();
  function close(): Promise<void> {
    closing ??= (async () => {
      await Promise.all([...agents.values()].map((agent) => agent.destroy()));
      agents.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
    })();
    return closing;
  }

  const provider = await (async () => {
    const created = new Provider(issuer, {
      adapter: (model: string) => new MapAdapter(store, model),
      clients: [
        {
          client_id: introspectionClient.clientId,
          client_secret: introspectionClient.clientSecret,
          token_endpoint_auth_method: 'client_secret_basic',
          ...noRedirects,
        },
        {
          client_id: introspectionPostClient.clientId,
          client_secret: introspectionPostClient.clientSecret,
          token_endpoint_auth_method: 'client_secret_post',
          ...noRedirects,
        },
        {
          client_id: introspectionJwtClient.clientId,
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'ES256',
          jwks: {
            keys: [
              { ...(await exportJWK(assertionKeys.publicKey)), alg: 'ES256', kid: assertionKid, use: 'sig' },
            ],
          },
          ...noRedirects,
        },
        {
          client_id: introspectionMtlsClient.clientId,
          token_endpoint_auth_method: 'tls_client_auth',
          tls_client_auth_subject_dn: introspectionCertificate.subject,
          ...noRedirects,
        },
      ],
      clientAuthMethods: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
        'tls_client_auth',
        'self_signed_tls_client_auth',
      ],
      jwks: { keys },
      ...(options.acrValues === undefined ? {} : { acrValues: options.acrValues }),
      // A user's acr and auth_time, from the authorization code, in the access token.
      extraTokenClaims: userAuthenticationClaims,
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      clientBasedCORS: () => false,
      // The user flows' artifacts are set explicitly, or oidc-provider prints a notice for each.
      ttl: {
        AccessToken: tokenTtl,
        ClientCredentials: tokenTtl,
        Interaction: 600,
        Session: 3600,
        Grant: 3600,
        IdToken: 300,
      },
      // Any account exists: a user is whoever the login interaction says (user-authentication.ts).
      findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
      discovery: {
        mtls_endpoint_aliases: {
          token_endpoint: `${mtlsBase}${ROUTES.token}`,
          introspection_endpoint: `${mtlsBase}${ROUTES.introspection}`,
          revocation_endpoint: `${mtlsBase}${ROUTES.revocation}`,
        },
      },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        // RFC 9449 at the token endpoint: proofs are checked (ES256, Ed25519, EdDSA), and a token
        // requested with one is bound to its key. No nonces; replayed proofs are refused.
        dPoP: { enabled: true },
        introspection: {
          enabled: true,
          // Resource servers (and any other confidential client) may introspect any client's token.
          allowedPolicy: (_ctx: unknown, client: ProviderClient, token: ProviderToken) =>
            client.clientAuthMethod !== 'none' || token.clientId === client.clientId,
        },
        revocation: {
          enabled: true,
          allowedPolicy: (_ctx: unknown, client: ProviderClient, token: ProviderToken) =>
            resourceServerClients.has(client.clientId) || token.clientId === client.clientId,
        },
        mTLS: {
          enabled: true,
          certificateBoundAccessTokens: true,
          tlsClientAuth: true,
          selfSignedTlsClientAuth: true,
          getCertificate: peerCertificate,
          certificateAuthorized: (ctx: ProviderContext) =>
            ctx.socket instanceof TLSSocket && ctx.socket.authorized === true,
          certificateSubjectMatches,
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => resource,
          useGrantedResource: () => true,
          getResourceServerInfo: (
            _ctx: unknown,
            resourceIndicator: string,
            client?: { clientId: string },
          ) => {
            if (resourceIndicator !== resource) {
              throw new errors.InvalidTarget(`unknown resource indicator ${resourceIndicator}`);
            }
            return {
              scope: scopes.join(' '),
              audience: resource,
              accessTokenFormat: (client && formatByClient.get(client.clientId)) ?? accessTokenFormat,
              accessTokenTTL,
              jwt: { sign: { alg: signingAlg } },
            };
          },
        },
      },
    });

    // Fail at start, not at the first request, if the static clients are malformed.
    await Promise.all([...resourceServerClients].map((id) => created.Client.find(id)));
    return created;
  })().catch(async (error: unknown) => {
    await close();
    throw error;
  });
  handle = provider.callback();
  interactionProvider = provider;

  const agentFor = (certificate?: TestCertificate): Agent => {
    let agent = agents.get(certificate);
    if (!agent) {
      agent = new Agent({
        connect: certificate
          ? { ca: pki.ca.cert, cert: certificate.cert, key: certificate.key }
          : { ca: pki.ca.cert },
      });
      agents.set(certificate, agent);
    }
    return agent;
  };

  async function post(
    url: string,
    form: Record<string, string | undefined>,
    init: { certificate?: TestCertificate; authorization?: string },
  ): Promise<{ status: number; text: string }> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(form)) {
      if (value !== undefined) body.set(name, value);
    }
    const response = await request(url, {
      method: 'POST',
      dispatcher: agentFor(init.certificate),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        ...(init.authorization ? { authorization: init.authorization } : {}),
      },
      body: body.toString(),
    });
    return { status: response.statusCode, text: await response.body.text() };
  }

  async function registerMtlsClient(
    certificate: TestCertificate,
    registration: RegisterMtlsClientOptions = {},
  ): Promise<RegisteredClient> {
    const clientId = registration.clientId ?? randomId('mtls-client');
    const authMethod = registration.authMethod ?? 'tls_client_auth';
    const forUsers = registration.grantType === 'authorization_code';
    const metadata: Record<string, unknown> = {
      client_id: clientId,
      token_endpoint_auth_method: authMethod,
      tls_client_certificate_bound_access_tokens: true,
      grant_types: [forUsers ? 'authorization_code' : 'client_credentials'],
      response_types: forUsers ? ['code'] : [],
      redirect_uris: forUsers ? [REDIRECT_URI] : [],
      ...(authMethod === 'tls_client_auth'
        ? { tls_client_auth_subject_dn: certificate.subject }
        : { jwks: { keys: [await publicJwk(certificate)] } }),
    };
    await provider.Client.validate(metadata);
    await provider.Client.adapter.upsert(clientId, metadata);
    if (registration.accessTokenFormat) formatByClient.set(clientId, registration.accessTokenFormat);
    return { clientId, certificate };
  }

  async function tokenResponse(
    client: RegisteredClient,
    tokenOptions: TokenRequestOptions = {},
  ): Promise<Record<string, unknown>> {
    const scope = tokenOptions.scope ?? scopes.join(' ');
    const { status, text } = await post(
      `${mtlsBase}${ROUTES.token}`,
      {
        grant_type: 'client_credentials',
        client_id: client.clientId,
        resource,
        scope: scope === '' ? undefined : scope,
      },
      { certificate: client.certificate },
    );
    if (status !== 200) {
      throw new Error(`token request for ${client.clientId} failed with HTTP ${status}: ${text}`);
    }
    return JSON.parse(text) as Record<string, unknown>;
  }

  async function issueToken(client: RegisteredClient, tokenOptions?: TokenRequestOptions): Promise<string> {
    const response = await tokenResponse(client, tokenOptions);
    if (typeof response['access_token'] !== 'string') {
      throw new Error(`token response without access_token: ${JSON.stringify(response)}`);
    }
    return response['access_token'];
  }

  async function authorizeUser(
    client: RegisteredClient,
    login: UserLogin,
    requestOptions: Partial<AuthorizationRequestOptions> = {},
  ): Promise<Record<string, unknown>> {
    const { code, codeVerifier } = await authorize(
      { issuer, resource, dispatcher: agentFor(undefined), interactions },
      client.clientId,
      login,
      { scope: scopes.join(' '), ...requestOptions },
    );
    const { status, text } = await post(
      `${mtlsBase}${ROUTES.token}`,
      {
        grant_type: 'authorization_code',
        client_id: client.clientId,
        code,
        code_verifier: codeVerifier,
        redirect_uri: REDIRECT_URI,
        resource,
      },
      { certificate: client.certificate },
    );
    if (status !== 200) {
      throw new Error(`code exchange for ${client.clientId} failed with HTTP ${status}: ${text}`);
    }
    return JSON.parse(text) as Record<string, unknown>;
  }

  async function registerDpopClient(
    registration: RegisterDpopClientOptions = {},
  ): Promise<RegisteredDpopClient> {
    const clientId = registration.clientId ?? randomId('dpop-client');
    const authMethod = registration.authMethod ?? 'client_secret_basic';
    const { certificate } = registration;
    if (authMethod === 'tls_client_auth' && certificate === undefined) {
      throw new TypeError('registerDpopClient: tls_client_auth needs a certificate');
    }
    const clientSecret =
      authMethod === 'client_secret_basic' ? randomBytes(24).toString('base64url') : undefined;
    const metadata: Record<string, unknown> = {
      client_id: clientId,
      token_endpoint_auth_method: authMethod,
      dpop_bound_access_tokens: true,
      tls_client_certificate_bound_access_tokens: false,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      ...(clientSecret === undefined
        ? { tls_client_auth_subject_dn: certificate!.subject }
        : { client_secret: clientSecret }),
    };
    await provider.Client.validate(metadata);
    await provider.Client.adapter.upsert(clientId, metadata);
    if (registration.accessTokenFormat) formatByClient.set(clientId, registration.accessTokenFormat);
    return {
      clientId,
      authMethod,
      ...(clientSecret === undefined ? { certificate } : { clientSecret }),
    };
  }

  /** oauth4webapi's `customFetch`: undici over the agent presenting `certificate`, as a WHATWG Response. */
  const fetchWith =
    (certificate: TestCertificate | undefined) =>
    async (url: string, init: { body?: unknown; headers: Record<string, string>; method: string }) => {
      const response = await request(url, {
        method: init.method as 'POST',
        dispatcher: agentFor(certificate),
        headers: init.headers,
        body: init.body === undefined ? undefined : String(init.body),
      });
      const headers = new Headers();
      for (const [name, value] of Object.entries(response.headers)) {
        if (typeof value === 'string') headers.set(name, value);
        else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
      }
      return new Response(await response.body.text(), { status: response.statusCode, headers });
    };

  const asMetadata: AuthorizationServerMetadata = { issuer, token_endpoint: `${issuer}${ROUTES.token}` };

  async function dpopTokenResponse(
    client: RegisteredDpopClient,
    dpop: DPoPHandle,
    tokenOptions: TokenRequestOptions = {},
  ): Promise<TokenEndpointResponse> {
    const scope = tokenOptions.scope ?? scopes.join(' ');
    const clientAuth: ClientAuth =
      client.authMethod === 'tls_client_auth' ? TlsClientAuth() : ClientSecretBasic(client.clientSecret!);
    const parameters = new URLSearchParams({ resource });
    if (scope !== '') parameters.set('scope', scope);
    const oauthClient = { client_id: client.clientId };
    const options = { DPoP: dpop, [customFetch]: fetchWith(client.certificate) };
    const response = await clientCredentialsGrantRequest(
      asMetadata,
      oauthClient,
      clientAuth,
      parameters,
      options,
    );
    if (response.status !== 200) {
      throw new Error(
        `DPoP token request for ${client.clientId} failed with HTTP ${response.status}: ${await response.text()}`,
      );
    }
    return processClientCredentialsResponse(asMetadata, oauthClient, response);
  }

  async function issueDpopToken(
    client: RegisteredDpopClient,
    dpop: DPoPHandle,
    tokenOptions?: TokenRequestOptions,
  ): Promise<string> {
    return (await dpopTokenResponse(client, dpop, tokenOptions)).access_token;
  }

  async function introspect(token: string): Promise<Record<string, unknown>> {
    const { status, text } = await post(
      `${issuer}${ROUTES.introspection}`,
      { token },
      { authorization: basicAuthorization(introspectionClient.clientId, introspectionClient.clientSecret) },
    );
    if (status !== 200) throw new Error(`introspection failed with HTTP ${status}: ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  }

  async function revoke(token: string): Promise<void> {
    const { status, text } = await post(
      `${issuer}${ROUTES.revocation}`,
      { token },
      { authorization: basicAuthorization(introspectionClient.clientId, introspectionClient.clientSecret) },
    );
    if (status !== 200) throw new Error(`revocation failed with HTTP ${status}: ${text}`);
  }

  return {
    issuer,
    url: issuer,
    ca: pki.ca.cert,
    registerMtlsClient,
    issueToken,
    tokenResponse,
    registerDpopClient,
    dpopTokenResponse,
    issueDpopToken,
    introspect,
    introspectionClient,
    introspectionMtlsClient,
    introspectionPostClient,
    introspectionJwtClient,
    revoke,
    signingKeys: keys,
    outage: (mode: AuthorizationServerOutage) => {
      outage = mode;
    },
    authorizeUser,
    counters,
    close,
  };
}
