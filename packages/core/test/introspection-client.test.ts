import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { createTestPki, type TestPki } from '@certbound/testing';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthorizationServer } from '../src/authorization-server/authorization-server.js';
import { ServiceUnavailableError } from '../src/errors.js';
import { IntrospectionClient } from '../src/introspection/introspection-client.js';
import { readIntrospection } from '../src/options/introspection-options.js';
import { failure } from './support/outcomes.js';
import { RFC8414_PATH, type StubAnswer, type StubServer, startStubServer } from './support/stub-server.js';

const PATH = '/introspect';

let pki: TestPki;
let stub: StubServer;
let events: unknown[];
const servers: AuthorizationServer[] = [];
const listener = (message: unknown) => events.push(message);

beforeAll(async () => {
  pki = await createTestPki();
});

beforeEach(async () => {
  stub = await startStubServer(pki);
  events = [];
  subscribe('certbound:introspection', listener);
});

afterEach(async () => {
  unsubscribe('certbound:introspection', listener);
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await stub.close();
});

/** A client of the stub's introspection endpoint (configured, or discovered), with these options. */
function client(options: Record<string, unknown> = {}, { discover = false } = {}): IntrospectionClient {
  const server = new AuthorizationServer({
    issuer: stub.url,
    jwksUri: undefined,
    introspectionEndpoint: discover ? undefined : `${stub.url}${PATH}`,
    tls: { ca: pki.ca.cert },
    timeoutMs: 2000,
  });
  servers.push(server);
  const normalized = readIntrospection(
    { clientId: 'resource server', clientSecret: 's3cret:/+', ...options },
    { timeoutMs: 2000, hasClientCertificate: false },
  );
  return new IntrospectionClient(normalized, server);
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A route that holds every answer until `release()`. */
function gatedRoute(answer: StubAnswer = { body: { active: true } }) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  stub.route(PATH, async () => {
    await gate;
    return answer;
  });
  return () => release();
}

describe('IntrospectionClient', () => {
  it('posts the token with client_secret_basic (form-encoded credentials) and gives the JSON answer', async () => {
    let seen: { method?: string; authorization?: string; contentType?: string; body?: string } = {};
    stub.route(PATH, async (req) => {
      seen = {
        method: req.method,
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: await bodyOf(req),
      };
      return { body: { active: true, sub: 'u' } };
    });
    expect(await client().introspect('opaque-token')).toEqual({ active: true, sub: 'u' });
    expect(seen).toEqual({
      method: 'POST',
      authorization: `Basic ${Buffer.from('resource+server:s3cret%3A%2F%2B').toString('base64')}`,
      contentType: 'application/x-www-form-urlencoded',
      body: 'token=opaque-token&token_type_hint=access_token',
    });
    expect(events).toEqual([{ outcome: 'active', durationMs: expect.any(Number) }]);
  });

  it('answers 503 for anything but a 200 JSON object, and reports the error', async () => {
    stub.route(PATH, { status: 401, body: { error: 'invalid_client' } });
    const error = await failure(client().introspect('t'));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({
      status: 503,
      code: 'authorization_server_unavailable',
      retryAfterSeconds: 5,
    });
    expect((error.cause as Error).message).toBe('HTTP 401 from the introspection endpoint');
    stub.route(PATH, { body: [true] });
    expect((await failure(client().introspect('t'))).status).toBe(503);
    stub.route(PATH, { body: { active: false } });
    expect(await client().introspect('t')).toEqual({ active: false });
    expect(events).toEqual([
      { outcome: 'error', durationMs: expect.any(Number) },
      { outcome: 'error', durationMs: expect.any(Number) },
      { outcome: 'inactive', durationMs: expect.any(Number) },
    ]);
  });

  it('discovers again after a transport failure of a discovered endpoint, not after an answer', async () => {
    stub.route(RFC8414_PATH, { body: { issuer: stub.url, introspection_endpoint: `${stub.url}${PATH}` } });
    const discovered = client({}, { discover: true });
    stub.route(PATH, { status: 500, body: {} });
    expect((await failure(discovered.introspect('t'))).status).toBe(503);
    stub.route(PATH, () => Promise.reject(new Error('reset')));
    expect((await failure(discovered.introspect('t'))).status).toBe(503);
    expect(stub.hits(RFC8414_PATH)).toBe(1);
    stub.route(PATH, { body: { active: true } });
    expect(await discovered.introspect('t')).toEqual({ active: true });
    expect(stub.hits(RFC8414_PATH)).toBe(2);
    expect(stub.hits(PATH)).toBe(3);
  });
});

describe('IntrospectionClient cap on calls in flight', () => {
  it('answers 503 Retry-After 1 without calling once maxConcurrentCalls are in flight, reported as overloaded', async () => {
    const release = gatedRoute();
    const capped = client({ maxConcurrentCalls: 2 });
    const inFlight = [capped.introspect('a'), capped.introspect('b')];
    await vi.waitFor(() => expect(stub.hits(PATH)).toBe(2));
    const error = await failure(capped.introspect('c'));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({
      status: 503,
      error: undefined,
      code: 'authorization_server_unavailable',
      retryAfterSeconds: 1,
      headers: { 'retry-after': '1' },
    });
    expect((error.cause as Error).message).toBe('too many introspection calls in flight');
    expect(events).toEqual([{ outcome: 'overloaded', durationMs: 0 }]);
    expect(stub.hits(PATH)).toBe(2);
    release();
    expect(await Promise.all(inFlight)).toEqual([{ active: true }, { active: true }]);
    // The calls are over: there is room again.
    expect(await capped.introspect('c')).toEqual({ active: true });
    expect(stub.hits(PATH)).toBe(3);
  });

  it('frees the room of a call that failed', async () => {
    stub.route(PATH, () => Promise.reject(new Error('reset')));
    const capped = client({ maxConcurrentCalls: 1 });
    expect((await failure(capped.introspect('a'))).retryAfterSeconds).toBe(5);
    stub.route(PATH, { body: { active: true } });
    expect(await capped.introspect('a')).toEqual({ active: true });
  });

  it('lets 64 calls be in flight by default, not 65', async () => {
    const release = gatedRoute();
    const uncapped = client({ timeoutMs: 30_000 });
    // Each call is in flight from the moment it is made.
    const inFlight = Array.from({ length: 64 }, (_, i) => uncapped.introspect(`t${i}`));
    const error = await failure(uncapped.introspect('t64'));
    expect(error).toMatchObject({ status: 503, retryAfterSeconds: 1 });
    expect(events).toEqual([{ outcome: 'overloaded', durationMs: 0 }]);
    release();
    expect(await Promise.all(inFlight)).toEqual(Array(64).fill({ active: true }));
    expect(stub.hits(PATH)).toBe(64);
  });
});
