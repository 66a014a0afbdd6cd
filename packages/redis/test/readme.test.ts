/**
 * The README's programs compile, as TypeScript, against the real types of both client libraries.
 * The workspace-wide check (`test/docs`) compiles `ts` blocks from the repository root, where
 * neither `ioredis` nor `redis` resolves (they are this package's dev dependencies only), so this
 * README's programs (quick starts, the replay store, Redis Cluster) are `js` blocks, written to
 * compile as TypeScript too, and checked here.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const root = join(pkg, '..', '..');
let out: string | undefined;

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

function programsOf(text: string): { line: number; code: string }[] {
  const lines = text.split('\n');
  const found: { line: number; code: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(js|ts)\s*$/.test(lines[i]!)) continue;
    const end = lines.indexOf('```', i + 1);
    const body = lines.slice(i + 1, end);
    if (body.some((line) => /^import\s/.test(line)))
      found.push({ line: i + 1, code: `${body.join('\n')}\nexport {};\n` });
    i = end;
  }
  return found;
}

describe('README', () => {
  it('has programs for both clients, standalone and cluster, that compile against their types', async () => {
    const programs = programsOf(await readFile(join(pkg, 'README.md'), 'utf8'));
    expect(programs.map((p) => p.code.match(/from '(ioredis|redis)'/)?.[1])).toEqual([
      'ioredis',
      'redis',
      'ioredis',
      'ioredis',
      'redis',
    ]);

    out = await mkdtemp(join(tmpdir(), 'certbound-redis-readme-'));
    const files = await Promise.all(
      programs.map(async (program) => {
        const file = join(out!, `line-${program.line}.ts`);
        await writeFile(file, program.code);
        return { file, program };
      }),
    );
    const config = ts.getParsedCommandLineOfConfigFile(
      join(root, 'tsconfig.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
          throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
        },
      },
    )!;
    const program = ts.createProgram(
      files.map((f) => f.file),
      {
        ...config.options,
        noEmit: true,
        typeRoots: [join(root, 'node_modules', '@types')],
        paths: {
          ...config.options.paths,
          ioredis: [join(pkg, 'node_modules', 'ioredis')],
          redis: [join(pkg, 'node_modules', 'redis')],
        },
      },
    );
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = files.find((f) => f.file === d.file?.fileName);
      const line =
        d.file && where
          ? where.program.line + 1 + d.file.getLineAndCharacterOfPosition(d.start ?? 0).line
          : 0;
      return `README.md:${line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
    expect(problems.join('\n')).toBe('');
  }, 60_000);
});
