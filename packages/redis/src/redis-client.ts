/**
 * The client libraries the stores speak to, told apart by shape so that neither is a dependency:
 * ioredis has `call(command, ...args)`; a node-redis client or pool has `sendCommand(args)`; a
 * node-redis cluster has `sendCommand(firstKey, isReadonly, args)` next to its slot map. All are
 * given the same raw commands, so they behave identically.
 *
 * Every command the stores send names exactly one key (see {@link RedisCommand}), so on a Redis
 * Cluster each one goes to the master that holds that key's slot, and none can fail with
 * `CROSSSLOT`.
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
 * `createClientPool()`.
 */
export interface NodeRedisLikeClient {
  sendCommand(args: string[], options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/**
 * The part of a node-redis cluster (`createCluster()`, v4 and later) the stores use: raw commands
 * routed by their key. node-redis's sentinel object is not accepted; use ioredis for a sentinel.
 */
export interface NodeRedisLikeCluster {
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
    options?: { abortSignal?: AbortSignal },
  ): Promise<unknown>;
}

/** A connected ioredis or node-redis client, pool or cluster, created (and closed) by the application. */
export type RedisClientLike = IoredisLikeClient | NodeRedisLikeClient | NodeRedisLikeCluster;

/**
 * One raw command: its name, then the one key it touches, then its other arguments. No command
 * with a second key exists here, so none spans two Redis Cluster slots.
 */
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

/**
 * Whether a node-redis cluster may send `command` to a replica, if the application enabled
 * `useReplicas` (ioredis decides the same with `scaleReads`). Only `GET` is a read here; a
 * lagging replica can only make it miss.
 */
const readonly = (command: RedisCommand): boolean => command[0] === 'GET';

/** The text of a reply given as a string or as bytes (node-redis with a Buffer type mapping). */
export function textOf(reply: unknown): string | undefined {
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array)
    return Buffer.from(reply.buffer, reply.byteOffset, reply.length).toString();
  return undefined;
}

/** How to use `client`, or `undefined` if it is none of the accepted clients. */
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
  if (typeof sendCommand !== 'function') return undefined;
  // node-redis's sentinel takes routing arguments of its own: sendCommand(isReadonly, args).
  if (typeof shape.getMasterNode === 'function') return undefined;
  const usable = () => shape.isReady !== false;
  // node-redis's cluster has slot-map methods (getSlotMaster, nodeClient) and routes by firstKey.
  if (typeof shape.getSlotMaster === 'function' || typeof shape.nodeClient === 'function') {
    return {
      send: (command, abortSignal) =>
        sendCommand.call(client, command[1], readonly(command), [...command], {
          abortSignal,
        }) as Promise<unknown>,
      usable,
    };
  }
  return {
    send: (command, abortSignal) =>
      sendCommand.call(client, [...command], { abortSignal }) as Promise<unknown>,
    usable,
  };
}
