// CPU pinning with taskset (util-linux): the servers on one core, the load generator (this
// process) on another, so that they do not take turns on the same core. Skipped where taskset is
// missing or the machine has fewer than two usable cores.
import { execFileSync } from 'node:child_process';
import os from 'node:os';

let tasksetPath;

function findTaskset() {
  if (tasksetPath !== undefined) return tasksetPath;
  tasksetPath = null;
  for (const candidate of ['/usr/bin/taskset', '/bin/taskset', '/usr/local/bin/taskset']) {
    try {
      execFileSync(candidate, ['-p', String(process.pid)], { stdio: 'ignore' });
      tasksetPath = candidate;
      break;
    } catch {
      // not there, or not allowed
    }
  }
  return tasksetPath;
}

/**
 * The pinning plan: `{ loadgen: '0', server: '1', taskset }`, or `undefined` when pinning is off
 * or impossible (with the reason in `unpinnedReason`).
 */
export function pinningPlan(enabled) {
  if (!enabled) return { plan: undefined, unpinnedReason: 'BENCH_PIN=0' };
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  if (cpus < 2) return { plan: undefined, unpinnedReason: `only ${cpus} CPU available` };
  const taskset = findTaskset();
  if (!taskset) return { plan: undefined, unpinnedReason: 'taskset not found' };
  return { plan: { loadgen: '0', server: '1', taskset }, unpinnedReason: undefined };
}

/** Pins every thread of this process (the load generator) to `cpus`, e.g. '0' or '0,1'. */
export function pinSelf(plan, cpus) {
  if (!plan) return;
  execFileSync(plan.taskset, ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}

/**
 * `fork()` options that start a server already pinned: `taskset -c <cpu> node …` keeps the IPC
 * channel (taskset execs node with the same file descriptors and environment).
 */
export function pinnedForkOptions(plan, nodeArgs) {
  if (!plan) return { execArgv: nodeArgs };
  return { execPath: plan.taskset, execArgv: ['-c', plan.server, process.execPath, ...nodeArgs] };
}
