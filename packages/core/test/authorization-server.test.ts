import { createTestPki, type TestPki } from '@certbound/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthorizationServer } from '../src/authorization-server/authorization-server.js';
import { ServiceUnavailableError } from '../src/errors.js';
import { failure } from './support/outcomes.js';
import { RFC8414_PATH, type StubServer, startStubServer } from './support/stub-server.js';

const OPENID_PATH = '/.well-known/openid-configuration';

let pki: TestPki;
let stub: StubServer;
const servers: AuthorizationServer[] = [];

beforeAll(async () => {
  pki = await createTestPki();
});

beforeEach(async () => {
  stub = await startStubServer(pki);
});

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await stub.close();
});

/** An AuthorizationServer for the stub issuer, trusting the test CA. */
function serverFor(configured: { jwksUri?: string; introspectionEndpoint?: string } = {}, issuer = stub.url) {
  const server = new AuthorizationServer({
    issuer,
    jwksUri: configured.jwksUri,
    introspectionEndpoint: configured.introspectionEndpoint,
    tls: { ca: pki.ca.cert },
    timeoutMs: 2000,
  });
  servers.push(server);
  return server;
}

/** Serves RFC 8414 metadata for the stub issuer with `members`. */
function serveMetadata(members: Record<string, unknown>): void {
  stub.route(RFC8414_PATH, { body: { issuer: stub.url, ...members } });
}

const discoveries = () => stub.hits(RFC8414_PATH) + stub.hits(OPENID_PATH);

/** The whole 503 an unusable metadata document gives, with the reason kept for logs only. */
async function expectUnusable(lookup: Promise<unknown>, member: string): Promise<void> {
  const error = await failure(lookup);
  expect(error).toBeInstanceOf(ServiceUnavailableError);
  expect(error).toMatchObject({
    status: 503,
    error: undefined,
    code: 'authorization_server_unavailable',
    headers: { 'retry-after': '5' },
  });
  expect((error.cause as Error).message).toBe(`the issuer metadata has no usable ${member}`);
}

