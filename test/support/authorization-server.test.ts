import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { DPoP, generateKeyPair } from 'oauth4webapi';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type TestCertificate, type TestPki } from '../../packages/testing/src/index.js';
import { type AuthorizationServer, startAuthorizationServer } from './authorization-server.js';

const RESOURCE = 'https://api.example.test';

interface Metadata {
  issuer: string;
  jwks_uri: string;
  token_endpoint: string;
  introspection_endpoint: string;
  revocation_endpoint: string;
  tls_client_certificate_bound_access_tokens?: boolean;
  mtls_endpoint_aliases?: Record<string, string>;
  dpop_signing_alg_values_supported?: string[];
}

let pki: TestPki;
const agents: Agent[] = [];

/** An undici agent trusting the test CA, optionally presenting a client certificate. */
function agent(certificate?: TestCertificate): Agent {
  const created = new Agent({
    connect: certificate
      ? { ca: pki.ca.cert, cert: certificate.cert, key: certificate.key }
      : { ca: pki.ca.cert },
  });
  agents.push(created);
  return created;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await request(url, { dispatcher: agent() });
  expect(response.statusCode).toBe(200);
  return (await response.body.json()) as T;
}

async function postForm(
  url: string,
  form: Record<string, string>,
  init: { authorization?: string; certificate?: TestCertificate } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await request(url, {
    method: 'POST',
    dispatcher: agent(init.certificate),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(init.authorization ? { authorization: init.authorization } : {}),
    },
    body: new URLSearchParams(form).toString(),
  });
  return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown> };
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

beforeAll(async () => {
  pki = await createTestPki();
});

afterAll(async () => {
  await Promise.all(agents.map((created) => created.destroy()));
});

describe('authorization server with JWT access tokens', () => {
  let as: AuthorizationServer;
  let metadata: Metadata;

  beforeAll(async () => {
    as = await startAuthorizationServer({ pki, resource: RESOURCE });
    metadata = await getJson<Metadata>(`${as.issuer}/.well-known/openid-configuration`);
  });

  afterAll(async () => {
    await as?.close();
  });

  it('serves discovery metadata with mTLS endpoint aliases on https://127.0.0.1', () => {
    expect(as.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(as.url).toBe(as.issuer);
    expect(as.ca).toBe(pki.ca.cert);
    expect(metadata.issuer).toBe(as.issuer);
    expect(metadata.jwks_uri).toBe(`${as.issuer}/jwks`);
    expect(metadata.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(metadata.mtls_endpoint_aliases).toMatchObject({
      token_endpoint: `${as.issuer}/mtls/token`,
      introspection_endpoint: `${as.issuer}/mtls/token/introspection`,
    });
    expect(as.counters.discovery).toBe(1);
  });

  it('issues certificate-bound JWT access tokens to tls_client_auth clients', async () => {
    const certificate = await pki.issueClient({ subject: 'CN=client-a, O=Example' });
    const client = await as.registerMtlsClient(certificate);
    const tokensBefore = as.counters.token;

    const token = await as.issueToken(client, { scope: 'read' });

    expect(as.counters.token).toBe(tokensBefore + 1);
    const header = decodeProtectedHeader(token);
    expect(header.typ).toBe('at+jwt');
    expect(header.alg).toBe('ES256');
    expect(header.kid).toEqual(expect.any(String));

    const claims = decodeJwt(token);
    expect(claims.cnf).toEqual({ 'x5t#S256': certificate.thumbprint });
    expect([claims.aud].flat()).toContain(RESOURCE);
    expect(claims.iss).toBe(as.issuer);
    expect(claims['client_id']).toBe(client.clientId);
    expect(claims.sub).toBe(client.clientId);
    expect(claims['scope']).toBe('read');
    expect(claims.jti).toEqual(expect.any(String));
    expect(claims.exp! - claims.iat!).toBe(300);

    const jwks = await getJson<JSONWebKeySet>(metadata.jwks_uri);
    expect(as.counters.jwks).toBe(1);
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: as.issuer,
      audience: RESOURCE,
      typ: 'at+jwt',
    });
    expect(payload.jti).toBe(claims.jti);
  });

  it('returns the full token response and binds to whichever certificate was used', async () => {
    const first = await pki.issueClient({ subject: 'CN=client-b, O=Example' });
    const twin = await pki.issueClient({ subject: 'CN=client-b, O=Example' });
    const client = await as.registerMtlsClient(first, { clientId: 'client-b' });
    expect(client.clientId).toBe('client-b');

    const response = await as.tokenResponse(client);
    expect(response).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'read write' });
    expect(decodeJwt(response['access_token'] as string).cnf).toEqual({ 'x5t#S256': first.thumbprint });

    // Same subject DN, so tls_client_auth accepts it; the token binds to the certificate actually presented.
    const token = await as.issueToken({ clientId: 'client-b', certificate: twin });
    expect(decodeJwt(token).cnf).toEqual({ 'x5t#S256': twin.thumbprint });
  });

  it('rejects a certificate whose subject does not match, and one not issued by the CA', async () => {
    const client = await as.registerMtlsClient(await pki.issueClient({ subject: 'CN=client-c' }));
    const other = await pki.issueClient({ subject: 'CN=someone-else' });
    await expect(as.issueToken({ clientId: client.clientId, certificate: other })).rejects.toThrow(
      /HTTP 401/,
    );

    const foreign = await (await createTestPki()).issueClient({ subject: 'CN=client-c' });
    await expect(as.issueToken({ clientId: client.clientId, certificate: foreign })).rejects.toThrow(
      /HTTP 401/,
    );
  });

  it('supports self_signed_tls_client_auth', async () => {
    const certificate = await pki.selfSigned({ subject: 'CN=self-signed client' });
    const client = await as.registerMtlsClient(certificate, { authMethod: 'self_signed_tls_client_auth' });
    const token = await as.issueToken(client);
    expect(decodeJwt(token).cnf).toEqual({ 'x5t#S256': certificate.thumbprint });
  });

  it('rejects a token request without a client certificate', async () => {
    const certificate = await pki.issueClient({ subject: 'CN=client-d' });
    const client = await as.registerMtlsClient(certificate);
    const { status, json } = await postForm(metadata.mtls_endpoint_aliases!['token_endpoint']!, {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      resource: RESOURCE,
    });
    expect(status).toBe(401);
    expect(json['error']).toBe('invalid_client');
  });
});

