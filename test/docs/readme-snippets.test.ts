/**
 * Every TypeScript block of the READMEs and package docs that is a program (it has `import`s)
 * compiles against the packages' real types, as a module of its own; blocks without imports are
 * excerpts of such programs (an option object, one route). A program that relies on names the
 * prose gives (the server's `cert` and `key`) declares them in an HTML comment right above the
 * fence, which readers do not see:
 *
 *     <!-- snippet-context: declare const app: import('express').Express; -->
 *
 * What the blocks do at run time is exercised by the examples (`test/examples`), the conformance
 * suite and the demo, which wire the adapters the same way.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'test', 'docs', '.snippets');

interface Snippet {
  source: string;
  line: number;
  code: string;
}

async function documents(): Promise<string[]> {
  const found = ['README.md'];
  for (const folder of ['packages', 'examples']) {
    for (const entry of await readdir(join(root, folder), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const base = join(folder, entry.name);
      const names = await readdir(join(root, base));
      if (names.includes('README.md')) found.push(join(base, 'README.md'));
      if (names.includes('docs')) {
        for (const doc of await readdir(join(root, base, 'docs'))) {
          if (doc.endsWith('.md')) found.push(join(base, 'docs', doc));
        }
      }
    }
  }
  return found;
}

function snippetsOf(source: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
    const context = /^<!-- snippet-context: (.*) -->$/.exec(lines[i - 1] ?? '')?.[1] ?? '';
    const end = lines.indexOf('```', i + 1);
    if (end === -1) throw new Error(`${source}:${i + 1}: unterminated code block`);
    const body = lines.slice(i + 1, end);
    if (!body.some((line) => /^import\s/.test(line))) {
      i = end;
      continue;
    }
    snippets.push({
      source,
      line: i + 1,
      code: `${context}\n${lines.slice(i + 1, end).join('\n')}\nexport {};\n`,
    });
    i = end;
  }
  return snippets;
}

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('documentation code blocks', () => {
  it('compile against the packages', async () => {
    const snippets = (
      await Promise.all(
        (await documents()).map(async (doc) => snippetsOf(doc, await readFile(join(root, doc), 'utf8'))),
      )
    ).flat();
    expect(snippets.length).toBeGreaterThan(10);

    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    const files = await Promise.all(
      snippets.map(async (snippet, index) => {
        const file = join(out, `${snippet.source.replaceAll(/[/.]/g, '_')}_${snippet.line}_${index}.ts`);
        await writeFile(file, snippet.code);
        return { file, snippet };
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
      { ...config.options, noEmit: true, noUnusedLocals: false, lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'] },
    );
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName.startsWith(out))
      .map((d) => {
        const { snippet } = files.find((f) => f.file === d.file!.fileName)!;
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        // Line 0 of the file is the context comment's declarations.
        return `${snippet.source}:${snippet.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
      });
    expect(problems.join('\n')).toBe('');
  }, 60_000);
});
