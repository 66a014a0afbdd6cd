// The report: a Markdown document (stdout and bench/results/latest.md) and the same data as JSON
// (bench/results/latest.json).
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The machine, as the run describes it: cores, CPU model (from /proc/cpuinfo), Node version. */
export function describeMachine() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => /^model name\s*:/.test(l));
    if (line) cpuModel = line.split(':')[1].trim();
  } catch {
    // not Linux
  }
  return {
    node: process.version,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadavgAtStart: os.loadavg().map((n) => Number(n.toFixed(2))),
  };
}

const int = (n) => Math.round(n).toLocaleString('en-US');
const fixed = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const mib = (bytes) => (bytes / 2 ** 20).toFixed(0);
const range = (s, fmt) => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
const signed = (n) => `${n >= 0 ? '+' : ''}${fixed(n)}`;

function sanityText(results) {
  return results
    .map((r, i) => {
      const text = i === 0 ? `${r.status}` : `${r.label}: ${r.status}`;
      return r.expect === 'any' && r.status === 200 ? `${text} (!)` : text;
    })
    .join(', ');
}

/** The new-token target: server CPU beyond a memo hit, minus one signature verification. */
export function newTokenVerdict(ratio, micro) {
  const signature = micro?.find((m) => m.name.startsWith('ES256 signature verification, WebCrypto'));
  if (!ratio || !signature) return undefined;
  const overheadUs = ratio.serverCpuUsDiff.median - signature.cpuUsPerOp;
  return {
    extraCpuUs: ratio.serverCpuUsDiff.median,
    signatureCpuUs: signature.cpuUsPerOp,
    overheadUs,
    met: overheadUs <= 20,
  };
}

/** Machine speed variation (see measure.mjs `speedVariation`) above which a ratio is flagged unsteady. */
export const UNSTEADY_SPEED = 0.1;

function ratioTarget(ratio, micro) {
  if (ratio.newToken) {
    const v = newTokenVerdict(ratio, micro);
    if (!v) return { target: 'one signature verification + ≤ 20 µs', met: '' };
    return {
      target: `one signature verification (${fixed(v.signatureCpuUs)} µs CPU) + ≤ 20 µs: overhead ${signed(v.overheadUs)} µs`,
      met: v.met ? 'yes' : 'NO',
    };
  }
  if (ratio.min === undefined) return { target: ratio.note ?? '', met: '' };
  return {
    target: `≥ ${ratio.min.toFixed(2)}×${ratio.note ? ` (${ratio.note})` : ''}`,
    met: ratio.rps.median >= ratio.min ? 'yes' : 'NO',
  };
}

export function renderMarkdown(report) {
  const { machine, settings, groups, micro } = report;
  const lines = [
    `# certbound bench, ${report.startedAt}`,
    '',
    `- machine: ${machine.cpus} CPU (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}; load average at start ${machine.loadavgAtStart.join(' ')}`,
    `- pinning: ${settings.pinning ? `servers on CPU ${settings.pinning.server}, load generator on CPU ${settings.pinning.loadgen} (taskset)` : `none (${settings.unpinnedReason})`}`,
    `- load: autocannon in the parent process, ${settings.connections} keep-alive TLS connections, pipelining 1; per row a ${settings.warmupSeconds} s warm-up, then ${settings.rounds} rounds × ${settings.seconds} s (rotation group: ${settings.rotationRounds} × ${settings.rotationSeconds} s), the row order rotating each round`,
    `- total time: ${report.totalSeconds.toFixed(0)} s`,
    '',
    '## Rows',
    '',
    '| row | req/s median (range) | server CPU µs/req median (range) | p50 ms | p99 ms | RSS MiB | heap MiB after GC | sanity | what |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const group of groups) {
    for (const row of group.rows) {
      lines.push(
        `| ${row.name} | ${range(row.rps, int)} | ${range(row.serverCpuUsPerRequest, fixed)} | ${fixed(row.latencyMs.p50, 2)} | ` +
          `${fixed(row.latencyMs.p99, 2)} | ${mib(row.memory.rssBytes)} | ${mib(row.memory.heapUsedAfterGcBytes)} | ` +
          `${sanityText(row.sanity)} | ${row.what}${row.stoppedEarly ? ' (a round ran out of proofs and stopped early)' : ''} |`,
      );
    }
  }
  lines.push(
    '',
    'sanity: the status for the measured request first, then for the same token without its binding. (!) marks a',
    'request that should have been refused and was answered 200 (the row does not check that binding or replay).',
    '',
    '## Ratios (same rounds)',
    '',
    '| ratio | req/s ratio median (range) | Δ server CPU µs/req | machine speed varied | target | met |',
    '| --- | ---: | ---: | ---: | --- | --- |',
  );
  const unsteady = [];
  for (const group of groups) {
    for (const ratio of group.ratios) {
      const { target, met } = ratioTarget(ratio, micro);
      const variation = ratio.machineSpeedVariation;
      const flagged = variation !== undefined && variation > UNSTEADY_SPEED;
      if (flagged) unsteady.push(`${ratio.of} / ${ratio.vs}`);
      lines.push(
        `| ${ratio.of} / ${ratio.vs} | ${range(ratio.rps, (n) => n.toFixed(2))} | ${signed(ratio.serverCpuUsDiff.median)} | ` +
          `${variation === undefined ? '' : `${Math.round(variation * 100)}%`} | ${target} | ${met && flagged ? `${met} (unsteady)` : met} |`,
      );
    }
  }
  lines.push(
    '',
    'req/s ratio > 1: the first is faster; (range) over the rounds, each ratio taken within one round.',
    'Δ server CPU µs/req: first minus second (median over the rounds): the least noise-sensitive cost figure.',
    'machine speed varied: how much longer a fixed piece of work took on the server core at the slowest',
    `moment of these rounds than at the fastest (measured around every load run); above ${UNSTEADY_SPEED * 100}% the`,
    'machine changed speed while the ratio was measured, and its verdict is marked "(unsteady)".',
  );
  if (unsteady.length > 0) {
    lines.push(
      '',
      `**Warning:** the machine's speed changed by more than ${UNSTEADY_SPEED * 100}% while ${unsteady.length} ` +
        `ratio(s) were measured (${unsteady.join(', ')}): another tenant of the host, most likely. ` +
        'Rerun them (`BENCH_GROUPS=…`) before drawing conclusions.',
    );
  }
  if (micro?.length) {
    lines.push(
      '',
      `## Micro-benchmarks (in process, sequential await, ${settings.microSeconds} s each)`,
      '',
      '| case | µs/op (wall) | µs/op (CPU, all threads) |',
      '| --- | ---: | ---: |',
      ...micro.map((m) => `| ${m.name} | ${fixed(m.wallUsPerOp, 2)} | ${fixed(m.cpuUsPerOp, 2)} |`),
    );
  }
  const noisy = Math.max(0, ...groups.flatMap((g) => g.rows.map((r) => r.otherCoresMax)));
  if (noisy > 0.15) {
    lines.push(
      '',
      `**Warning:** other processes used up to ${noisy.toFixed(2)} core during some rounds: req/s and latency are noisy; ` +
        'server CPU µs/req and the Δ column are more robust. Rerun on a quiet machine.',
    );
  }
  return `${lines.join('\n')}\n`;
}
