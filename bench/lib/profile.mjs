// `node bench/run.mjs --profile <row>[,<row>…]`: runs only those rows' servers, with --cpu-prof,
// under the row's load (sanity check, warm-up, then BENCH_PROFILE_SECONDS), and prints
// profile-summary.mjs's summary of each profile: self time by package and by function, µs per
// request. The profiler slows the server down: take no req/s from these runs.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { profileName, serverUsage, stopChild } from './children.mjs';
import { runLoad } from './load.mjs';
import { startGroupServers, warmUp } from './measure.mjs';
import { buildPlan } from './plan.mjs';
import { checkRow } from './sanity.mjs';

const PROFILE_DIR = fileURLToPath(new URL('../results/profiles/', import.meta.url));
const SUMMARY = fileURLToPath(new URL('../profile-summary.mjs', import.meta.url));

/** With no row named: certbound in front of every framework. */
export const DEFAULT_PROFILE_ROWS = [
  'express-certbound',
  'koa-certbound',
  'fastify-certbound',
  'nest-express-certbound',
  'nest-fastify-certbound',
];

function groupOfRow(name) {
  if (name.startsWith('rotation-') || name === 'new-token') return 'rotation';
  for (const prefix of ['dpop', 'nest-express', 'nest-fastify', 'koa', 'fastify']) {
    if (name.startsWith(`${prefix}-`)) return prefix;
  }
  return 'express';
}

async function profileRow(name, ctx) {
  const { config, log } = ctx;
  const [group] = await buildPlan(ctx.fx, { ...config, groups: [groupOfRow(name)] });
  const row = group.rows.find((r) => r.name === name);
  if (!row) {
    const known = group.rows.map((r) => r.name).join(', ');
    throw new Error(`--profile: no row ${name} (group ${group.name} has ${known})`);
  }
  await mkdir(PROFILE_DIR, { recursive: true });
  const started = await startGroupServers(group, ctx, {
    only: new Set([row.server]),
    profileDir: PROFILE_DIR,
  });
  const target = started[row.server];
  const file = `${PROFILE_DIR}${profileName(`${group.name}/${row.server}`)}`;
  let before;
  let after;
  try {
    await checkRow(row, target, ctx.fx.pki.ca.cert);
    const rates = {};
    if (group.beforePhase) await group.beforePhase(group.warmupSeconds, rates);
    log(`  profile ${name}: warm-up`);
    rates[row.name] = await warmUp(row, target, group.warmupSeconds, ctx);
    if (group.beforePhase) await group.beforePhase(config.profileSeconds, rates);
    log(`  profile ${name}: ${config.profileSeconds} s under --cpu-prof`);
    before = await serverUsage(target.child);
    await runLoad(target, row.load(), { seconds: config.profileSeconds, connections: config.connections });
    after = await serverUsage(target.child);
  } finally {
    await stopChild(target.child); // the profile is written when the server exits
  }
  // Only the measured load: not start-up, sanity checks or warm-up.
  const served = after.served - before.served;
  const args = [SUMMARY, file, '--requests', String(served), '--top', '15'];
  args.push('--since-us', String(before.monotonicUs), '--until-us', String(after.monotonicUs));
  const { stdout } = await promisify(execFile)(process.execPath, args);
  return { row: name, file, served, command: `node ${args.join(' ')}`, summary: stdout };
}

export async function runProfiles(names, ctx) {
  const results = [];
  for (const name of names.length ? names : DEFAULT_PROFILE_ROWS) {
    const result = await profileRow(name, ctx);
    console.log(
      `\n## ${result.row}: ${result.served} requests measured\n\n${result.command}\n\n${result.summary}`,
    );
    results.push(result);
  }
  return results;
}
