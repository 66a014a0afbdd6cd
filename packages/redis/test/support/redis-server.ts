/**
 * A real `redis-server` for one test file: on 127.0.0.1, a free ephemeral port, no persistence.
 * It can be stopped and started again on the same port (an outage and a recovery), and is
 * killed when the file's `afterAll` calls `close()` (or, failing that, when the worker exits).
 * A missing `redis-server` binary fails the test file: CI installs it from `.ci/apt-packages`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 10_000;

export interface RedisServer {
  host: string;
  port: number;
  /** Stops the server (SIGKILL: an abrupt outage). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty, and waits until it answers PING. */
  start(): Promise<void>;
  /** Stops it for good. */
  close(): Promise<void>;
}

/** A port nothing listens on right now (the kernel's choice). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/** `count` distinct ports nothing listens on right now (held together, so none is chosen twice). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer().listen(0, HOST));
  await Promise.all(servers.map((server) => once(server, 'listening')));
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    return address.port;
  });
  await Promise.all(servers.map((server) => once(server.close(), 'close')));
  return ports;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    // A server that exits (e.g. it could not bind its cluster bus port) may close without a word.
    socket.on('close', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Runs `redis-server` on `port` with `options` added (e.g. cluster mode) and waits until it
 * answers PING; a server that exits first rejects with an error whose text says `exited`.
 */
export async function launchRedisServer(port: number, options: string[] = []): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', ...options],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let failure: Error | undefined;
  child.once('error', (error) => {
    failure = new Error(
      `cannot run redis-server (install it; CI does from .ci/apt-packages): ${error.message}`,
    );
  });
  child.once('exit', () => {
    live.delete(child);
    failure ??= new Error(`redis-server exited before it was ready:\n${output}`);
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await ping(port))) {
    if (failure) throw failure;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer on port ${port}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return child;
}

/** Kills a server started by {@link launchRedisServer} (SIGKILL) and waits until it has exited. */
export async function killRedisServer(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Starts `redis-server` on a free port and waits until it answers. */
export async function startRedisServer(): Promise<RedisServer> {
  let port = await freePort();
  let child: ChildProcess | undefined;
  // Another process may take the port between freePort() and redis-server binding it.
  for (let attempt = 1; child === undefined; attempt++) {
    try {
      child = await launchRedisServer(port);
    } catch (error) {
      if (attempt === 3 || !String(error).includes('exited')) throw error;
      port = await freePort();
    }
  }
  return {
    host: HOST,
    port,
    async stop() {
      await killRedisServer(child);
    },
    async start() {
      await killRedisServer(child);
      child = await launchRedisServer(port);
    },
    async close() {
      await killRedisServer(child);
      child = undefined;
    },
  };
}

/** A server that accepts connections and never answers: a Redis that hangs. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
