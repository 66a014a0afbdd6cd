// Server child processes: each server runs in its own process (bench/server.mjs), pinned to the
// server core when pinning is on, and every one is stopped on any exit path of the parent.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { pinnedForkOptions } from './pinning.mjs';

const SERVER_SCRIPT = fileURLToPath(new URL('../server.mjs', import.meta.url));

const children = new Set();

/** The file name of a server's CPU profile: `express/certbound` → `express+certbound.cpuprofile`. */
export const profileName = (name) => `${name.replace(/[^\w.-]+/g, '+')}.cpuprofile`;
const onStop = new Set();

/**
 * Starts one server. `spec` is the IPC start message (see server.mjs); `profileDir` runs it with
 * --cpu-prof. Resolves with `{ name, child, pid, port }` once it listens.
 */
export function startServer(name, spec, { pinning, profileDir } = {}) {
  const nodeArgs = ['--expose-gc'];
  if (profileDir) {
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${profileName(name)}`);
  }
  const child = fork(SERVER_SCRIPT, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    ...pinnedForkOptions(pinning, nodeArgs),
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} server did not start within 30 s`)), 30_000);
    const onExit = (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} server exited (${code ?? signal})`));
    };
    child.on('message', (message) => {
      if (message?.type === 'ready') {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve({ name, child, pid: message.pid, port: message.port });
      } else if (message?.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`${name} server failed: ${message.message}`));
      }
    });
    child.once('exit', onExit);
    child.send({ type: 'start', name, ...spec });
  });
}

export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  try {
    child.send({ type: 'stop' });
  } catch {
    child.kill('SIGTERM');
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export function stopAllChildren() {
  return Promise.all([...children].map((child) => stopChild(child)));
}

let requestSeq = 0;
/** Sends `{ type, id, ...fields }` to the server and resolves with its answer of the same type and id. */
function askServer(child, type, fields = {}) {
  const id = ++requestSeq;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not answer its ${type} request`)), 10_000);
    const onMessage = (message) => {
      if (message?.type !== type || message.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send({ type, id, ...fields });
  });
}

/**
 * The server's CPU time (µs, all threads), event-loop utilization, requests answered and memory,
 * over IPC. With `gc: true` it collects garbage first, so heapUsed is what is live.
 */
export async function serverUsage(child, { gc = false } = {}) {
  const message = await askServer(child, 'usage', { gc });
  return {
    cpuUs: message.cpu.user + message.cpu.system,
    elu: message.elu,
    served: message.served,
    memory: message.memory,
    monotonicUs: message.monotonicUs,
  };
}

/** The ms the server's fixed calibration work takes now (server.mjs `calibrate`): the machine's speed. */
export async function serverCalibration(child) {
  return (await askServer(child, 'calibrate')).ms;
}

/** Registers a function run on SIGINT/SIGTERM before the servers are stopped (stop the load). */
export function onInterrupt(fn) {
  onStop.add(fn);
}

// Last resort on any exit path: no child outlives this process (they also exit on IPC disconnect).
process.on('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    console.error(`\n${signal}: stopping servers…`);
    for (const fn of onStop) fn();
    await stopAllChildren();
    process.exit(130);
  });
}