describe('authorization server with DPoP-bound access tokens (RFC 9449)', () => {
  let as: AuthorizationServer;
  let metadata: Metadata;

  beforeAll(async () => {
    as = await startAuthorizationServer({ pki, resource: RESOURCE });
    metadata = await getJson<Metadata>(`${as.issuer}/.well-known/openid-configuration`);
  });

  afterAll(async () => {
    await as?.close();
  });

  it('advertises the DPoP proof algorithms it accepts', () => {
    expect(metadata.dpop_signing_alg_values_supported).toEqual(['ES256', 'Ed25519', 'EdDSA']);
  });

  it("binds a client_secret_basic client's token to the key of its oauth4webapi proof", async () => {
    const client = await as.registerDpopClient();
    expect(client).toStrictEqual({
      clientId: expect.stringMatching(/^dpop-client-/),
      authMethod: 'client_secret_basic',
      clientSecret: expect.any(String),
    });
    const dpop = DPoP({}, await generateKeyPair('ES256'));
    const tokensBefore = as.counters.token;
    const response = await as.dpopTokenResponse(client, dpop, { scope: 'read' });
    expect(as.counters.token).toBe(tokensBefore + 1);
    expect(response).toMatchObject({ token_type: 'dpop', scope: 'read', expires_in: 300 });
    expect(decodeJwt(response.access_token).cnf).toStrictEqual({ jkt: await dpop.calculateThumbprint() });
  });

  it('introspects an opaque DPoP-bound token as token_type DPoP with cnf.jkt', async () => {
    const client = await as.registerDpopClient({ accessTokenFormat: 'opaque' });
    const dpop = DPoP({}, await generateKeyPair('ES256'));
    const token = await as.issueDpopToken(client, dpop);
    expect(await as.introspect(token)).toMatchObject({
      active: true,
      client_id: client.clientId,
      scope: 'read write',
      token_type: 'DPoP',
      cnf: { jkt: await dpop.calculateThumbprint() },
    });
  });

  it("refuses a DPoP client's token request without a proof", async () => {
    const client = await as.registerDpopClient();
    const { status, json } = await postForm(
      `${as.issuer}/token`,
      { grant_type: 'client_credentials', resource: RESOURCE },
      { authorization: basic(client.clientId, client.clientSecret!) },
    );
    // oidc-provider's answer to "DPoP proof JWT not provided" (it hides the detail from clients).
    expect(status).toBe(400);
    expect(json).toEqual({ error: 'invalid_grant', error_description: 'grant request is invalid' });
  });

  it('authenticates a tls_client_auth DPoP client by its certificate', async () => {
    const certificate = await pki.issueClient({ subject: 'CN=dpop mtls client' });
    const client = await as.registerDpopClient({ authMethod: 'tls_client_auth', certificate });
    const dpop = DPoP({}, await generateKeyPair('ES256'));
    const token = await as.issueDpopToken(client, dpop);
    expect(decodeJwt(token).cnf).toStrictEqual({ jkt: await dpop.calculateThumbprint() });
    await expect(as.issueDpopToken({ ...client, certificate: undefined }, dpop)).rejects.toThrow(/HTTP 401/);
  });
});

