import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createTestPki, type TestPki } from '@certbound/testing';
import type { JWSHeaderParameters } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthorizationServer } from '../src/authorization-server/authorization-server.js';
import { ServiceUnavailableError } from '../src/errors.js';
import {
  DEFAULT_JWKS_MAX_AGE_SECONDS,
  JWKS_COOLDOWN_SECONDS,
  JWKS_STALE_IF_ERROR_SECONDS,
  RemoteKeySet,
} from '../src/jwt/remote-key-set.js';
import { rfc7638, type TestKey, testKey } from './support/keys.js';
import { failure } from './support/outcomes.js';
import { RFC8414_PATH, type StubServer, startStubServer } from './support/stub-server.js';

const JWKS_PATH = '/jwks';

let pki: TestPki;
let stub: StubServer;
let keyA: TestKey;
let keyB: TestKey;
let keyC: TestKey;
const servers: AuthorizationServer[] = [];

beforeAll(async () => {
  pki = await createTestPki();
  [keyA, keyB, keyC] = await Promise.all([
    testKey('ES256', 'a'),
    testKey('ES256', 'b'),
    testKey('ES256', 'c'),
  ]);
});

beforeEach(async () => {
  stub = await startStubServer(pki);
  // Fake Date only: the set's age moves when the test says so; sockets and timeouts stay real.
  vi.useFakeTimers({ toFake: ['Date'] });
});

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await stub.close();
});

/** A RemoteKeySet of the stub issuer: `jwksUri` configured, or discovered. */
function remoteSet({
  maxAgeSeconds = DEFAULT_JWKS_MAX_AGE_SECONDS,
  discover = false,
  timeoutMs = 2000,
} = {}): RemoteKeySet {
  const server = new AuthorizationServer({
    issuer: stub.url,
    jwksUri: discover ? undefined : `${stub.url}${JWKS_PATH}`,
    introspectionEndpoint: undefined,
    tls: { ca: pki.ca.cert },
    timeoutMs,
  });
  servers.push(server);
  return new RemoteKeySet(server, { timeoutMs, maxAgeSeconds });
}

/** The stub serves a JWK Set of these keys from now on. */
function publish(...keys: TestKey[]): void {
  stub.route(JWKS_PATH, { body: { keys: keys.map((key) => key.jwk) } });
}

/** The stub drops every JWK Set request without an answer (a transport failure). */
function dropConnections(): void {
  stub.route(JWKS_PATH, () => Promise.reject(new Error('reset')));
}

const fetches = () => stub.hits(JWKS_PATH);
const header = (kid?: string): JWSHeaderParameters =>
  kid === undefined ? { alg: 'ES256' } : { alg: 'ES256', kid };

/** The ids of the candidates for a header naming `kid` (none: no kid). */
async function idsFor(set: RemoteKeySet, kid?: string): Promise<string[]> {
  return (await set.candidates(header(kid))).map((candidate) => candidate.id);
}

/** Moves the fake clock to `ms` after `start`. */
function at(start: number, ms: number): void {
  vi.setSystemTime(start + ms);
}

describe('RemoteKeySet: max age', () => {
  it('fetches the set on first use and reuses it for every lookup younger than maxAgeSeconds', async () => {
    expect(DEFAULT_JWKS_MAX_AGE_SECONDS).toBe(300);
    publish(keyA, keyB);
    const set = remoteSet();
    const start = Date.now();
    expect(await idsFor(set, 'a')).toEqual([rfc7638(keyA.jwk)]);
    expect(await idsFor(set, 'b')).toEqual([rfc7638(keyB.jwk)]);
    at(start, 299_999);
    expect(await idsFor(set, 'a')).toEqual([rfc7638(keyA.jwk)]);
    expect(fetches()).toBe(1);
  });

  it('fetches it again before a lookup once it is maxAgeSeconds old: a removed key stops verifying', async () => {
    publish(keyA, keyB);
    const set = remoteSet();
    const start = Date.now();
    await idsFor(set, 'a');
    publish(keyB);
    at(start, 300_000);
    expect(await idsFor(set, 'a')).toEqual([]);
    expect(await idsFor(set, 'b')).toEqual([rfc7638(keyB.jwk)]);
    expect(fetches()).toBe(2);
  });

  it('honours a configured max age', async () => {
    publish(keyA);
    const set = remoteSet({ maxAgeSeconds: 60 });
    const start = Date.now();
    await idsFor(set, 'a');
    at(start, 59_999);
    await idsFor(set, 'a');
    expect(fetches()).toBe(1);
    at(start, 60_000);
    await idsFor(set, 'a');
    expect(fetches()).toBe(2);
  });
});

