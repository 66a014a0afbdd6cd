// One benchmark server, run in its own child process by run.mjs (`child_process.fork`), so that
// the load generator never shares this event loop. The configuration arrives as the first IPC
// message:
//   { type: 'start', name, app, auth, tls: { cert, key } }
//     app   express | koa | fastify | nest-express | nest-fastify
//     auth  undefined (bare framework), { certbound: options } or { peer: options } (Express only)
// and the child answers { type: 'ready', port, pid }. It answers { type: 'usage', id, gc } with its
// CPU time, event-loop utilization, requests served and memory, { type: 'calibrate', id } with the
// time a fixed piece of work took on its core (how fast the machine is right now), and stops on
// { type: 'stop' }, on
// SIGTERM/SIGINT, and when the parent goes away (IPC disconnect): it never outlives run.mjs.
// Every server is HTTPS on 127.0.0.1, asks for a client certificate without verifying its chain
// (RFC 8705 §6.2), and answers GET / with {"ok":true}.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { buildServer } from './servers/build.mjs';

let running;
let stopping = false;
let served = 0;

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  const hardExit = setTimeout(() => process.exit(code), 3000);
  hardExit.unref();
  try {
    await running?.close();
  } catch {
    // exiting anyway
  }
  // process.exit (not a natural exit) so that --cpu-prof still writes its profile.
  process.exit(code);
}

process.on('disconnect', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
process.on('uncaughtException', (error) => {
  process.send?.({ type: 'error', message: String(error?.stack ?? error) });
  stop(1);
});

const body = { ok: true };
/** What every handler returns; counts the requests that got through to the handler. */
function respond() {
  served++;
  return body;
}

function usage(gc) {
  if (gc && typeof globalThis.gc === 'function') globalThis.gc();
  return {
    cpu: process.cpuUsage(),
    elu: performance.eventLoopUtilization(),
    served,
    memory: process.memoryUsage(),
    // The clock of --cpu-prof profiles, so a profile can be cut to the measured load.
    monotonicUs: Number(process.hrtime.bigint() / 1000n),
  };
}

const CALIBRATION_INPUT = Buffer.alloc(64 * 1024, 7);
/** A fixed piece of work (SHA-256 of 640 KiB, then a million-step integer loop): its wall-clock ms. */
function fixedWork() {
  const start = performance.now();
  let sink = 0;
  for (let i = 0; i < 10; i++) sink ^= createHash('sha256').update(CALIBRATION_INPUT).digest()[0];
  for (let i = 0; i < 1_000_000; i++) sink = (sink * 31 + i) | 0;
  return performance.now() - start + (sink === 0.5 ? 1 : 0);
}

/**
 * How fast this server's core is right now: the best of three runs of the fixed work, ms. Taken
 * between loads: when the machine slows down (another tenant on the host), it takes longer, and
 * the report flags the ratios measured meanwhile.
 */
function calibrate() {
  return Math.min(fixedWork(), fixedWork(), fixedWork());
}
// Compiled before the first measurement, so that every calibration runs the same machine code.
for (let i = 0; i < 20; i++) fixedWork();

process.once('message', async (message) => {
  if (message?.type !== 'start') return;
  try {
    running = await buildServer(message, respond);
    process.on('message', (next) => {
      if (next?.type === 'stop') stop(0);
      else if (next?.type === 'usage') process.send({ type: 'usage', id: next.id, ...usage(next.gc) });
      else if (next?.type === 'calibrate') process.send({ type: 'calibrate', id: next.id, ms: calibrate() });
    });
    process.send({ type: 'ready', port: running.port, pid: process.pid });
  } catch (error) {
    process.send?.({ type: 'error', message: String(error?.stack ?? error) });
    stop(1);
  }
});