describe.each(['RS256', 'PS256', 'EdDSA'] as const)('authorization server signing with %s', (signingAlg) => {
  it('signs access tokens with a key of that algorithm', async () => {
    const as = await startAuthorizationServer({ pki, resource: RESOURCE, signingAlg, scopes: ['x'] });
    try {
      const certificate = await pki.issueClient({ subject: `CN=${signingAlg} client` });
      const token = await as.issueToken(await as.registerMtlsClient(certificate));
      expect(decodeProtectedHeader(token).alg).toBe(signingAlg);
      const jwks = await getJson<JSONWebKeySet>(`${as.issuer}/jwks`);
      const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
        issuer: as.issuer,
        audience: RESOURCE,
      });
      expect(payload['scope']).toBe('x');
    } finally {
      await as.close();
    }
  });
});

describe('authorization server with opaque access tokens', () => {
  let as: AuthorizationServer;
  let metadata: Metadata;

  beforeAll(async () => {
    as = await startAuthorizationServer({
      pki,
      resource: RESOURCE,
      accessTokenFormat: 'opaque',
      accessTokenTtlSeconds: 120,
    });
    metadata = await getJson<Metadata>(`${as.issuer}/.well-known/openid-configuration`);
  });

  afterAll(async () => {
    await as?.close();
  });

  const introspect = (token: string) =>
    postForm(
      metadata.introspection_endpoint,
      { token },
      { authorization: basic(as.introspectionClient.clientId, as.introspectionClient.clientSecret) },
    );

  it('introspects to active with cnf, and to inactive after revocation', async () => {
    const certificate = await pki.issueClient({ subject: 'CN=opaque client, O=Example' });
    const client = await as.registerMtlsClient(certificate);
    const token = await as.issueToken(client);
    expect(() => decodeProtectedHeader(token)).toThrow();

    const before = as.counters.introspection;
    const active = await introspect(token);
    expect(active.status).toBe(200);
    expect(active.json).toMatchObject({
      active: true,
      client_id: client.clientId,
      iss: as.issuer,
      aud: RESOURCE,
      scope: 'read write',
      token_type: 'Bearer',
      cnf: { 'x5t#S256': certificate.thumbprint },
    });
    expect((active.json['exp'] as number) - (active.json['iat'] as number)).toBe(120);
    expect(as.counters.introspection).toBe(before + 1);

    await as.revoke(token);

    const revoked = await introspect(token);
    expect(revoked.json).toEqual({ active: false });
    expect(as.counters.introspection).toBe(before + 2);
  });

  it('lets the tls_client_auth resource server introspect over the mTLS alias', async () => {
    const certificate = await pki.issueClient({ subject: 'CN=opaque client 2' });
    const token = await as.issueToken(await as.registerMtlsClient(certificate));
    const { clientId, certificate: rsCertificate } = as.introspectionMtlsClient;

    const { status, json } = await postForm(
      metadata.mtls_endpoint_aliases!['introspection_endpoint']!,
      { token, client_id: clientId },
      { certificate: rsCertificate },
    );
    expect(status).toBe(200);
    expect(json).toMatchObject({ active: true, cnf: { 'x5t#S256': certificate.thumbprint } });
  });

  it('answers active:false for unknown tokens', async () => {
    const { json } = await introspect('not-a-token');
    expect(json).toEqual({ active: false });
  });
});