describe('AuthorizationServer', () => {
  it('uses configured endpoints as they are and never discovers', async () => {
    serveMetadata({
      jwks_uri: `${stub.url}/discovered-jwks`,
      introspection_endpoint: `${stub.url}/discovered`,
    });
    const server = serverFor({
      jwksUri: 'https://as.example.com/jwks',
      introspectionEndpoint: 'https://as.example.com/introspect',
    });
    expect(await server.jwksUri()).toBe('https://as.example.com/jwks');
    expect(await server.introspectionEndpoint(false)).toBe('https://as.example.com/introspect');
    expect(await server.introspectionEndpoint(true)).toBe('https://as.example.com/introspect');
    server.endpointFailed();
    expect(await server.jwksUri()).toBe('https://as.example.com/jwks');
    expect(discoveries()).toBe(0);
  });

  it('uses configured endpoints even when the issuer cannot be reached', async () => {
    const server = serverFor(
      { jwksUri: 'https://as.example.com/jwks', introspectionEndpoint: 'https://as.example.com/introspect' },
      'https://127.0.0.1:1',
    );
    await expect(server.jwksUri()).resolves.toBe('https://as.example.com/jwks');
    await expect(server.introspectionEndpoint(true)).resolves.toBe('https://as.example.com/introspect');
  });

  it('discovers the JWK Set URL and the introspection endpoint from the issuer metadata', async () => {
    serveMetadata({ jwks_uri: `${stub.url}/jwks`, introspection_endpoint: `${stub.url}/introspect` });
    const server = serverFor();
    expect(await server.jwksUri()).toBe(`${stub.url}/jwks`);
    expect(await server.introspectionEndpoint(false)).toBe(`${stub.url}/introspect`);
    expect(stub.hits(RFC8414_PATH)).toBe(1);
    expect(stub.hits(OPENID_PATH)).toBe(0);
  });

  it('discovers only what is not configured', async () => {
    serveMetadata({ jwks_uri: `${stub.url}/jwks`, introspection_endpoint: `${stub.url}/introspect` });
    const server = serverFor({ jwksUri: 'https://as.example.com/jwks' });
    expect(await server.jwksUri()).toBe('https://as.example.com/jwks');
    expect(discoveries()).toBe(0);
    expect(await server.introspectionEndpoint(false)).toBe(`${stub.url}/introspect`);
    expect(discoveries()).toBe(1);
  });

  it('chooses the mtls_endpoint_aliases introspection endpoint only when the resource server uses mTLS', async () => {
    serveMetadata({
      jwks_uri: `${stub.url}/jwks`,
      introspection_endpoint: `${stub.url}/introspect`,
      mtls_endpoint_aliases: {
        introspection_endpoint: `${stub.url}/mtls/introspect`,
        token_endpoint: `${stub.url}/mtls/token`,
      },
    });
    const server = serverFor();
    expect(await server.introspectionEndpoint(true)).toBe(`${stub.url}/mtls/introspect`);
    expect(await server.introspectionEndpoint(false)).toBe(`${stub.url}/introspect`);
    expect(await server.jwksUri()).toBe(`${stub.url}/jwks`);
    expect(discoveries()).toBe(1);
  });

  it.each([
    ['no mtls_endpoint_aliases', {}],
    [
      'aliases without an introspection endpoint',
      { mtls_endpoint_aliases: { token_endpoint: 'https://x/t' } },
    ],
    ['an alias that is null', { mtls_endpoint_aliases: { introspection_endpoint: null } }],
  ])('uses introspection_endpoint under mTLS when the metadata has %s', async (_name, members) => {
    serveMetadata({ introspection_endpoint: `${stub.url}/introspect`, ...members });
    expect(await serverFor().introspectionEndpoint(true)).toBe(`${stub.url}/introspect`);
  });

  it('fetches the metadata once for concurrent lookups, and keeps it for later ones', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    stub.route(RFC8414_PATH, async () => {
      await gate;
      return {
        body: {
          issuer: stub.url,
          jwks_uri: `${stub.url}/jwks`,
          introspection_endpoint: `${stub.url}/introspect`,
          mtls_endpoint_aliases: { introspection_endpoint: `${stub.url}/mtls/introspect` },
        },
      };
    });
    const server = serverFor();
    const lookups = Promise.all([
      ...Array.from({ length: 10 }, () => server.jwksUri()),
      ...Array.from({ length: 10 }, () => server.introspectionEndpoint(false)),
      ...Array.from({ length: 10 }, () => server.introspectionEndpoint(true)),
    ]);
    await vi.waitFor(() => expect(stub.hits(RFC8414_PATH)).toBe(1));
    release();
    expect(await lookups).toEqual([
      ...Array(10).fill(`${stub.url}/jwks`),
      ...Array(10).fill(`${stub.url}/introspect`),
      ...Array(10).fill(`${stub.url}/mtls/introspect`),
    ]);
    expect(await server.jwksUri()).toBe(`${stub.url}/jwks`);
    expect(discoveries()).toBe(1);
  });

  it.each([
    ['no jwks_uri', {}],
    ['a jwks_uri that is not a string', { jwks_uri: 42 }],
    ['a plain-http jwks_uri on another host', { jwks_uri: 'http://as.example.com/jwks' }],
    ['a jwks_uri with a fragment', { jwks_uri: 'https://as.example.com/jwks#keys' }],
    ['a jwks_uri that is not a URL', { jwks_uri: 'jwks' }],
  ])('answers 503 for metadata with %s, and discovers again on the next lookup', async (_name, members) => {
    serveMetadata({ introspection_endpoint: `${stub.url}/introspect`, ...members });
    const server = serverFor();
    await expectUnusable(server.jwksUri(), 'jwks_uri');
    expect(discoveries()).toBe(1);
    serveMetadata({ jwks_uri: `${stub.url}/jwks` });
    expect(await server.jwksUri()).toBe(`${stub.url}/jwks`);
    expect(discoveries()).toBe(2);
  });

  it('answers 503 for metadata without an introspection endpoint, and discovers again on the next lookup', async () => {
    serveMetadata({ jwks_uri: `${stub.url}/jwks` });
    const server = serverFor();
    expect(await server.jwksUri()).toBe(`${stub.url}/jwks`);
    await expectUnusable(server.introspectionEndpoint(true), 'introspection_endpoint');
    expect(discoveries()).toBe(1);
    // The unusable document is forgotten: even a lookup that it could answer discovers again.
    expect(await server.jwksUri()).toBe(`${stub.url}/jwks`);
    expect(discoveries()).toBe(2);
  });

  it('discovers again after endpointFailed(), and follows an endpoint that moved', async () => {
    serveMetadata({ jwks_uri: `${stub.url}/jwks`, introspection_endpoint: `${stub.url}/introspect` });
    const server = serverFor();
    expect(await server.jwksUri()).toBe(`${stub.url}/jwks`);
    expect(await server.introspectionEndpoint(false)).toBe(`${stub.url}/introspect`);
    expect(discoveries()).toBe(1);
    serveMetadata({ jwks_uri: `${stub.url}/v2/jwks`, introspection_endpoint: `${stub.url}/v2/introspect` });
    expect(await server.jwksUri()).toBe(`${stub.url}/jwks`);
    expect(discoveries()).toBe(1);
    server.endpointFailed();
    expect(await server.introspectionEndpoint(false)).toBe(`${stub.url}/v2/introspect`);
    expect(await server.jwksUri()).toBe(`${stub.url}/v2/jwks`);
    expect(discoveries()).toBe(2);
  });

  it('does not keep a failed discovery: the next lookup discovers again', async () => {
    stub.route(RFC8414_PATH, {
      body: { issuer: 'https://another.example.com', jwks_uri: `${stub.url}/jwks` },
    });
    const server = serverFor();
    expect((await failure(server.jwksUri())).status).toBe(503);
    expect(stub.hits(RFC8414_PATH)).toBe(1);
    expect(stub.hits(OPENID_PATH)).toBe(1);
    serveMetadata({ jwks_uri: `${stub.url}/jwks` });
    expect(await server.jwksUri()).toBe(`${stub.url}/jwks`);
    expect(stub.hits(RFC8414_PATH)).toBe(2);
  });

  it('does not remember a 5xx from the metadata URL: the next lookup discovers again and succeeds', async () => {
    // The clock stands still: the next lookup alone brings service back.
    vi.useFakeTimers({ toFake: ['Date'] });
    stub.route(RFC8414_PATH, { status: 500, body: { error: 'server_error' } });
    const server = serverFor();
    expect(await failure(server.jwksUri())).toMatchObject({
      status: 503,
      code: 'authorization_server_unavailable',
      retryAfterSeconds: 5,
      headers: { 'retry-after': '5' },
    });
    expect(stub.hits(RFC8414_PATH)).toBe(1);
    expect(stub.hits(OPENID_PATH)).toBe(1);
    serveMetadata({ jwks_uri: `${stub.url}/jwks` });
    expect(await server.jwksUri()).toBe(`${stub.url}/jwks`);
    expect(stub.hits(RFC8414_PATH)).toBe(2);
    expect(stub.hits(OPENID_PATH)).toBe(1);
  });

  it('does not remember a transport failure of discovery: the next lookup goes out and succeeds', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    stub.route(RFC8414_PATH, () => Promise.reject(new Error('reset')));
    const server = serverFor();
    expect(await failure(server.jwksUri())).toMatchObject({
      status: 503,
      code: 'authorization_server_unavailable',
    });
    // A transport failure is a 503 at once: the OpenID location is not tried after it.
    expect(stub.hits(RFC8414_PATH)).toBe(1);
    expect(stub.hits(OPENID_PATH)).toBe(0);
    serveMetadata({ jwks_uri: `${stub.url}/jwks` });
    expect(await server.jwksUri()).toBe(`${stub.url}/jwks`);
    expect(stub.hits(RFC8414_PATH)).toBe(2);
  });

  it('closes its connections once: a lookup that needs the network then answers 503', async () => {
    serveMetadata({ jwks_uri: `${stub.url}/jwks` });
    const server = serverFor();
    expect(await server.jwksUri()).toBe(`${stub.url}/jwks`);
    const closing = server.close();
    expect(server.close()).toBe(closing);
    await closing;
    server.endpointFailed();
    expect(await failure(server.jwksUri())).toMatchObject({
      status: 503,
      code: 'authorization_server_unavailable',
    });
    expect(discoveries()).toBe(1);
  });
});
