/**
 * What `redisReplayStore` sends and how it fails, with stand-in clients and fake time: one atomic
 * `SET key 1 NX PX ttl` per call, `true` only for `OK`, and a rejection with a fixed message
 * (never the key) within `timeoutMs` when Redis fails, hangs or is not connected, so that the
 * verifier falls back to its in-process replay cache (RFC 9449 §11.1).
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { redisReplayStore } from '../src/index.js';

const TIMEOUT_MS = 100;
const KEY = `certbound:dpop:jti:${createHash('sha256').update('proof').digest('base64url')}`;
const UNAVAILABLE = new Error('certbound: the Redis replay store is unavailable');

type Mode = 'answer' | 'hang' | 'throw' | 'reject' | 'late-reject';

/** An ioredis-shaped client over a Map that honours `SET … NX`; `mode` decides how it answers. */
function fakeIoredis() {
  const data = new Map<string, string>();
  const calls: string[][] = [];
  const state = { mode: 'answer' as Mode };
  const client = {
    call(command: string, ...args: string[]): Promise<unknown> {
      calls.push([command, ...args]);
      if (state.mode === 'throw') throw new Error(`connection lost ${args.join(' ')}`);
      if (state.mode === 'reject') return Promise.reject(new Error(`ECONNREFUSED ${args.join(' ')}`));
      if (state.mode === 'hang') return new Promise(() => undefined);
      if (state.mode === 'late-reject') {
        return new Promise((_, reject) => setTimeout(() => reject(new Error('too late')), 10 * TIMEOUT_MS));
      }
      const [key, value] = args as [string, string];
      if (command !== 'SET' || data.has(key)) return Promise.resolve(null);
      data.set(key, value);
      return Promise.resolve('OK');
    },
  };
  return { client, data, calls, state };
}

