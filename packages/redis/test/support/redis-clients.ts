/**
 * The two client libraries as an application would use them, connected to a test server or
 * cluster. Each test owns its clients and closes them; `error` events are handled, as an app must.
 */
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import type { RedisClientLike } from '../../src/index.js';

export interface ClientHandle {
  client: RedisClientLike;
  /** Sends a raw command (for inspecting Redis in tests; the store sends its own). */
  command(...args: string[]): Promise<unknown>;
  /** Whether the client is connected and ready for commands. */
  ready(): boolean;
  close(): Promise<void>;
}

export interface ClientKind {
  name: 'ioredis' | 'node-redis';
  /** A client connected to `port`, ready. */
  connect(port: number): Promise<ClientHandle>;
  /** A client that starts connecting to `port` and is not waited for (nothing may answer). */
  open(port: number): ClientHandle;
}

const HOST = '127.0.0.1';
const RETRY_MS = 100;

function ioredis(port: number): ClientHandle {
  const client = new Redis({ host: HOST, port, lazyConnect: true, retryStrategy: () => RETRY_MS });
  client.on('error', () => undefined);
  return {
    client,
    command: (name, ...args) => client.call(name, ...args),
    ready: () => client.status === 'ready',
    async close() {
      client.disconnect();
    },
  };
}

function nodeRedis(port: number) {
  const client = createClient({ socket: { host: HOST, port, reconnectStrategy: () => RETRY_MS } });
  client.on('error', () => undefined);
  const handle: ClientHandle = {
    client,
    command: (...args) => client.sendCommand(args),
    ready: () => client.isReady,
    async close() {
      if (client.isOpen) client.destroy();
    },
  };
  return { client, handle };
}

export const CLIENT_KINDS: ClientKind[] = [
  {
    name: 'ioredis',
    async connect(port) {
      const handle = ioredis(port);
      await (handle.client as Redis).connect();
      return handle;
    },
    open(port) {
      const handle = ioredis(port);
      (handle.client as Redis).connect().catch(() => undefined);
      return handle;
    },
  },
  {
    name: 'node-redis',
    async connect(port) {
      const { client, handle } = nodeRedis(port);
      await client.connect();
      return handle;
    },
    open(port) {
      const { client, handle } = nodeRedis(port);
      client.connect().catch(() => undefined);
      return handle;
    },
  },
];

export interface ClusterClientKind {
  name: 'ioredis Cluster' | 'node-redis createCluster';
  /** A cluster client that discovers the cluster from the masters on `ports`, ready. */
  connect(ports: number[]): Promise<ClientHandle>;
}

export const CLUSTER_CLIENT_KINDS: ClusterClientKind[] = [
  {
    name: 'ioredis Cluster',
    async connect(ports) {
      const client = new Cluster(
        ports.map((port) => ({ host: HOST, port })),
        { lazyConnect: true, clusterRetryStrategy: () => RETRY_MS },
      );
      client.on('error', () => undefined);
      await client.connect();
      return {
        client,
        command: (name, ...args) => client.call(name, ...args),
        ready: () => client.status === 'ready',
        async close() {
          client.disconnect();
        },
      };
    },
  },
  {
    name: 'node-redis createCluster',
    async connect(ports) {
      const client = createCluster({
        rootNodes: ports.map((port) => ({ socket: { host: HOST, port } })),
        defaults: { socket: { reconnectStrategy: () => RETRY_MS } },
      });
      client.on('error', () => undefined);
      await client.connect();
      return {
        client,
        // Routed by the command's first argument after its name: the one key of every command here.
        command: (...args) => client.sendCommand(args[1], false, args),
        ready: () => client.isReady,
        async close() {
          if (client.isOpen) client.destroy();
        },
      };
    },
  },
];