describe('RemoteKeySet: unknown kid', () => {
  it(`fetches again for an unknown kid only once the set is ${JWKS_COOLDOWN_SECONDS} s old`, async () => {
    expect(JWKS_COOLDOWN_SECONDS).toBe(30);
    publish(keyA);
    const set = remoteSet();
    const start = Date.now();
    await idsFor(set, 'a');
    publish(keyA, keyC);
    at(start, 29_999);
    expect(await idsFor(set, 'c')).toEqual([]);
    expect(await idsFor(set, 'unknown')).toEqual([]);
    expect(fetches()).toBe(1);
    at(start, 30_000);
    expect(await idsFor(set, 'c')).toEqual([rfc7638(keyC.jwk)]);
    expect(fetches()).toBe(2);
    // The new set is fresh: another unknown kid waits for its own 30 s.
    expect(await idsFor(set, 'unknown')).toEqual([]);
    expect(fetches()).toBe(2);
    at(start, 60_000);
    expect(await idsFor(set, 'unknown')).toEqual([]);
    expect(fetches()).toBe(3);
  });

  it('never fetches again for a header without kid that no key matches', async () => {
    publish(keyA);
    const set = remoteSet();
    const start = Date.now();
    await idsFor(set, 'a');
    at(start, 60_000);
    expect((await set.candidates({ alg: 'RS256' })).length).toBe(0);
    expect(await idsFor(set)).toEqual([rfc7638(keyA.jwk)]);
    expect(fetches()).toBe(1);
  });
});

describe('RemoteKeySet: one fetch in flight', () => {
  it('makes one fetch for concurrent lookups and refresh(), each waiting for it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    stub.route(JWKS_PATH, async () => {
      await gate;
      return { body: { keys: [keyA.jwk, keyB.jwk] } };
    });
    const set = remoteSet();
    const lookups = Promise.all([
      ...Array.from({ length: 10 }, (_, i) => idsFor(set, i % 2 === 0 ? 'a' : 'b')),
      set.refresh().then(() => 'refreshed'),
    ]);
    await vi.waitFor(() => expect(fetches()).toBe(1));
    release();
    expect(await lookups).toEqual([
      ...Array.from({ length: 10 }, (_, i) => [rfc7638((i % 2 === 0 ? keyA : keyB).jwk)]),
      'refreshed',
    ]);
    expect(fetches()).toBe(1);
  });

  it('gives each fetch timeoutMs, then answers 503', async () => {
    stub.route(JWKS_PATH, () => new Promise(() => undefined));
    const set = remoteSet({ timeoutMs: 200 });
    const error = await failure(set.candidates(header('a')));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ status: 503, code: 'authorization_server_unavailable' });
  });
});

describe('RemoteKeySet: failures', () => {
  it('answers 503 while no set was ever fetched, and the next lookup fetches again and succeeds', async () => {
    stub.route(JWKS_PATH, { status: 500, body: { error: 'server_error' } });
    const set = remoteSet();
    const error = await failure(set.candidates(header('a')));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({
      status: 503,
      error: undefined,
      code: 'authorization_server_unavailable',
      headers: { 'retry-after': '5' },
    });
    expect((error.cause as Error).message).toBe('HTTP 500 from the JWK Set');
    publish(keyA);
    // The clock has not moved: nothing about the failure was remembered.
    expect(await idsFor(set, 'a')).toEqual([rfc7638(keyA.jwk)]);
    expect(fetches()).toBe(2);
  });

  it.each([
    ['an object without "keys"', { jwks: 'none' }, 'the JWK Set has no "keys" array'],
    ['"keys" that is not an array', { keys: {} }, 'the JWK Set has no "keys" array'],
    ['a JSON array', [{ kty: 'EC' }], 'expected a JSON object'],
    ['text that is not JSON', '{"keys": [', 'the response is not valid JSON'],
  ])('answers 503 for %s', async (_name, body, cause) => {
    stub.route(JWKS_PATH, { body });
    const error = await failure(remoteSet().candidates(header('a')));
    expect(error).toMatchObject({ status: 503, code: 'authorization_server_unavailable' });
    expect((error.cause as Error).message).toBe(cause);
  });

  it(`keeps verifying with the last set while it cannot be fetched, for ${JWKS_STALE_IF_ERROR_SECONDS} s after it was, then answers 503`, async () => {
    expect(JWKS_STALE_IF_ERROR_SECONDS).toBe(3600);
    publish(keyA);
    const set = remoteSet();
    const start = Date.now();
    await idsFor(set, 'a');
    stub.route(JWKS_PATH, { status: 500, body: { error: 'server_error' } });
    at(start, 300_000);
    expect(await idsFor(set, 'a')).toEqual([rfc7638(keyA.jwk)]);
    // Every lookup of an old set tries again: the failure is not remembered.
    expect(await idsFor(set, 'a')).toEqual([rfc7638(keyA.jwk)]);
    expect(fetches()).toBe(3);
    at(start, 3_600_000);
    expect(await idsFor(set, 'a')).toEqual([rfc7638(keyA.jwk)]);
    expect(fetches()).toBe(4);
    at(start, 3_600_001);
    const error = await failure(set.candidates(header('a')));
    expect(error).toMatchObject({ status: 503, code: 'authorization_server_unavailable' });
    expect(fetches()).toBe(5);
    publish(keyA, keyB);
    expect(await idsFor(set, 'b')).toEqual([rfc7638(keyB.jwk)]);
    expect(fetches()).toBe(6);
  });

  it('makes one fetch per lookup: an unknown kid in an old set that could not be fetched is not fetched for again', async () => {
    publish(keyA);
    const set = remoteSet();
    const start = Date.now();
    await idsFor(set, 'a');
    stub.route(JWKS_PATH, { status: 500, body: {} });
    at(start, 300_000);
    // The set is due, the fetch fails, the last set stands in: it has no key "c", and the failed
    // fetch was this lookup's one (a second would double its wait on a slow server).
    expect(await idsFor(set, 'c')).toEqual([]);
    expect(fetches()).toBe(2);
  });

  it('forgets the discovered jwks_uri after a transport failure (endpointFailed), so the next lookup discovers again', async () => {
    stub.route(RFC8414_PATH, { body: { issuer: stub.url, jwks_uri: `${stub.url}${JWKS_PATH}` } });
    dropConnections();
    const set = remoteSet({ discover: true });
    const error = await failure(set.candidates(header('a')));
    expect(error).toMatchObject({ status: 503, code: 'authorization_server_unavailable' });
    expect(stub.hits(RFC8414_PATH)).toBe(1);
    publish(keyA);
    expect(await idsFor(set, 'a')).toEqual([rfc7638(keyA.jwk)]);
    expect(stub.hits(RFC8414_PATH)).toBe(2);
    expect(fetches()).toBe(2);
  });

  it('discovers the jwks_uri again after an HTTP error from the JWK Set (it may have moved)', async () => {
    stub.route(RFC8414_PATH, { body: { issuer: stub.url, jwks_uri: `${stub.url}${JWKS_PATH}` } });
    stub.route(JWKS_PATH, { status: 503, body: { error: 'temporarily_unavailable' } });
    const set = remoteSet({ discover: true });
    expect((await failure(set.candidates(header('a')))).status).toBe(503);
    publish(keyA);
    expect(await idsFor(set, 'a')).toEqual([rfc7638(keyA.jwk)]);
    expect(stub.hits(RFC8414_PATH)).toBe(2);
  });
});

