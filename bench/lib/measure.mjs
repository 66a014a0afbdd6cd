// Measuring one group: start its servers, check every row (sanity), warm every row up, then
// alternating rounds (the order rotates each round), then each server's memory after a GC. The
// servers are stopped whatever happens.
import { serverUsage, startServer, stopChild } from './children.mjs';
import { runLoad } from './load.mjs';
import { pinSelf } from './pinning.mjs';
import { checkRow } from './sanity.mjs';

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const spread = (values) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values) });

/**
 * How much the machine's speed varied over these runs: the slowest calibration over the fastest,
 * minus 1 (0.25: the fixed work took 25% longer at the slowest). Ratios measured while it varied
 * by more than UNSTEADY_SPEED are flagged in the report.
 */
function speedVariation(runs) {
  const times = runs.map((r) => r.calibrationMs);
  return Math.max(...times) / Math.min(...times) - 1;
}

/** Runs `fn` with this process allowed on every core (proof generation between rounds), then re-pins. */
async function unpinned(ctx, fn) {
  if (!ctx.pinning) return fn();
  pinSelf(ctx.pinning, `${ctx.pinning.loadgen},${ctx.pinning.server}`);
  try {
    return await fn();
  } finally {
    pinSelf(ctx.pinning, ctx.pinning.loadgen);
  }
}

export async function startGroupServers(group, ctx, { only, profileDir } = {}) {
  const started = {};
  const serverTls = { cert: ctx.fx.pki.server.cert, key: ctx.fx.pki.server.key };
  for (const [key, spec] of Object.entries(group.servers)) {
    if (only && !only.has(key)) continue;
    started[key] = await startServer(
      `${group.name}/${key}`,
      { ...spec, tls: serverTls },
      {
        pinning: ctx.pinning,
        profileDir,
      },
    );
  }
  return started;
}

/** Warm-up of one row: timed, then (rotation) until every token of the row was sent once. */
export async function warmUp(row, target, seconds, ctx) {
  const { connections } = ctx.config;
  let rps;
  if (seconds > 0) rps = (await runLoad(target, row.load(), { seconds, connections })).rps;
  if (row.minWarmupRequests && row.feed.sent < row.minWarmupRequests) {
    await runLoad(target, row.load(), { amount: row.minWarmupRequests - row.feed.sent, connections });
  }
  return rps;
}

export async function runGroup(group, ctx) {
  const { config, log } = ctx;
  const started = await startGroupServers(group, ctx);
  try {
    const targetOf = (row) => started[row.server];
    const sanity = {};
    for (const row of group.rows) sanity[row.name] = await checkRow(row, targetOf(row), ctx.fx.pki.ca.cert);

    const rates = {};
    if (group.beforePhase) await unpinned(ctx, () => group.beforePhase(group.warmupSeconds, rates));
    for (const row of group.rows) {
      log(`  ${group.name}: warm-up ${row.name}`);
      rates[row.name] = await warmUp(row, targetOf(row), group.warmupSeconds, ctx);
    }

    const runs = Object.fromEntries(group.rows.map((row) => [row.name, []]));
    for (let round = 0; round < group.rounds; round++) {
      if (group.beforePhase) {
        const made = await unpinned(ctx, () => group.beforePhase(group.seconds, rates));
        log(`  ${group.name}: ${made.toLocaleString('en-US')} fresh DPoP proofs for round ${round + 1}`);
      }
      const order = group.rows.map((_, i) => group.rows[(i + round) % group.rows.length]);
      for (const row of order) {
        log(`  ${group.name}: round ${round + 1}/${group.rounds} ${row.name}`);
        const run = await runLoad(targetOf(row), row.load(), {
          seconds: group.seconds,
          connections: config.connections,
        });
        runs[row.name].push(run);
        rates[row.name] = run.rps;
      }
    }

    const memory = {};
    for (const [key, server] of Object.entries(started)) {
      memory[key] = (await serverUsage(server.child, { gc: true })).memory;
    }
    return summarize(group, runs, sanity, memory);
  } finally {
    await Promise.all(Object.values(started).map((server) => stopChild(server.child)));
  }
}

function summarize(group, runs, sanity, memory) {
  const rows = group.rows.map((row) => {
    const rounds = runs[row.name];
    const latencies = Float64Array.from(rounds.flatMap((r) => r.latencies)).sort();
    const at = (p) =>
      latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(p * latencies.length) - 1))];
    const last = rounds[rounds.length - 1];
    return {
      group: group.name,
      name: row.name,
      what: row.what,
      server: row.server,
      sanity: sanity[row.name],
      rps: spread(rounds.map((r) => r.rps)),
      serverCpuUsPerRequest: spread(rounds.map((r) => r.serverCpuUsPerRequest)),
      latencyMs: { p50: at(0.5), p99: at(0.99) },
      serverElu: median(rounds.map((r) => r.serverElu)),
      calibrationMs: spread(rounds.map((r) => r.calibrationMs)),
      otherCoresMax: Math.max(...rounds.map((r) => r.otherCores ?? 0)),
      stoppedEarly: rounds.some((r) => r.stoppedEarly),
      // RSS at the end of the last round; heap used after a GC once all rounds are done.
      memory: { rssBytes: last.memory.rss, heapUsedAfterGcBytes: memory[row.server].heapUsed },
      rounds: rounds.map(({ latencies: _omit, ...round }) => round),
    };
  });
  const byName = Object.fromEntries(rows.map((row) => [row.name, row]));
  const ratios = group.ratios
    .filter((r) => byName[r.of] && byName[r.vs])
    .map((r) => {
      const a = byName[r.of].rounds;
      const b = byName[r.vs].rounds;
      return {
        ...r,
        group: group.name,
        rps: spread(a.map((round, i) => round.rps / b[i].rps)),
        serverCpuUsDiff: spread(
          a.map((round, i) => round.serverCpuUsPerRequest - b[i].serverCpuUsPerRequest),
        ),
        machineSpeedVariation: speedVariation([...a, ...b]),
      };
    });
  return { name: group.name, title: group.title, rows, ratios };
}