/** The rejection of `promise`, to compare whole (message and all). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => error,
  );
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('redisReplayStore with a stand-in client', () => {
  it('sends one SET NX with PX under the prefix: true when stored, false when already there', async () => {
    const fake = fakeIoredis();
    const store = redisReplayStore({ client: fake.client, prefix: 'p:' });
    expect([await store.setIfAbsent(KEY, 30_000), await store.setIfAbsent(KEY, 30_000)]).toEqual([
      true,
      false,
    ]);
    expect(fake.calls).toEqual([
      ['SET', `p:${KEY}`, '1', 'NX', 'PX', '30000'],
      ['SET', `p:${KEY}`, '1', 'NX', 'PX', '30000'],
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('writes under certbound: by default and rounds ttlMs up to a whole millisecond', async () => {
    const fake = fakeIoredis();
    const store = redisReplayStore({ client: fake.client });
    await store.setIfAbsent(`${KEY}:a`, 0.2);
    await store.setIfAbsent(`${KEY}:b`, 1500.1);
    await store.setIfAbsent(`${KEY}:c`, 60_000);
    expect(fake.calls.map(([, key, , , , px]) => [key, px])).toEqual([
      [`certbound:${KEY}:a`, '1'],
      [`certbound:${KEY}:b`, '1501'],
      [`certbound:${KEY}:c`, '60000'],
    ]);
  });

  it('rejects a ttlMs that is not a positive number, without sending anything', async () => {
    const fake = fakeIoredis();
    const store = redisReplayStore({ client: fake.client });
    const invalid = new Error(
      'certbound: the Redis replay store was given a ttlMs that is not a positive number',
    );
    for (const ttlMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expect(await rejectionOf(store.setIfAbsent(KEY, ttlMs)), String(ttlMs)).toEqual(invalid);
    }
    expect(fake.calls).toEqual([]);
  });

  it('reads OK given as bytes (node-redis with a Buffer type mapping)', async () => {
    const client = { sendCommand: vi.fn(async () => Buffer.from('OK')) };
    expect(await redisReplayStore({ client }).setIfAbsent(KEY, 1000)).toBe(true);
    expect(client.sendCommand).toHaveBeenCalledWith(['SET', `certbound:${KEY}`, '1', 'NX', 'PX', '1000'], {
      abortSignal: expect.any(AbortSignal),
    });
  });

  it('routes the command of a node-redis cluster by its one key, to a master', async () => {
    const sendCommand = vi.fn(async () => 'OK');
    const cluster = { sendCommand, getSlotMaster() {}, nodeClient() {} };
    expect(await redisReplayStore({ client: cluster }).setIfAbsent(KEY, 1000)).toBe(true);
    expect(sendCommand.mock.calls).toEqual([
      [
        `certbound:${KEY}`,
        false,
        ['SET', `certbound:${KEY}`, '1', 'NX', 'PX', '1000'],
        { abortSignal: expect.any(AbortSignal) },
      ],
    ]);
  });

  it('rejects a reply that is neither OK nor nil', async () => {
    for (const reply of [1, 'QUEUED', ['OK'], undefined]) {
      const store = redisReplayStore({ client: { call: async () => reply } });
      expect(await rejectionOf(store.setIfAbsent(KEY, 1000))).toEqual(
        new Error('certbound: the Redis replay store got an unexpected reply'),
      );
    }
  });

  it.each([
    ['throws', 'throw'],
    ['rejects', 'reject'],
  ] as const)('rejects with a fixed message when the client %s', async (_, mode) => {
    const fake = fakeIoredis();
    fake.state.mode = mode;
    const error = await rejectionOf(redisReplayStore({ client: fake.client }).setIfAbsent(KEY, 1000));
    expect(error).toEqual(UNAVAILABLE);
    expect(String((error as Error).stack)).not.toContain(KEY);
  });

  it('rejects after timeoutMs when Redis does not answer, and withdraws a queued node-redis command', async () => {
    const signals: AbortSignal[] = [];
    const client = {
      sendCommand(_: string[], options?: { abortSignal?: AbortSignal }) {
        signals.push(options!.abortSignal!);
        return new Promise(() => undefined);
      },
    };
    const outcome = rejectionOf(redisReplayStore({ client, timeoutMs: TIMEOUT_MS }).setIfAbsent(KEY, 1000));
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    expect(signals.map((signal) => signal.aborted)).toEqual([false]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toEqual(UNAVAILABLE);
    expect(signals.map((signal) => signal.aborted)).toEqual([true]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('handles a rejection that comes after the timeout', async () => {
    const fake = fakeIoredis();
    fake.state.mode = 'late-reject';
    const outcome = rejectionOf(
      redisReplayStore({ client: fake.client, timeoutMs: TIMEOUT_MS }).setIfAbsent(KEY, 1000),
    );
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(await outcome).toEqual(UNAVAILABLE);
    // The client's own promise rejects now; an unhandled rejection would fail this file.
    await vi.advanceTimersByTimeAsync(10 * TIMEOUT_MS);
  });

  it('rejects at once, sending nothing, while the client says it is not connected', async () => {
    const fake = fakeIoredis();
    const ioredis = Object.assign(fake.client, { status: 'reconnecting' });
    const nodeRedis = { isReady: false, sendCommand: vi.fn(async () => 'OK') };
    for (const client of [ioredis, nodeRedis]) {
      expect(await rejectionOf(redisReplayStore({ client }).setIfAbsent(KEY, 1000))).toEqual(UNAVAILABLE);
    }
    expect(fake.calls).toEqual([]);
    expect(nodeRedis.sendCommand).not.toHaveBeenCalled();

    ioredis.status = 'ready';
    expect(await redisReplayStore({ client: ioredis }).setIfAbsent(KEY, 1000)).toBe(true);
  });

  it('lets one call at a time probe a failing Redis, rejects the others at once, and stores again once a probe succeeds', async () => {
    const fake = fakeIoredis();
    fake.state.mode = 'hang';
    const store = redisReplayStore({ client: fake.client, timeoutMs: TIMEOUT_MS });
    const first = rejectionOf(store.setIfAbsent(`${KEY}:1`, 1000));
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(await first).toEqual(UNAVAILABLE);

    const probe = rejectionOf(store.setIfAbsent(`${KEY}:2`, 1000));
    const others = await Promise.all(
      [3, 4, 5].map((n) => rejectionOf(store.setIfAbsent(`${KEY}:${n}`, 1000))),
    );
    expect(others).toEqual([UNAVAILABLE, UNAVAILABLE, UNAVAILABLE]);
    expect(fake.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(await probe).toEqual(UNAVAILABLE);

    fake.state.mode = 'answer';
    expect(await store.setIfAbsent(`${KEY}:6`, 1000)).toBe(true);
    expect(
      await Promise.all([store.setIfAbsent(`${KEY}:6`, 1000), store.setIfAbsent(`${KEY}:7`, 1000)]),
    ).toEqual([false, true]);
  });
});
