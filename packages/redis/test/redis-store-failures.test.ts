/**
 * What the store does when its client misbehaves, with stand-in clients and fake time: it sends
 * only raw GET/SET/DEL, never rejects, gives up after `timeoutMs`, lets one command at a time
 * probe a failing Redis, and shares again as soon as one succeeds.
 */
import { createHash } from 'node:crypto';
import type { CacheEntry } from '@certbound/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { redisStore } from '../src/index.js';

const SECRET = Buffer.alloc(32, 9);
const TIMEOUT_MS = 100;
const KEY = `certbound:introspection:Zm9vYmFyYmF6cXV4:${createHash('sha256').update('t').digest('base64url')}`;

function entry(): CacheEntry {
  return { response: { active: true, scope: 'read' }, expiresAt: Date.now() + 60_000 };
}

/** An ioredis-shaped client over a Map; `mode` decides how it answers. */
function fakeIoredis() {
  const data = new Map<string, string>();
  const calls: string[][] = [];
  const state = { mode: 'answer' as 'answer' | 'hang' | 'throw' | 'reject' | 'late-reject' };
  const client = {
    call(command: string, ...args: string[]): Promise<unknown> {
      calls.push([command, ...args]);
      if (state.mode === 'throw') throw new Error(`connection lost ${args.join(' ')}`);
      if (state.mode === 'reject') return Promise.reject(new Error(`ECONNREFUSED ${args.join(' ')}`));
      if (state.mode === 'hang') return new Promise(() => undefined);
      if (state.mode === 'late-reject') {
        return new Promise((_, reject) => setTimeout(() => reject(new Error('too late')), 10 * TIMEOUT_MS));
      }
      if (command === 'GET') return Promise.resolve(data.get(args[0]!) ?? null);
      if (command === 'SET') return Promise.resolve(data.set(args[0]!, args[1]!) && 'OK');
      if (command === 'DEL') return Promise.resolve(data.delete(args[0]!) ? 1 : 0);
      return Promise.reject(new Error('unexpected command'));
    },
  };
  return { client, data, calls, state };
}

