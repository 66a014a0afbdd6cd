/**
 * Two API instances sharing introspection results through a real Redis (`@certbound/redis`),
 * with each client library: the second instance reuses what the first one learned, Redis never
 * holds a token, and with Redis down every request still succeeds through introspection.
 */
import { randomBytes } from 'node:crypto';
import { createVerifier, type Verifier } from '@certbound/core';
import { redisStore } from '@certbound/redis';
import {
  createTestIssuer,
  createTestPki,
  type TestCertificate,
  type TestIssuer,
  type TestPki,
} from '@certbound/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLIENT_KINDS, type ClientHandle } from '../../packages/redis/test/support/redis-clients.js';
import { type RedisServer, startRedisServer } from '../../packages/redis/test/support/redis-server.js';

/** Generous: a loaded CI machine must not turn a shared hit into a miss. */
const REDIS_TIMEOUT_MS = 1000;

let pki: TestPki;
let certificate: TestCertificate;
let redis: RedisServer;

beforeAll(async () => {
  pki = await createTestPki();
  certificate = await pki.issueClient({ subject: 'CN=payments-client' });
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.close();
});

describe.each(CLIENT_KINDS)('two API instances sharing introspection through Redis ($name)', (kind) => {
  const secret = randomBytes(32);
  let issuer: TestIssuer;
  let clients: ClientHandle[] = [];
  let first: Verifier;
  let second: Verifier;

  /** An API instance: its own Redis client and verifier, the shared secret. */
  async function instance(): Promise<Verifier> {
    const handle = await kind.connect(redis.port);
    clients.push(handle);
    return createVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      tls: { ca: issuer.ca },
      introspection: {
        ...issuer.introspectionClient,
        cache: { store: redisStore({ client: handle.client, secret, timeoutMs: REDIS_TIMEOUT_MS }) },
      },
    });
  }

  async function keysInRedis(): Promise<string[]> {
    return (await clients[0]!.command('KEYS', '*')) as string[];
  }

  const verify = (verifier: Verifier, token: string) =>
    verifier.verify({ authorization: `Bearer ${token}`, certificate: certificate.cert });

  beforeAll(async () => {
    issuer = await createTestIssuer({ pki });
    first = await instance();
    second = await instance();
    await clients[0]!.command('FLUSHALL');
  });

  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
    await Promise.all(clients.map((c) => c.close()));
    clients = [];
    await issuer?.close();
  });

  it('introspects once: the second instance finds the result in Redis', async () => {
    const token = issuer.mintOpaqueToken({ certificate, scope: 'accounts:read' });
    expect(issuer.counters.introspection).toBe(0);

    const auth = await verify(first, token);
    expect(auth).toMatchObject({ format: 'opaque', scopes: ['accounts:read'], bound: true });
    expect(issuer.counters.introspection).toBe(1);
    // The first instance shares the result without waiting for Redis; wait until it is there.
    await vi.waitFor(async () => expect(await keysInRedis()).toHaveLength(1));

    await expect(verify(second, token)).resolves.toMatchObject({
      format: 'opaque',
      scopes: ['accounts:read'],
      thumbprint: certificate.thumbprint,
    });
    expect(issuer.counters.introspection).toBe(1);
  });

  it('keeps no token in Redis, only hashed keys and authenticated entries', async () => {
    const token = issuer.mintOpaqueToken({ certificate, scope: 'accounts:write' });
    await verify(first, token);
    await vi.waitFor(async () => expect((await keysInRedis()).length).toBeGreaterThanOrEqual(2));

    for (const key of await keysInRedis()) {
      expect(key).toMatch(/^certbound:certbound:introspection:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{43}$/);
      const value = (await clients[0]!.command('GET', key)) as string;
      expect(value).toMatch(/^v1\.[A-Za-z0-9_-]{43}\./);
      for (const secretText of [token, token.slice(0, 20), token.slice(-20), secret.toString('base64')]) {
        expect(key).not.toContain(secretText);
        expect(value).not.toContain(secretText);
      }
    }
  });

  it('still verifies through introspection while Redis is down, and shares again when it is back', async () => {
    const before = issuer.counters.introspection;
    await redis.stop();
    try {
      const token = issuer.mintOpaqueToken({ certificate, scope: 'accounts:read' });
      await expect(verify(first, token)).resolves.toMatchObject({ scopes: ['accounts:read'] });
      await expect(verify(second, token)).resolves.toMatchObject({ scopes: ['accounts:read'] });
      expect(issuer.counters.introspection).toBe(before + 2);
    } finally {
      await redis.start();
    }

    await vi.waitFor(() => expect(clients.every((c) => c.ready())).toBe(true), { timeout: 15_000 });
    const known = new Set(await keysInRedis());
    const token = issuer.mintOpaqueToken({ certificate, scope: 'accounts:read' });
    await verify(first, token);
    await vi.waitFor(async () => expect((await keysInRedis()).filter((k) => !known.has(k))).toHaveLength(1));
    await verify(second, token);
    expect(issuer.counters.introspection).toBe(before + 3);
  });
});
