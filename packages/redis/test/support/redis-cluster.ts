/**
 * A real Redis Cluster for one test file: three masters (no replicas) on 127.0.0.1, each on a
 * free ephemeral port with its cluster bus on another (`--cluster-port`, so no port + 10000 has
 * to be free), their `nodes-<port>.conf` in a temporary directory. `redis-cli --cluster create`
 * (from redis-tools, which the `redis-server` package of `.ci/apt-packages` depends on) assigns
 * the 16384 slots; the cluster is ready when every node reports `cluster_state:ok`. `close()`
 * kills the servers and removes the directory.
 */
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts, killRedisServer, launchRedisServer } from './redis-server.js';

const HOST = '127.0.0.1';
/** Budget of the whole start-up, below vitest's hookTimeout so that a failure is reported and cleaned up. */
const START_TIMEOUT_MS = 45_000;
/** Budget of one inspection command. */
const COMMAND_TIMEOUT_MS = 10_000;
const run = promisify(execFile);

export interface RedisCluster {
  host: string;
  /** The masters' client ports. */
  ports: number[];
  /**
   * Sends commands to one node as they are (no redirection), in one `redis-cli` run, and returns
   * its raw output, a line per reply (arguments must not contain spaces or quotes).
   */
  commands(port: number, commands: string[][]): Promise<string[]>;
  /** The ports of the masters that hold the slots of `keys`, as the cluster itself says. */
  mastersOf(keys: string[]): Promise<number[]>;
  /** Stops every node and removes their files. */
  close(): Promise<void>;
}

async function redisCli(args: string[], input = '', timeout = COMMAND_TIMEOUT_MS): Promise<string> {
  try {
    const running = run('redis-cli', args, { timeout: Math.max(timeout, 1), killSignal: 'SIGKILL' });
    // redis-cli may exit before it reads its input (it reads none when given a command).
    running.child.stdin?.on('error', () => undefined);
    running.child.stdin?.end(input);
    const { stdout } = await running;
    return stdout.trim();
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `redis-cli ${args.join(' ')} failed (redis-cli comes with redis-server):\n${stdout}${stderr}`,
    );
  }
}

function command(port: number, ...args: string[]): Promise<string> {
  return redisCli(['-h', HOST, '-p', String(port), ...args]);
}

async function commands(port: number, list: string[][]): Promise<string[]> {
  if (list.flat().some((arg) => /[\s'"]/.test(arg))) throw new Error('arguments with spaces or quotes');
  const output = await redisCli(
    ['-h', HOST, '-p', String(port)],
    list.map((args) => `${args.join(' ')}\n`).join(''),
  );
  return output.split('\n');
}

/** Each master's client port and slot ranges, from `CLUSTER NODES`. */
async function slotMap(port: number): Promise<{ port: number; ranges: [number, number][] }[]> {
  const lines = (await command(port, 'CLUSTER', 'NODES')).split('\n').filter(Boolean);
  return lines
    .map((line) => line.split(' '))
    .filter((fields) => fields[2]?.split(',').includes('master'))
    .map((fields) => ({
      port: Number(/:(\d+)@/.exec(fields[1]!)?.[1]),
      ranges: fields.slice(8).map((range) => {
        const [first, last = first] = range.split('-');
        return [Number(first), Number(last)] as [number, number];
      }),
    }));
}

async function ready(ports: number[], deadline: number): Promise<void> {
  for (;;) {
    const states = await Promise.all(ports.map((port) => command(port, 'CLUSTER', 'INFO')));
    if (states.every((info) => info.includes('cluster_state:ok'))) return;
    if (Date.now() > deadline) throw new Error(`the cluster did not become ready:\n${states.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function launchNodes(
  dir: string,
  masters: number,
): Promise<{ ports: number[]; children: ChildProcess[] }> {
  const ports = await freePorts(2 * masters);
  const clientPorts = ports.slice(0, masters);
  const children: ChildProcess[] = [];
  try {
    for (const [i, port] of clientPorts.entries()) {
      const options = [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-port',
        String(ports[masters + i]),
        '--dir',
        dir,
      ];
      children.push(await launchRedisServer(port, options));
    }
  } catch (error) {
    await Promise.all(children.map(killRedisServer));
    throw error;
  }
  return { ports: clientPorts, children };
}

/** Starts a cluster of `masters` masters (at least three, as `redis-cli --cluster create` asks). */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const dir = await mkdtemp(join(tmpdir(), 'certbound-redis-cluster-'));
  let nodes: { ports: number[]; children: ChildProcess[] } | undefined;
  const close = async () => {
    await Promise.all((nodes?.children ?? []).map(killRedisServer));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // Another process may take a port between freePorts() and redis-server binding it.
    for (let attempt = 1; nodes === undefined; attempt++) {
      try {
        nodes = await launchNodes(dir, masters);
      } catch (error) {
        if (attempt === 3 || !String(error).includes('exited')) throw error;
      }
    }
    const { ports } = nodes;
    const create = ['--cluster', 'create', ...ports.map((port) => `${HOST}:${port}`)];
    await redisCli([...create, '--cluster-replicas', '0', '--cluster-yes'], '', deadline - Date.now());
    await ready(ports, deadline);
    return {
      host: HOST,
      ports,
      commands,
      async mastersOf(keys) {
        const slots = await commands(
          ports[0]!,
          keys.map((key) => ['CLUSTER', 'KEYSLOT', key]),
        );
        const masters = await slotMap(ports[0]!);
        return slots.map((slot) => {
          const owner = masters.find(({ ranges }) => ranges.some(([a, b]) => +slot >= a && +slot <= b));
          if (owner === undefined) throw new Error(`no master holds slot ${slot}`);
          return owner.port;
        });
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