/** Whether `promise` has settled after the pending microtasks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('redisStore with a misbehaving client', () => {
  it('sends raw GET, SET with PX and DEL under the prefix', async () => {
    const fake = fakeIoredis();
    const store = redisStore({ client: fake.client, secret: SECRET, prefix: 'p:' });
    const stored = entry();
    await store.set(KEY, stored, 30_000.9);
    expect(await store.get(KEY)).toEqual(stored);
    await store.delete(KEY);
    expect(fake.calls.map(([command, key, , px, ttl]) => [command, key, px, ttl])).toEqual([
      ['SET', `p:${KEY}`, 'PX', '30000'],
      ['GET', `p:${KEY}`, undefined, undefined],
      ['DEL', `p:${KEY}`, undefined, undefined],
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reads a reply given as bytes (node-redis with a Buffer type mapping)', async () => {
    const data = new Map<string, Buffer>();
    const client = {
      async sendCommand([command, key, value]: string[]) {
        if (command === 'SET') data.set(key!, Buffer.from(value!));
        return command === 'GET' ? (data.get(key!) ?? null) : 'OK';
      },
    };
    const store = redisStore({ client, secret: SECRET });
    const stored = { response: { active: true, sub: 'clïent-ä' }, expiresAt: Date.now() + 60_000 };
    await store.set(KEY, stored, 30_000);
    expect(await store.get(KEY)).toEqual(stored);
  });

  it('routes each command of a node-redis cluster by its one key, a GET as a read', async () => {
    const data = new Map<string, string>();
    const sendCommand = vi.fn(async (_key: string, _readonly: boolean, [command, key, value]: string[]) => {
      if (command === 'SET') data.set(key!, value!);
      return command === 'GET' ? (data.get(key!) ?? null) : 'OK';
    });
    const cluster = { sendCommand, getSlotMaster() {} };
    const store = redisStore({ client: cluster, secret: SECRET });
    const stored = entry();
    await store.set(KEY, stored, 30_000);
    expect(await store.get(KEY)).toEqual(stored);
    await store.delete(KEY);
    const redisKey = `certbound:${KEY}`;
    expect(sendCommand.mock.calls.map(([key, readonly, [command]]) => [key, readonly, command])).toEqual([
      [redisKey, false, 'SET'],
      [redisKey, true, 'GET'],
      [redisKey, false, 'DEL'],
    ]);
  });

  it('gives up a command after timeoutMs: get misses, set and delete resolve', async () => {
    const fake = fakeIoredis();
    fake.state.mode = 'hang';
    const store = redisStore({ client: fake.client, secret: SECRET, timeoutMs: TIMEOUT_MS });
    const lookup = store.get(KEY);
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    expect(await settled(lookup)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(lookup).resolves.toBeUndefined();

    const writes = [store.set(KEY, entry(), 30_000), store.delete(KEY)];
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    await expect(Promise.all(writes)).resolves.toEqual([undefined, undefined]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('aborts a node-redis command that timed out, so it leaves the offline queue', async () => {
    const signals: AbortSignal[] = [];
    const client = {
      sendCommand(_: string[], options?: { abortSignal?: AbortSignal }) {
        signals.push(options!.abortSignal!);
        return new Promise(() => undefined);
      },
    };
    const lookup = redisStore({ client, secret: SECRET, timeoutMs: TIMEOUT_MS }).get(KEY);
    expect(signals[0]!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    await expect(lookup).resolves.toBeUndefined();
    expect(signals[0]!.aborted).toBe(true);
  });

  it.each([
    ['throws', 'throw'],
    ['rejects', 'reject'],
  ] as const)('never rejects when the client %s', async (_, mode) => {
    const fake = fakeIoredis();
    fake.state.mode = mode;
    const store = redisStore({ client: fake.client, secret: SECRET });
    await expect(store.get(KEY)).resolves.toBeUndefined();
    await expect(store.set(KEY, entry(), 30_000)).resolves.toBeUndefined();
    await expect(store.delete(KEY)).resolves.toBeUndefined();
  });

  it('handles a rejection that comes after the timeout', async () => {
    const fake = fakeIoredis();
    fake.state.mode = 'late-reject';
    const store = redisStore({ client: fake.client, secret: SECRET, timeoutMs: TIMEOUT_MS });
    const lookup = store.get(KEY);
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    await expect(lookup).resolves.toBeUndefined();
    // The client's own promise rejects now; an unhandled rejection would fail this file.
    await vi.advanceTimersByTimeAsync(10 * TIMEOUT_MS);
  });

  it('lets one command at a time probe a failing Redis, and the others miss at once', async () => {
    const fake = fakeIoredis();
    fake.state.mode = 'hang';
    const store = redisStore({ client: fake.client, secret: SECRET, timeoutMs: TIMEOUT_MS });
    const first = store.get(KEY);
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    await expect(first).resolves.toBeUndefined();

    const probe = store.get(KEY);
    const others = [store.get(KEY), store.set(KEY, entry(), 30_000), store.delete(KEY)];
    await expect(Promise.all(others)).resolves.toEqual([undefined, undefined, undefined]);
    expect(fake.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    await expect(probe).resolves.toBeUndefined();
  });

  it('sends nothing while the client says it is not connected', async () => {
    const fake = fakeIoredis();
    const ioredis = Object.assign(fake.client, { status: 'reconnecting' });
    const nodeRedis = { isReady: false, sendCommand: vi.fn(async () => 'OK') };
    for (const client of [ioredis, nodeRedis]) {
      const store = redisStore({ client, secret: SECRET, timeoutMs: TIMEOUT_MS });
      await expect(store.get(KEY)).resolves.toBeUndefined();
      await expect(store.set(KEY, entry(), 30_000)).resolves.toBeUndefined();
      await expect(store.delete(KEY)).resolves.toBeUndefined();
    }
    expect(fake.calls).toEqual([]);
    expect(nodeRedis.sendCommand).not.toHaveBeenCalled();

    ioredis.status = 'ready';
    nodeRedis.isReady = true;
    const stored = entry();
    const store = redisStore({ client: ioredis, secret: SECRET });
    await store.set(KEY, stored, 30_000);
    expect(await store.get(KEY)).toEqual(stored);
    await redisStore({ client: nodeRedis, secret: SECRET }).delete(KEY);
    expect(nodeRedis.sendCommand).toHaveBeenCalledWith(['DEL', `certbound:${KEY}`], expect.anything());
  });

  it('shares again as soon as a probe succeeds', async () => {
    const fake = fakeIoredis();
    fake.state.mode = 'reject';
    const store = redisStore({ client: fake.client, secret: SECRET, timeoutMs: TIMEOUT_MS });
    await store.get(KEY);

    fake.state.mode = 'answer';
    const stored = entry();
    await store.set(KEY, stored, 30_000);
    const lookups = await Promise.all([store.get(KEY), store.get(KEY), store.get(KEY)]);
    expect(lookups).toEqual([stored, stored, stored]);
    expect(fake.calls).toHaveLength(5);
  });
});
