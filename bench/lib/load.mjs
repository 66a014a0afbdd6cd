// Load generation: autocannon in this process over keep-alive TLS connections, pipelining 1, with
// the server's own CPU time, event-loop utilization and memory read over IPC around every run.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { onInterrupt, serverCalibration, serverUsage } from './children.mjs';

let currentLoad;
onInterrupt(() => currentLoad?.stop());

/** Busy and steal time of the whole machine from /proc/stat, µs (Linux; undefined elsewhere). */
function machineCpu() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const tick = 1e6 / 100; // USER_HZ is 100 on Linux
    return { busyUs: (user + nice + system + irq + softirq + steal) * tick, stealUs: steal * tick };
  } catch {
    return undefined;
  }
}

/** Values sent round-robin, one per request, forever (the rotation curve, the new-token row). */
export function cyclingFeed(values, toHeaders) {
  let sent = 0;
  return {
    next() {
      return toHeaders(values[sent++ % values.length]);
    },
    get sent() {
      return sent;
    },
    low: () => false,
  };
}

/**
 * Values each sent at most once (DPoP proofs). `low()` turns true when fewer than `reserve`
 * remain: the load then stops, and the requests already being built still get unused values.
 */
export function oneShotFeed(values, toHeaders, reserve) {
  let cursor = 0;
  return {
    next() {
      // Past the end (should not happen: the reserve covers the requests in flight) the last value
      // is repeated, which a replay-checking server refuses: the run then fails loudly.
      const value = values[Math.min(cursor, values.length - 1)];
      cursor++;
      return toHeaders(value);
    },
    get sent() {
      return cursor;
    },
    low: () => values.length - cursor <= reserve,
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/**
 * One autocannon run against `target` ({ port, child }) with `load` ({ certificate, headers,
 * feed }): for `seconds`, or `amount` requests. Every response must be a 200. Latencies come from
 * autocannon's per-response `responseTime` (float ms), not its integer-millisecond histogram.
 */
export async function runLoad(target, load, { seconds, amount, connections }) {
  const latencies = [];
  const statuses = new Map();
  const calibrationBefore = await serverCalibration(target.child);
  const serverBefore = await serverUsage(target.child);
  const selfBefore = process.cpuUsage();
  const machineBefore = machineCpu();
  const wallBefore = performance.now();
  let instance;
  let stoppedEarly = false;
  const feed = load.feed;
  const options = {
    url: `https://localhost:${target.port}/`,
    connections,
    pipelining: 1,
    servername: 'localhost',
    sampleInt: 200, // a stop() takes effect at the next sample
    headers: load.headers ?? {},
    // autocannon passes these to tls.connect (it forces rejectUnauthorized: false itself).
    tlsOptions: load.certificate ? { cert: load.certificate.cert, key: load.certificate.key } : {},
    ...(amount ? { amount } : { duration: seconds }),
  };
  if (feed) {
    options.requests = [
      {
        setupRequest: (request) => {
          const headers = { ...request.headers, ...feed.next() };
          if (!stoppedEarly && feed.low()) {
            stoppedEarly = true;
            setImmediate(() => instance?.stop());
          }
          return { ...request, headers };
        },
      },
    ];
  }
  instance = autocannon(options);
  currentLoad = instance;
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    latencies.push(responseTime);
    statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
  });
  const guard = setTimeout(() => instance.stop(), ((seconds ?? 60) + 60) * 1000);
  let result;
  try {
    result = await instance;
  } finally {
    clearTimeout(guard);
    currentLoad = undefined;
  }
  const wallUs = (performance.now() - wallBefore) * 1000;
  const machineAfter = machineCpu();
  const self = process.cpuUsage(selfBefore);
  const serverAfter = await serverUsage(target.child);
  const calibrationAfter = await serverCalibration(target.child);
  const serverCpuUs = serverAfter.cpuUs - serverBefore.cpuUs;
  const active = serverAfter.elu.active - serverBefore.elu.active;
  const idle = serverAfter.elu.idle - serverBefore.elu.idle;
  const loadgenCpuUs = self.user + self.system;

  const ok = statuses.get(200) ?? 0;
  const bad = [...statuses].filter(([code]) => code !== 200);
  if (result.errors > 0 || result.timeouts > 0 || bad.length > 0 || ok === 0) {
    throw new Error(
      `load against ${options.url} was not clean: ${ok} × 200, other statuses ${JSON.stringify(Object.fromEntries(bad))}, ` +
        `${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: ok,
    seconds: result.duration,
    rps: ok / result.duration,
    stoppedEarly,
    latencies,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    serverCpuUs,
    serverCpuUsPerRequest: serverCpuUs / ok,
    serverElu: active / (active + idle),
    loadgenCpuUsPerRequest: loadgenCpuUs / ok,
    // The server core's speed around this run: the calibration's ms, before and after (lower is faster).
    calibrationMs: (calibrationBefore + calibrationAfter) / 2,
    memory: serverAfter.memory,
    // CPU used meanwhile by anything else on the machine, in cores (tick-based, approximate).
    otherCores:
      machineBefore && machineAfter
        ? Math.max(0, machineAfter.busyUs - machineBefore.busyUs - serverCpuUs - loadgenCpuUs) / wallUs
        : undefined,
  };
}

export { percentile };