describe('authorization server with user logins (authorization code flow)', () => {
  const ACR_VALUES = ['urn:example:acr:password', 'urn:example:acr:mfa'];
  let as: AuthorizationServer;

  beforeAll(async () => {
    as = await startAuthorizationServer({ pki, resource: RESOURCE, acrValues: ACR_VALUES });
  });

  afterAll(async () => {
    await as?.close();
  });

  it('advertises its acr values', async () => {
    const metadata = await getJson<{ acr_values_supported?: string[] }>(
      `${as.issuer}/.well-known/openid-configuration`,
    );
    expect(metadata.acr_values_supported).toEqual(ACR_VALUES);
  });

  it("binds the user's access token to the client certificate and copies the login's acr and auth_time into it", async () => {
    const certificate = await pki.issueClient({ subject: 'CN=web client, O=Example' });
    const client = await as.registerMtlsClient(certificate, { grantType: 'authorization_code' });
    const authTime = Math.floor(Date.now() / 1000) - 120;

    const response = await as.authorizeUser(client, {
      accountId: 'alice',
      acr: 'urn:example:acr:mfa',
      amr: ['pwd', 'otp'],
      authTime,
    });

    expect(response).toMatchObject({ token_type: 'Bearer', scope: 'read write' });
    expect(decodeJwt(response['access_token'] as string)).toMatchObject({
      iss: as.issuer,
      sub: 'alice',
      aud: RESOURCE,
      client_id: client.clientId,
      acr: 'urn:example:acr:mfa',
      auth_time: authTime,
      cnf: { 'x5t#S256': certificate.thumbprint },
    });
    expect(decodeJwt(response['access_token'] as string)).not.toHaveProperty('amr');
  });

  it('puts no acr or auth_time in a client credentials token (no user logged in)', async () => {
    const certificate = await pki.issueClient({ subject: 'CN=service client, O=Example' });
    const token = await as.issueToken(await as.registerMtlsClient(certificate));
    expect(decodeJwt(token)).not.toHaveProperty('acr');
    expect(decodeJwt(token)).not.toHaveProperty('auth_time');
  });

  it('exposes the private keys of its published JWK Set', async () => {
    const jwks = await getJson<JSONWebKeySet>(`${as.issuer}/jwks`);
    expect(as.signingKeys.map(({ kid }) => kid).sort()).toEqual(jwks.keys.map(({ kid }) => kid).sort());
    for (const key of as.signingKeys) expect(key.d).toEqual(expect.any(String));
  });
});

describe('outage()', () => {
  it('resets every connection (down), fails the JWK Set only (jwks), then recovers (none)', async () => {
    const as = await startAuthorizationServer({ pki, resource: RESOURCE });
    const status = async (path: string) => {
      const response = await request(`${as.issuer}${path}`, { dispatcher: agent() });
      await response.body.dump();
      return response.statusCode;
    };
    try {
      as.outage('down');
      await expect(status('/jwks')).rejects.toThrow();
      as.outage('jwks');
      expect([await status('/jwks'), await status('/.well-known/openid-configuration')]).toEqual([500, 200]);
      expect(as.counters).toMatchObject({ jwks: 0, discovery: 1 });
      as.outage('none');
      expect(await status('/jwks')).toBe(200);
      expect(as.counters).toMatchObject({ jwks: 1, discovery: 1 });
    } finally {
      await as.close();
    }
  });
});

describe('close()', () => {
  it('closes open keep-alive connections', async () => {
    const as = await startAuthorizationServer({ pki, resource: RESOURCE });
    const dispatcher = agent();
    const response = await request(`${as.issuer}/.well-known/openid-configuration`, { dispatcher });
    await response.body.json();
    await as.close();
    await expect(request(`${as.issuer}/jwks`, { dispatcher })).rejects.toThrow();
  });
});
