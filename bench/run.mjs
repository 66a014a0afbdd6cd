#!/usr/bin/env node
// certbound benchmark: one run, one machine, ratios against a bare server and a peer library.
// Run from the repository root with `pnpm bench` (builds the packages first). See bench/README.md.
//
// Environment (all optional):
//   BENCH_SECONDS          measured seconds per variant, split over the rounds   (default 10)
//   BENCH_ROUNDS           interleaved rounds                                    (default 3)
//   BENCH_WARMUP_SECONDS   unrecorded warm-up per variant before round 1          (default 3)
//   BENCH_CONNECTIONS      keep-alive mTLS connections of the load generator      (default 10)
//   BENCH_MICRO_SECONDS    measured seconds per micro-benchmark case              (default 2)
//   BENCH_RS256            0 to skip the RS256 rows                               (default 1)
//   BENCH_CPU_PROF         1 (= certbound), all, or a comma list of servers (bare,certbound,peer,peer-jwks)
//                          to run with --cpu-prof; profiles go to bench/results/profiles/<server>.cpuprofile
import { fork } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createVerifier } from '@certbound/core';
import { createTestIssuer, createTestPki, httpsRequest } from '@certbound/testing';
import autocannon from 'autocannon';

const SERVER_SCRIPT = fileURLToPath(new URL('./server.mjs', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const PROFILE_DIR = fileURLToPath(new URL('./results/profiles/', import.meta.url));

function numberEnv(name, fallback, { min, max, integer = false }) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${raw}`);
  }
  return value;
}

const config = {
  seconds: numberEnv('BENCH_SECONDS', 10, { min: 1, max: 600 }),
  rounds: numberEnv('BENCH_ROUNDS', 3, { min: 1, max: 20, integer: true }),
  warmupSeconds: numberEnv('BENCH_WARMUP_SECONDS', 3, { min: 0, max: 60 }),
  connections: numberEnv('BENCH_CONNECTIONS', 10, { min: 1, max: 256, integer: true }),
  microSeconds: numberEnv('BENCH_MICRO_SECONDS', 2, { min: 0.2, max: 60 }),
  rs256: process.env.BENCH_RS256 !== '0',
  cpuProf: (() => {
    const raw = process.env.BENCH_CPU_PROF ?? '';
    if (raw === '' || raw === '0') return [];
    if (raw === '1') return ['certbound'];
    if (raw === 'all') return ['bare', 'certbound', 'peer', 'peer-jwks'];
    return raw.split(',').map((s) => s.trim());
  })(),
};
const perRoundSeconds = Math.max(1, Math.round((config.seconds / config.rounds) * 10) / 10);

// ---------------------------------------------------------------------------------------------
// Child processes: every server runs in its own process; all are stopped on any exit path.

const children = new Set();
let currentLoad;
let cleaningUp;

function startServer(kind, startMessage, { cpuProf = false } = {}) {
  const execArgv = cpuProf
    ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${kind}.cpuprofile`]
    : [];
  const child = fork(SERVER_SCRIPT, [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start within 20 s`)), 20_000);
    child.on('message', (message) => {
      if (message?.type === 'ready') {
        clearTimeout(timer);
        resolve({ kind, child, pid: message.pid, url: `https://localhost:${message.port}/` });
      } else if (message?.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`${kind} server failed: ${message.message}`));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${kind} server exited (${code ?? signal})`));
    });
    child.send({ type: 'start', kind, ...startMessage });
  });
}

async function stopChild(child) {
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

function stopAllChildren() {
  cleaningUp ??= Promise.all([...children].map((child) => stopChild(child)));
  return cleaningUp;
}

let usageSeq = 0;
/** CPU time (µs, all threads) and event-loop utilization of a server child, via IPC. */
function serverUsage(child) {
  const id = ++usageSeq;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not report its usage')), 5000);
    const onMessage = (message) => {
      if (message?.type !== 'usage' || message.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve({ cpuUs: message.cpu.user + message.cpu.system, elu: message.elu, served: message.served });
    };
    child.on('message', onMessage);
    child.send({ type: 'usage', id });
  });
}

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
    currentLoad?.stop();
    await stopAllChildren();
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------
// Load generation: autocannon over keep-alive TLS connections presenting the client certificate.

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/**
 * One autocannon run. Latencies come from autocannon's per-response `responseTime` (float ms,
 * process.hrtime based) rather than its integer-millisecond histogram.
 */
async function runLoad({ url, token, child }, seconds, tls) {
  const latencies = [];
  const serverBefore = await serverUsage(child);
  const selfBefore = process.cpuUsage();
  const machineBefore = machineCpu();
  const wallBefore = performance.now();
  const statuses = new Map();
  const instance = autocannon({
    url,
    connections: config.connections,
    pipelining: 1,
    duration: seconds,
    servername: 'localhost',
    headers: { authorization: `Bearer ${token}` },
    // autocannon passes these to tls.connect (it forces rejectUnauthorized: false itself).
    tlsOptions: { cert: tls.cert, key: tls.key, ca: tls.ca },
  });
  currentLoad = instance;
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    latencies.push(responseTime);
    statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1);
  });
  const guard = setTimeout(() => instance.stop(), (seconds + 30) * 1000);
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
  const serverAfter = await serverUsage(child);
  const serverCpuUs = serverAfter.cpuUs - serverBefore.cpuUs;
  const activeDelta = serverAfter.elu.active - serverBefore.elu.active;
  const idleDelta = serverAfter.elu.idle - serverBefore.elu.idle;
  const loadgenCpuUs = self.user + self.system;
  const usage = {
    serverCpuUs,
    serverElu: activeDelta / (activeDelta + idleDelta),
    loadgenCpuUs,
    // CPU used on the machine by anything else (other processes, the kernel's share not charged to
    // us), in cores; a noise indicator. Approximate (tick-based).
    otherCores:
      machineBefore && machineAfter
        ? Math.max(0, machineAfter.busyUs - machineBefore.busyUs - serverCpuUs - loadgenCpuUs) / wallUs
        : undefined,
    stealCores:
      machineBefore && machineAfter ? (machineAfter.stealUs - machineBefore.stealUs) / wallUs : undefined,
  };
  const ok = statuses.get(200) ?? 0;
  const bad = [...statuses].filter(([code]) => code !== 200);
  if (result.errors > 0 || result.timeouts > 0 || bad.length > 0 || ok === 0) {
    throw new Error(
      `load against ${url} was not clean: ${ok} × 200, other statuses ${JSON.stringify(Object.fromEntries(bad))}, ` +
        `${result.errors} errors, ${result.timeouts} timeouts`,
    );
  }
  return { requests: ok, seconds: result.duration, latencies, usage };
}

// ---------------------------------------------------------------------------------------------
// Micro-benchmark: verifier.verify in process, sequential awaits.

async function micro(name, fn) {
  const batch = 32;
  const warmEnd = performance.now() + Math.min(500, config.microSeconds * 250);
  while (performance.now() < warmEnd) for (let i = 0; i < batch; i++) await fn();
  let ops = 0;
  const start = performance.now();
  const end = start + config.microSeconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < batch; i++) await fn();
    ops += batch;
  }
  const seconds = (performance.now() - start) / 1000;
  return { name, ops, seconds, opsPerSec: ops / seconds, microsPerOp: (seconds * 1e6) / ops };
}

// ---------------------------------------------------------------------------------------------
// Formatting.

const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtMs = (n) => n.toFixed(2);
const fmtRatio = (n) => n.toFixed(2);
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

async function main() {
  const started = new Date();
  const cpus = os.cpus();
  const env = {
    node: process.version,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavgAtStart: os.loadavg().map((n) => Number(n.toFixed(2))),
  };

  // 1. PKI, issuer, client certificate, tokens.
  const pki = await createTestPki();
  const issuer = await createTestIssuer({ pki, algorithms: ['ES256', 'RS256'] });
  const verifiers = [];
  try {
    const client = await pki.issueClient({ subject: 'CN=bench-client' });
    const otherClient = await pki.issueClient({ subject: 'CN=bench-other-client' });
    const scope = 'bench:read';
    const expiresIn = 3600; // outlives the whole run
    const tokens = {
      ES256: await issuer.mintAccessToken({ certificate: client, scope, alg: 'ES256', expiresIn }),
      RS256: await issuer.mintAccessToken({ certificate: client, scope, alg: 'RS256', expiresIn }),
    };
    const tls = { cert: client.cert, key: client.key, ca: pki.ca.cert };

    // 2. Servers, each in its own process.
    const startMessage = {
      tls: { cert: pki.server.cert, key: pki.server.key },
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
      ca: issuer.ca,
    };
    const kinds = ['bare', 'certbound', 'peer', ...(config.rs256 ? ['peer-jwks'] : [])];
    const servers = {};
    for (const kind of kinds) {
      servers[kind] = await startServer(kind, startMessage, {
        cpuProf: config.cpuProf.includes(kind),
      });
    }

    const variants = [
      { name: 'bare', server: 'bare', alg: 'ES256', note: 'Express, no auth (token sent, ignored)' },
      { name: 'certbound', server: 'certbound', alg: 'ES256', note: 'certbound({ issuer, audience, tls })' },
      {
        name: 'peer',
        server: 'peer',
        alg: 'ES256',
        note: 'express-oauth2-jwt-bearer auth({ issuerBaseURL }) - binding NOT checked',
      },
      ...(config.rs256
        ? [
            {
              name: 'certbound-rs256',
              server: 'certbound',
              alg: 'RS256',
              note: 'same certbound server, RS256 token',
            },
            {
              name: 'peer-rs256',
              server: 'peer-jwks',
              alg: 'RS256',
              note: 'auth({ issuer, jwksUri }) - binding NOT checked',
            },
          ]
        : []),
    ].map((v) => ({
      ...v,
      url: servers[v.server].url,
      child: servers[v.server].child,
      token: tokens[v.alg],
    }));

    // Sanity: every variant answers 200 with the certificate; show what each does without it.
    const sanity = {};
    const call = (url, token, certificate) =>
      httpsRequest(url, { ca: pki.ca.cert, certificate, headers: { authorization: `Bearer ${token}` } });
    for (const v of variants) {
      const withCert = await call(v.url, v.token, client);
      if (withCert.status !== 200) {
        throw new Error(
          `${v.name}: expected 200 with the bound certificate, got ${withCert.status} ${withCert.body}`,
        );
      }
      sanity[v.name] = {
        boundCertificate: withCert.status,
        noCertificate: (await call(v.url, v.token, undefined)).status,
        otherCertificate: (await call(v.url, v.token, otherClient)).status,
      };
    }
    const peerRs256ViaDiscovery = (await call(servers.peer.url, tokens.RS256, client)).status;
    if (sanity.certbound.noCertificate === 200 || sanity.certbound.otherCertificate === 200) {
      throw new Error('certbound accepted the bound token without its certificate: refusing to benchmark');
    }

    // 3. Warm-up, then interleaved measured rounds.
    const totalPlanned = variants.length * (config.warmupSeconds + config.rounds * perRoundSeconds);
    console.error(
      `certbound bench: ${variants.length} variants, warm-up ${config.warmupSeconds} s + ${config.rounds} × ${perRoundSeconds} s each, ` +
        `${config.connections} connections (about ${Math.ceil(totalPlanned + config.microSeconds * 6)} s)…`,
    );
    if (config.warmupSeconds > 0) {
      for (const v of variants) {
        console.error(`  warm-up ${v.name}`);
        await runLoad(v, config.warmupSeconds, tls);
      }
    }
    const measured = Object.fromEntries(variants.map((v) => [v.name, { rounds: [], latencies: [] }]));
    for (let round = 0; round < config.rounds; round++) {
      // Rotate the order each round so no variant always runs first or last.
      const order = variants.map((_, i) => variants[(i + round) % variants.length]);
      for (const v of order) {
        console.error(`  round ${round + 1}/${config.rounds} ${v.name}`);
        const run = await runLoad(v, perRoundSeconds, tls);
        const m = measured[v.name];
        m.rounds.push({
          round: round + 1,
          requests: run.requests,
          seconds: run.seconds,
          rps: run.requests / run.seconds,
          ...run.usage,
        });
        for (const ms of run.latencies) m.latencies.push(ms);
      }
    }

    const results = {};
    for (const v of variants) {
      const m = measured[v.name];
      const requests = m.rounds.reduce((a, r) => a + r.requests, 0);
      const seconds = m.rounds.reduce((a, r) => a + r.seconds, 0);
      const sorted = Float64Array.from(m.latencies).sort();
      const rpsRounds = m.rounds.map((r) => r.rps);
      const mean = requests / seconds;
      const sum = (key) => m.rounds.reduce((a, r) => a + (r[key] ?? 0), 0);
      const avg = (key) =>
        m.rounds.every((r) => r[key] !== undefined) ? sum(key) / m.rounds.length : undefined;
      results[v.name] = {
        server: v.server,
        alg: v.alg,
        note: v.note,
        requests,
        seconds,
        rps: mean,
        rpsMin: Math.min(...rpsRounds),
        rpsMax: Math.max(...rpsRounds),
        spreadPct: ((Math.max(...rpsRounds) - Math.min(...rpsRounds)) / 2 / mean) * 100,
        latencyMs: {
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
          max: sorted[sorted.length - 1],
        },
        serverCpuUsPerRequest: sum('serverCpuUs') / requests,
        loadgenCpuUsPerRequest: sum('loadgenCpuUs') / requests,
        serverElu: avg('serverElu'),
        otherCores: avg('otherCores'),
        stealCores: avg('stealCores'),
        rounds: m.rounds,
      };
    }

    // Ratios over the whole run, and their range over the paired (same-round) measurements.
    const ratio = (a, b) => {
      if (!results[a] || !results[b]) return undefined;
      const perRound = results[a].rounds.map((r, i) => r.rps / results[b].rounds[i].rps);
      return {
        of: `${a}/${b}`,
        rps: results[a].rps / results[b].rps,
        rpsRoundMin: Math.min(...perRound),
        rpsRoundMax: Math.max(...perRound),
        p50: results[a].latencyMs.p50 / results[b].latencyMs.p50,
        p99: results[a].latencyMs.p99 / results[b].latencyMs.p99,
        serverCpuPerRequest: results[a].serverCpuUsPerRequest / results[b].serverCpuUsPerRequest,
        serverCpuUsPerRequestDiff: results[a].serverCpuUsPerRequest - results[b].serverCpuUsPerRequest,
      };
    };
    const ratios = [
      ratio('certbound', 'bare'),
      ratio('certbound', 'peer'),
      ratio('peer', 'bare'),
      ratio('certbound-rs256', 'bare'),
      ratio('certbound-rs256', 'peer-rs256'),
    ].filter(Boolean);

    // Requests each server answered 200 over its life (warm-up and sanity checks included): the
    // denominator for per-request numbers from a CPU profile.
    const served = {};
    for (const [kind, s] of Object.entries(servers))
      served[kind] = { pid: s.pid, ...(await serverUsage(s.child)) };

    // 4. Micro-benchmark (servers are idle now; stop them first so they cannot interfere).
    await stopAllChildren();
    const microOptions = { issuer: issuer.issuer, audience: issuer.audience, tls: { ca: issuer.ca } };
    const cached = createVerifier(microOptions);
    const uncached = createVerifier({ ...microOptions, tokenCache: false });
    verifiers.push(cached, uncached);
    const x509 = new X509Certificate(client.der);
    const authorization = {
      ES256: `Bearer ${tokens.ES256}`,
      RS256: `Bearer ${tokens.RS256}`,
    };
    // A request as certificateFromTls sees it: same socket object and Finished message every time,
    // so the per-connection thumbprint memo applies (what the server's hot path does).
    const finished = Buffer.alloc(12, 7);
    const socket = { getPeerX509Certificate: () => x509, getFinished: () => finished };
    const fakeRequest = { url: '/', rawHeaders: ['Authorization', authorization.ES256], socket };
    for (const v of [cached, uncached]) {
      await v.verify({ authorization: authorization.ES256, certificate: x509 }); // discovery + JWKS
      await v.verify({ authorization: authorization.RS256, certificate: x509 });
    }
    console.error('  micro-benchmarks');
    const microResults = [
      await micro('authenticate(req), token cache warm, per-connection cert memo (ES256)', () =>
        cached.authenticate(fakeRequest),
      ),
      await micro('verify, token cache warm, X509Certificate (ES256)', () =>
        cached.verify({ authorization: authorization.ES256, certificate: x509 }),
      ),
      await micro('verify, token cache warm, DER Buffer (ES256)', () =>
        cached.verify({ authorization: authorization.ES256, certificate: client.der }),
      ),
      await micro('verify, tokenCache: false, X509Certificate (ES256)', () =>
        uncached.verify({ authorization: authorization.ES256, certificate: x509 }),
      ),
      ...(config.rs256
        ? [
            await micro('verify, token cache warm, X509Certificate (RS256)', () =>
              cached.verify({ authorization: authorization.RS256, certificate: x509 }),
            ),
            await micro('verify, tokenCache: false, X509Certificate (RS256)', () =>
              uncached.verify({ authorization: authorization.RS256, certificate: x509 }),
            ),
          ]
        : []),
    ];
    const microByName = Object.fromEntries(microResults.map((m) => [m.name, m]));
    const memoSpeedup = {
      ES256:
        microByName['verify, token cache warm, X509Certificate (ES256)'].opsPerSec /
        microByName['verify, tokenCache: false, X509Certificate (ES256)'].opsPerSec,
      ...(config.rs256
        ? {
            RS256:
              microByName['verify, token cache warm, X509Certificate (RS256)'].opsPerSec /
              microByName['verify, tokenCache: false, X509Certificate (RS256)'].opsPerSec,
          }
        : {}),
    };

    // 5. Report.
    const lines = [];
    lines.push(
      `certbound bench  ${started.toISOString()}  node ${env.node}  ${env.platform}`,
      `machine: ${env.cpus} CPU (${env.cpuModel}), ${env.memoryGiB} GiB; load avg at start ${env.loadavgAtStart.join(' ')}`,
      `load: autocannon, ${config.connections} keep-alive mTLS connections presenting the client certificate, pipelining 1, ` +
        `server and load generator in separate processes on 127.0.0.1`,
      `per variant: warm-up ${config.warmupSeconds} s, then ${config.rounds} interleaved rounds × ${perRoundSeconds} s measured`,
      `token: certificate-bound (cnf.x5t#S256), typ at+jwt. Main comparison uses ES256: the only alg both accept with ` +
        `issuerBaseURL discovery (the peer restricts algs to the discovered id_token_signing_alg_values_supported = ["ES256"]; ` +
        `RS256 token against it -> ${peerRs256ViaDiscovery}).` +
        (config.rs256 ? ' RS256 rows: peer configured with issuer + jwksUri instead.' : ''),
      '',
      `${pad('variant', 17)}${lpad('req/s', 8)}${lpad('±spread', 9)}${lpad('p50 ms', 8)}${lpad('p99 ms', 8)}` +
        `${lpad('srv CPU µs/req', 16)}${lpad('srv ELU', 9)}${lpad('other load', 12)}${lpad('no cert', 9)}${lpad('other cert', 12)}`,
    );
    const fmtCores = (n) => (n === undefined ? 'n/a' : `${n.toFixed(2)} core`);
    for (const v of variants) {
      const r = results[v.name];
      const s = sanity[v.name];
      lines.push(
        `${pad(v.name, 17)}${lpad(fmtInt(r.rps), 8)}${lpad(`${r.spreadPct.toFixed(1)}%`, 9)}` +
          `${lpad(fmtMs(r.latencyMs.p50), 8)}${lpad(fmtMs(r.latencyMs.p99), 8)}` +
          `${lpad(r.serverCpuUsPerRequest.toFixed(1), 16)}${lpad(`${Math.round(r.serverElu * 100)}%`, 9)}` +
          `${lpad(fmtCores(r.otherCores), 12)}${lpad(s.noCertificate, 9)}${lpad(s.otherCertificate, 12)}`,
      );
    }
    lines.push('');
    for (const v of variants) lines.push(`  ${pad(v.name, 17)}${v.note}`);
    lines.push(
      '',
      'req/s over all rounds; ±spread = half the range of per-round req/s relative to the mean; p50/p99 over every',
      'measured response; srv CPU µs/req = server process CPU time (all threads) / requests; srv ELU = its event-loop',
      'utilization (≈100%: the server is the bottleneck); other load = CPU used meanwhile by anything but the server',
      'and the load generator (noise). "no cert" / "other cert": status for the same bound token sent without a',
      'client certificate / with another client certificate: certbound rejects both (401, RFC 8705 binding); the',
      'peer library accepts both (200): it validates the same JWT but ignores cnf.',
      '',
      `${pad('ratio', 28)}${lpad('req/s', 7)}${lpad('(rounds)', 12)}${lpad('p50', 7)}${lpad('p99', 7)}` +
        `${lpad('srv CPU/req', 13)}${lpad('Δ CPU µs/req', 14)}`,
    );
    for (const r of ratios) {
      const diff = r.serverCpuUsPerRequestDiff;
      lines.push(
        `${pad(r.of, 28)}${lpad(fmtRatio(r.rps), 7)}${lpad(`${fmtRatio(r.rpsRoundMin)}–${fmtRatio(r.rpsRoundMax)}`, 12)}` +
          `${lpad(fmtRatio(r.p50), 7)}${lpad(fmtRatio(r.p99), 7)}` +
          `${lpad(fmtRatio(r.serverCpuPerRequest), 13)}${lpad(`${diff >= 0 ? '+' : ''}${diff.toFixed(1)}`, 14)}`,
      );
    }
    const noisiest = Math.max(
      ...Object.values(results).flatMap((r) => r.rounds.map((round) => round.otherCores ?? 0)),
    );
    if (noisiest > 0.15) {
      lines.push(
        `WARNING: other processes used up to ${noisiest.toFixed(2)} core during some rounds (see "other load"): ` +
          'req/s and latency ratios are noisy; srv CPU/req and Δ CPU µs/req are the more robust numbers. Rerun on a quiet machine.',
      );
    }
    lines.push(
      'req/s ratio > 1: the first is faster. p50, p99 and CPU/req ratios > 1: the first is slower / costlier.',
      '(rounds) = range of the same-round req/s ratios. Δ CPU µs/req = server CPU per request, first minus second.',
      '',
      `micro-benchmark (in process, sequential await, ${config.microSeconds} s each)`,
      `${pad('case', 72)}${lpad('ops/s', 10)}${lpad('µs/op', 9)}`,
    );
    for (const m of microResults) {
      lines.push(`${pad(m.name, 72)}${lpad(fmtInt(m.opsPerSec), 10)}${lpad(m.microsPerOp.toFixed(1), 9)}`);
    }
    lines.push(
      `token memo effect (cache warm / tokenCache: false): ${Object.entries(memoSpeedup)
        .map(([alg, x]) => `${alg} ×${x.toFixed(1)}`)
        .join(', ')}`,
    );
    console.log(lines.join('\n'));

    const json = {
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      command: process.argv.slice(1).join(' '),
      environment: env,
      config: { ...config, perRoundSeconds },
      algorithm: {
        main: 'ES256',
        peerRs256ViaDiscoveryStatus: peerRs256ViaDiscovery,
        reason:
          'express-oauth2-jwt-bearer with issuerBaseURL only allows the discovered id_token_signing_alg_values_supported (["ES256"] from the test issuer)',
      },
      sanity,
      results,
      ratios,
      micro: { results: microResults, memoSpeedup },
      servers: served,
      cpuProfiles: config.cpuProf.map((kind) => `${PROFILE_DIR}${kind}.cpuprofile`),
    };
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(new URL('./results/latest.json', import.meta.url), `${JSON.stringify(json, null, 2)}\n`);
    console.error(`\nresults: ${fileURLToPath(new URL('./results/latest.json', import.meta.url))}`);
    for (const kind of config.cpuProf) {
      console.error(
        `cpu profile: node bench/profile-summary.mjs ${PROFILE_DIR}${kind}.cpuprofile --requests ${served[kind]?.served}`,
      );
    }
  } finally {
    await stopAllChildren();
    await Promise.allSettled(verifiers.map((v) => v.close()));
    await issuer.close();
  }
}

main().then(
  () => process.exit(0),
  async (error) => {
    console.error(error?.stack ?? error);
    currentLoad?.stop();
    await stopAllChildren();
    process.exit(1);
  },
);