describe('RemoteKeySet: refresh()', () => {
  it('fetches now, within the max age: a removed key stops being a candidate at once', async () => {
    publish(keyA, keyB);
    const set = remoteSet();
    await idsFor(set, 'a');
    publish(keyB);
    await expect(set.refresh()).resolves.toBeUndefined();
    expect(fetches()).toBe(2);
    expect(await idsFor(set, 'a')).toEqual([]);
    expect(await idsFor(set, 'b')).toEqual([rfc7638(keyB.jwk)]);
    expect(fetches()).toBe(2);
  });

  it('rejects with a 503 when the set cannot be fetched, and keeps the last one', async () => {
    publish(keyA);
    const set = remoteSet();
    await idsFor(set, 'a');
    stub.route(JWKS_PATH, { status: 500, body: {} });
    const error = await failure(set.refresh());
    expect(error).toMatchObject({ status: 503, code: 'authorization_server_unavailable' });
    expect(await idsFor(set, 'a')).toEqual([rfc7638(keyA.jwk)]);
    expect(fetches()).toBe(2);
  });
});

describe('RemoteKeySet: onKeysRemoved', () => {
  it('reports the RFC 7638 ids of the keys a fetch found gone, and nothing else', async () => {
    const removed: string[][] = [];
    const set = remoteSet();
    const unsubscribe = set.onKeysRemoved((ids) => removed.push([...ids].sort()));
    publish(keyA, keyB, keyC);
    await idsFor(set, 'a'); // the first set: nothing was removed
    publish(keyB);
    await set.refresh();
    expect(removed).toEqual([[rfc7638(keyA.jwk), rfc7638(keyC.jwk)].sort()]);
    publish(keyB, keyC); // one added, none removed
    await set.refresh();
    expect(removed.length).toBe(1);
    // The same kid with new key material: the old key is gone.
    const rotated = await testKey('ES256', 'b');
    publish(rotated, keyC);
    await set.refresh();
    expect(removed).toEqual([[rfc7638(keyA.jwk), rfc7638(keyC.jwk)].sort(), [rfc7638(keyB.jwk)]]);
    unsubscribe();
    publish();
    await set.refresh();
    expect(removed.length).toBe(2);
  });
});

describe('RemoteKeySet: certbound:jwks', () => {
  it('publishes each fetch: ok with its status, error with its status or none on a transport failure', async () => {
    const events: Record<string, unknown>[] = [];
    const listener = (message: unknown) => events.push(message as Record<string, unknown>);
    subscribe('certbound:jwks', listener);
    try {
      const url = `${stub.url}${JWKS_PATH}`;
      publish(keyA);
      const set = remoteSet();
      await set.refresh();
      stub.route(JWKS_PATH, { status: 500, body: {} });
      await failure(set.refresh());
      dropConnections();
      await failure(set.refresh());
      expect(events).toEqual([
        { outcome: 'ok', status: 200, url, durationMs: expect.any(Number) },
        { outcome: 'error', status: 500, url, durationMs: expect.any(Number) },
        { outcome: 'error', status: undefined, url, durationMs: expect.any(Number) },
      ]);
    } finally {
      unsubscribe('certbound:jwks', listener);
    }
  });
});
