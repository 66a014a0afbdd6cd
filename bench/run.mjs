#!/usr/bin/env node
// certbound benchmark: every path, as ratios, in one run on one machine. Run from the repository
// root with `pnpm bench` (builds the packages first). See bench/README.md for the rows, the
// environment variables and the targets.
//
//   node bench/run.mjs                        the whole benchmark (about 5 minutes)
//   node bench/run.mjs --profile [row,…]      CPU profiles of those rows' servers, summarized
import { mkdir, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { stopAllChildren } from './lib/children.mjs';
import { loadConfig } from './lib/config.mjs';
import { createFixtures } from './lib/fixtures.mjs';
import { runGroup } from './lib/measure.mjs';
import { runMicro } from './lib/micro.mjs';
import { pinningPlan, pinSelf } from './lib/pinning.mjs';
import { buildPlan } from './lib/plan.mjs';
import { runProfiles } from './lib/profile.mjs';
import { describeMachine, renderMarkdown } from './lib/report.mjs';

const RESULTS = new URL('./results/', import.meta.url);
const log = (message) => console.error(message);

function parseCommandLine(argv) {
  const at = argv.indexOf('--profile');
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log('usage: node bench/run.mjs [--profile [row,row,…]]   (see bench/README.md)');
    process.exit(0);
  }
  if (at === -1) return { profile: undefined };
  const rows = (argv[at + 1] ?? '').startsWith('-') ? '' : (argv[at + 1] ?? '');
  return { profile: rows.split(',').filter(Boolean) };
}

/** Seconds the measured part should take: warm-ups, rounds, and about half a second per load run. */
function plannedSeconds(groups) {
  return groups.reduce(
    (total, g) => total + g.rows.length * (g.warmupSeconds + 0.5 + g.rounds * (g.seconds + 0.5)),
    0,
  );
}

async function main() {
  const args = parseCommandLine(process.argv.slice(2));
  const config = loadConfig();
  const { plan: pinning, unpinnedReason } = pinningPlan(config.pin);
  const startedAt = new Date();
  const t0 = performance.now();
  const machine = describeMachine();
  log(
    `certbound bench: ${machine.cpus} CPU (${machine.cpuModel}), Node ${machine.node}; ` +
      (pinning
        ? `servers pinned to CPU ${pinning.server}, load generator to CPU ${pinning.loadgen}`
        : `not pinned (${unpinnedReason})`),
  );

  // Fixtures first, on every core: the test issuer, certificates, tokens (and the rotation pool).
  const fx = await createFixtures({ rs256: config.rs256 });
  const ctx = { config, pinning, fx, log };
  try {
    if (args.profile) {
      pinSelf(pinning, pinning?.loadgen);
      await runProfiles(args.profile, ctx);
      return;
    }
    log('  minting tokens…');
    const plan = await buildPlan(fx, config);
    log(
      `  tokens ready after ${((performance.now() - t0) / 1000).toFixed(0)} s; ${plan.length} groups, ` +
        `${plan.reduce((n, g) => n + g.rows.length, 0)} rows, about ${Math.ceil(plannedSeconds(plan))} s of load`,
    );
    pinSelf(pinning, pinning?.loadgen);
    const groups = [];
    for (const group of plan) {
      log(`${group.name}: ${group.title}`);
      groups.push(await runGroup(group, ctx));
    }
    log('micro-benchmarks');
    const micro = await runMicro(fx, config.microSeconds);

    const report = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      totalSeconds: (performance.now() - t0) / 1000,
      command: process.argv.slice(1).join(' '),
      machine,
      settings: { ...config, pinning, unpinnedReason },
      groups,
      micro,
    };
    const markdown = renderMarkdown(report);
    console.log(markdown);
    await mkdir(RESULTS, { recursive: true });
    await writeFile(new URL('latest.json', RESULTS), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(new URL('latest.md', RESULTS), markdown);
    log(`results: ${fileURLToPath(new URL('latest.md', RESULTS))} and latest.json`);
    log(`total time: ${report.totalSeconds.toFixed(0)} s`);
  } finally {
    await stopAllChildren();
    await fx.close();
  }
}

main().then(
  () => process.exit(0),
  async (error) => {
    console.error(error?.stack ?? error);
    await stopAllChildren();
    process.exit(1);
  },
);
