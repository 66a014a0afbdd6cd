/**
 * The client libraries the stores speak to, told apart by shape so that neither is a dependency:
 * ioredis has `call(command, ...args)`, node-redis (v4 and later) has `sendCommand(args)`. Both
 * are given the same raw commands, so they behave identically.
 */

/**
 * The part of an ioredis client the stores use: a `Redis` instance (standalone or sentinel) or a
 * `Cluster`, all of which route `call(command, ...args)` by key.
 */
export interface IoredisLikeClient {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/**
 * The part of a node-redis client the stores use: `createClient()` (v4 and later) or
 * `createClientPool()`. node-redis's cluster and sentinel objects take routing arguments first
 * (`sendCommand(firstKey, isReadonly, args)`) and are not accepted; use ioredis for those.
 */
export interface NodeRedisLikeClient {
  sendCommand(args: string[], options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** A connected ioredis or node-redis client, created (and closed) by the application. */
export type RedisClientLike = IoredisLikeClient | NodeRedisLikeClient;

/** One raw command: its name, then the one key it touches, then its other arguments. */
export type RedisCommand = readonly [command: string, key: string, ...args: string[]];

/** Sends one raw command. `signal` drops it from node-redis's queue if it was not sent yet. */
export type SendCommand = (command: RedisCommand, signal: AbortSignal) => Promise<unknown>;

/** How a store talks to a client. */
export interface RedisConnection {
  send: SendCommand;
  /**
   * Whether commands sent now would go to Redis: `false` while the client says it is not
   * connected (ioredis `status` other than `ready`, or `wait`, which a lazy client leaves with
   * its first command; node-redis `isReady` false). Such commands would only wait in the
   * client's offline queue, and a queued `SET` would reach Redis late, its `PX` counting from then.
   */
  usable(): boolean;
}

/** The text of a reply given as a string or as bytes (node-redis with a Buffer type mapping). */
export function textOf(reply: unknown): string | undefined {
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array)
    return Buffer.from(reply.buffer, reply.byteOffset, reply.length).toString();
  return undefined;
}

/** How to use `client`, or `undefined` if it is neither library's client. */
export function connectionOf(client: unknown): RedisConnection | undefined {
  // Objects only: every function has a `call` (Function.prototype.call).
  if (typeof client !== 'object' || client === null) return undefined;
  const shape = client as Record<string, unknown>;
  const call = shape.call;
  if (typeof call === 'function') {
    return {
      send: (command) => call.apply(client, command) as Promise<unknown>,
      usable: () => typeof shape.status !== 'string' || shape.status === 'ready' || shape.status === 'wait',
    };
  }
  const sendCommand = shape.sendCommand;
  // node-redis's cluster and sentinel take routing arguments first: sendCommand(firstKey, isReadonly, args).
  const routed = typeof shape.getSlotMaster === 'function' || typeof shape.getMasterNode === 'function';
  if (typeof sendCommand === 'function' && !routed) {
    return {
      send: (command, abortSignal) =>
        sendCommand.call(client, [...command], { abortSignal }) as Promise<unknown>,
      usable: () => shape.isReady !== false,
    };
  }
  return undefined;
}
