/**
 * The vitest config of `pnpm test:mutation` (stryker.config.mjs): the workspace config (its
 * aliases point `@certbound/*` at the sandbox's sources) with
 *
 * - only the tests that mutation testing runs, selected here rather than with Stryker's
 *   `testFiles`: with `testFiles`, StrykerJS 9.6 activates static mutants (module-level values
 *   such as the regular expressions) only after the modules are loaded, and reports them as
 *   survived whatever the tests do (stryker-mutator/stryker-js#6144);
 * - cheap test files first: Stryker runs only the tests that cover a mutant and stops at the
 *   first failure, so a mutant that a plain unit test kills never waits for a test PKI or a test
 *   issuer (vitest's own order puts the slowest and last-failed first);
 * - a 10 s test timeout instead of 30 s: a mutant that leaves a request unanswered fails its test
 *   sooner, and without a Stryker timeout, which restarts the worker;
 * - a test file that fails to load counted as a failed test: StrykerJS 9.6's vitest runner only
 *   reads test results, so a static mutant that makes a module throw while a test file imports it
 *   (`trustedProxyMatcher([...])` at the top of a test) would be reported as survived.
 */
import { readFileSync } from 'node:fs';
import type { RunnerTestCase } from 'vitest';
import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type Reporter, type TestSpecification, type Vitest } from 'vitest/node';
import workspace from './vitest.config.js';

const costs = new Map<string, number>();

/** 0: plain unit tests; 1: a test PKI or test issuer (`@certbound/testing`). */
function cost(file: string): number {
  let value = costs.get(file);
  if (value === undefined) {
    value = readFileSync(file, 'utf8').includes("'@certbound/testing'") ? 1 : 0;
    costs.set(file, value);
  }
  return value;
}

class CheapFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort(
      (a, b) => cost(a.moduleId) - cost(b.moduleId) || a.moduleId.localeCompare(b.moduleId),
    );
  }
}

/** Adds a failed test to every test file that failed without collecting any (it did not load). */
class LoadFailuresAsTests implements Reporter {
  #vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.#vitest = vitest;
  }

  onTestRunEnd(): void {
    for (const file of this.#vitest?.state.getFiles() ?? []) {
      if (file.result?.state !== 'fail' || file.tasks.length > 0) continue;
      // What Stryker's runner reads of a test: type, mode, name, file, result.
      const test = {
        type: 'test',
        id: `${file.id}_load`,
        name: '(the test file loads)',
        mode: 'run',
        file,
        meta: {},
        result: { state: 'fail', errors: file.result.errors },
      };
      file.tasks.push(test as unknown as RunnerTestCase);
    }
  }
}

export default defineConfig({
  ...workspace,
  test: {
    ...workspace.test,
    // The core's unit tests only. Not the adapters' conformance table: on two cores it made the
    // run take 75 minutes instead of about 30 (every surviving mutant ran all of its 400-odd
    // covering cases through five servers) and killed only 15 of 1,619 mutants that no unit test
    // did, all now killed by unit tests. Not the property tests: their linear-time assertions
    // (500 ms for 1 MiB) fail on instrumented code, which would abort the initial run or count a
    // merely slower mutant as killed.
    include: ['packages/core/test/**/*.test.ts'],
    // Nor the ReDoS check: it reads the source text, which Stryker has instrumented with every
    // mutant's variant (it checks the regular expressions written, not what the code does).
    exclude: [...configDefaults.exclude, '**/*.property.test.ts', '**/regex-safety.test.ts'],
    testTimeout: 10_000,
    sequence: { sequencer: CheapFirstSequencer },
    // Last, so that vitest's own reporter never sees the added test.
    reporters: ['default', new LoadFailuresAsTests()],
  },
});
