#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (e.g. from `BENCH_CPU_PROF=1 pnpm bench`, written to
// bench/results/profiles/): self time by function and by package, and inclusive ("total") time of
// the functions whose name or file matches --match.
//
//   node bench/profile-summary.mjs bench/results/profiles/<server>.cpuprofile [--top 25] [--match certbound]
//        [--requests N]   (requests the server answered, printed by run.mjs: adds a µs/request column)
//        [--since-us T] [--until-us T]   only the samples in that window of the monotonic clock
//                         (process.hrtime in µs, the profile's own clock): `run.mjs --profile` passes
//                         the measured load's window, so start-up and warm-up are left out
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '25' },
    match: { type: 'string', default: 'certbound' },
    requests: { type: 'string' },
    'since-us': { type: 'string' },
    'until-us': { type: 'string' },
  },
});
if (positionals.length !== 1) {
  console.error(
    'usage: node bench/profile-summary.mjs <file.cpuprofile> [--top N] [--match text] [--requests N] [--since-us T] [--until-us T]',
  );
  process.exit(2);
}
const top = Number(values.top);
const match = values.match.toLowerCase();
const profile = JSON.parse(await readFile(positionals[0], 'utf8'));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Sample weights: timeDeltas[i] is the time before sample i (µs).
const since = values['since-us'] === undefined ? -Infinity : Number(values['since-us']);
const until = values['until-us'] === undefined ? Infinity : Number(values['until-us']);
const weight = new Map();
let total = 0;
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  const dt = Math.max(0, profile.timeDeltas?.[i] ?? 0);
  at += profile.timeDeltas?.[i] ?? 0;
  if (at < since || at > until) return;
  if (byId.get(id).callFrame.functionName === '(idle)') return; // waiting for I/O: not CPU
  weight.set(id, (weight.get(id) ?? 0) + dt);
  total += dt;
});

function where(frame) {
  const url = frame.url || '';
  if (!url) return '(native/V8)';
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/);
  if (m) return m[1];
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  if (url.includes('/packages/')) return `@certbound/${url.split('/packages/')[1].split('/')[0]}`;
  return url.replace(/^file:\/\//, '');
}
const label = (frame) =>
  `${frame.functionName || '(anonymous)'} ${frame.url ? `${where(frame)}:${frame.lineNumber + 1}` : ''}`.trim();

const selfByFn = new Map();
const selfByPkg = new Map();
const inclusive = new Map();
for (const [id, w] of weight) {
  const node = byId.get(id);
  const f = node.callFrame;
  selfByFn.set(label(f), (selfByFn.get(label(f)) ?? 0) + w);
  const pkg = f.functionName === '(garbage collector)' ? '(gc)' : where(f);
  selfByPkg.set(pkg, (selfByPkg.get(pkg) ?? 0) + w);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const cf = byId.get(cur).callFrame;
    const key = label(cf);
    if (seen.has(key)) continue;
    seen.add(key);
    if (key.toLowerCase().includes(match)) inclusive.set(key, (inclusive.get(key) ?? 0) + w);
  }
}

const pct = (w) => `${((w / total) * 100).toFixed(1).padStart(5)}%`;
const requests = values.requests === undefined ? undefined : Number(values.requests);
const ms = (w) =>
  `${(w / 1000).toFixed(0).padStart(7)} ms${requests ? `${(w / requests).toFixed(2).padStart(9)} µs/req` : ''}`;
const print = (title, map, n) => {
  console.log(`\n${title}`);
  for (const [k, w] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n))
    console.log(`${pct(w)} ${ms(w)}  ${k}`);
};
console.log(
  `profile: ${(total / 1e6).toFixed(1)} s of CPU sampled (idle excluded), ${profile.samples.length} samples` +
    (requests ? `, ${requests} requests: ${(total / requests).toFixed(1)} µs/req on the main thread` : ''),
);
print('self time by package / area', selfByPkg, top);
print('self time by function', selfByFn, top);
print(`inclusive time of functions matching "${match}"`, inclusive, top);
