/**
 * Static ReDoS check: every regular expression in packages/core/src is analysed by recheck
 * (https://makenowjust-labs.github.io/recheck/), which decides from the pattern alone whether
 * backtracking can take super-linear time. No clock is involved: the verdict depends on the pattern
 * (and recheck's fixed step limits and seed), not on how busy the machine is.
 *
 * Found with the TypeScript compiler API, so that no regular expression is missed:
 * - every regular-expression literal (`/…/flags`);
 * - every `new RegExp(…)` or `RegExp(…)` whose pattern (and flags, if any) are string literals;
 * - every string literal given to `.match`, `.matchAll` or `.search` (a string argument becomes a
 *   regular expression there).
 * A `RegExp` built from anything else cannot be checked statically: it fails this test unless it
 * is listed, with the reason it is safe, in DYNAMIC_REGEXP_ALLOW_LIST.
 *
 * recheck works offline: `checkSync` runs its native binary (optional dependency
 * `recheck-linux-x64`, `-macos-*`, `-windows-x64`; no install script, so pnpm's `allowBuilds` does
 * not matter), else `java -jar` on `recheck-jar`, else its pure-JavaScript build. All give the
 * same verdicts (`RECHECK_BACKEND=native|java|worker|pure` selects one).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSync, type Diagnostics } from 'recheck';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SOURCE_ROOT = fileURLToPath(new URL('../src', import.meta.url));

/**
 * `RegExp` constructions whose pattern is not a literal, as `file: expression text`. Each entry
 * needs a comment saying why the pattern it builds is safe. Empty: there are none.
 */
const DYNAMIC_REGEXP_ALLOW_LIST: ReadonlySet<string> = new Set<string>([]);

/**
 * Regular expressions recheck reports as vulnerable, as `file: /source/flags`, accepted only where
 * the input is provably bounded by a length cap checked before the expression runs (each entry
 * needs a comment naming that cap). Empty: every expression is safe.
 */
const ACCEPTED_VULNERABLE: ReadonlySet<string> = new Set<string>([]);

/**
 * Analysis parameters. The wall-clock limits are off (`null`) so that a slow or busy machine cannot
 * turn a verdict into `unknown`; the fuzzer's step limits and seed (recheck's defaults) keep its
 * result deterministic. `maxRepeatCount` is raised so that bounded repeats such as `{1,255}` or
 * `{64}` are analysed by the automaton checker (a proof) rather than by the fuzzer, which only
 * reports that it found no attack. Today every expression here goes to the automaton checker; one it
 * cannot handle (a backreference, say) would be fuzzed.
 */
const RECHECK_PARAMETERS = {
  timeout: null,
  attackTimeout: null,
  incubationTimeout: null,
  seedingTimeout: null,
  maxRepeatCount: 1_000,
} as const;

interface FoundRegExp {
  /** `file:line`, for messages. */
  where: string;
  /** `file: /source/flags`, the allow-list key. */
  key: string;
  source: string;
  flags: string;
}

interface DynamicRegExp {
  where: string;
  key: string;
}

function sourceFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(root, name))
    .sort();
}

const STRING_PATTERN_METHODS = new Set(['match', 'matchAll', 'search']);

function isStringLiteral(
  node: ts.Node | undefined,
): node is ts.StringLiteral | ts.NoSubstitutionTemplateLiteral {
  return node !== undefined && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node));
}

/** `RegExp` or `globalThis.RegExp`. */
function isRegExpConstructor(node: ts.Expression): boolean {
  if (ts.isIdentifier(node)) return node.text === 'RegExp';
  return (
    ts.isPropertyAccessExpression(node) &&
    node.name.text === 'RegExp' &&
    ts.isIdentifier(node.expression) &&
    node.expression.text === 'globalThis'
  );
}

/** Every regular expression in the given files, and every `RegExp` built from a non-literal. */
function findRegExps(files: string[]): { found: FoundRegExp[]; dynamic: DynamicRegExp[] } {
  const found: FoundRegExp[] = [];
  const dynamic: DynamicRegExp[] = [];
  for (const file of files) {
    const name = relative(SOURCE_ROOT, file).split('\\').join('/');
    const sourceFile = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const where = (node: ts.Node) =>
      `${name}:${sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line + 1}`;
    const add = (node: ts.Node, source: string, flags: string) =>
      found.push({ where: where(node), key: `${name}: /${source}/${flags}`, source, flags });

    const visit = (node: ts.Node): void => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const text = node.getText(sourceFile);
        const end = text.lastIndexOf('/');
        add(node, text.slice(1, end), text.slice(end + 1));
      } else if (
        (ts.isNewExpression(node) || ts.isCallExpression(node)) &&
        isRegExpConstructor(node.expression)
      ) {
        const [pattern, flags, ...rest] = node.arguments ?? [];
        const literalFlags = flags === undefined || isStringLiteral(flags);
        if (isStringLiteral(pattern) && literalFlags && rest.length === 0) {
          add(node, pattern.text, flags?.text ?? '');
        } else if (pattern !== undefined && ts.isRegularExpressionLiteral(pattern) && literalFlags) {
          // `new RegExp(/x/, 'g')`: the literal is checked on its own; check it with these flags too.
          const text = pattern.getText(sourceFile);
          const end = text.lastIndexOf('/');
          if (flags !== undefined) add(node, text.slice(1, end), flags.text);
        } else {
          dynamic.push({ where: where(node), key: `${name}: ${node.getText(sourceFile)}` });
        }
      } else if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        STRING_PATTERN_METHODS.has(node.expression.name.text) &&
        isStringLiteral(node.arguments[0])
      ) {
        add(node, node.arguments[0].text, node.expression.name.text === 'matchAll' ? 'g' : '');
      }
      ts.forEachChild(node, visit);
    };
    visit(sourceFile);
  }
  return { found, dynamic };
}

const { found, dynamic } = findRegExps(sourceFiles(SOURCE_ROOT));

/** The attack string recheck found, for the failure message. */
function describeAttack(result: Diagnostics): string {
  if (result.status === 'vulnerable') {
    return `${result.checker}: ${result.complexity.summary}; attack: ${result.attack.pattern} (e.g. ${JSON.stringify(result.attack.string.slice(0, 200))})`;
  }
  if (result.status === 'unknown') return `unknown: ${JSON.stringify(result.error)}`;
  return result.complexity.summary;
}

describe('regular expressions in packages/core/src', () => {
  it('are found by the walker (a known one among them)', () => {
    expect(found.length).toBeGreaterThan(20);
    expect(found.map((regExp) => regExp.key)).toContain(
      'client-certificate/header-encoding.ts: /^[A-Za-z0-9+/]*={0,2}$/',
    );
  });

  it('are never built from a non-literal pattern unless allow-listed', () => {
    const unlisted = dynamic.filter(({ key }) => !DYNAMIC_REGEXP_ALLOW_LIST.has(key));
    expect(unlisted.map(({ where, key }) => `${where} ${key}`)).toEqual([]);
    // A stale entry (its code changed or went away) must be removed.
    const seen = new Set(dynamic.map(({ key }) => key));
    expect([...DYNAMIC_REGEXP_ALLOW_LIST].filter((key) => !seen.has(key))).toEqual([]);
  });

  it('leave no stale entry in ACCEPTED_VULNERABLE', () => {
    const keys = new Set(found.map(({ key }) => key));
    expect([...ACCEPTED_VULNERABLE].filter((key) => !keys.has(key))).toEqual([]);
  });

  // One test each, titled in full (it.each would shorten long patterns).
  for (const { where, key, source, flags } of found) {
    const expected = ACCEPTED_VULNERABLE.has(key) ? 'vulnerable' : 'safe';
    it(`${where} /${source}/${flags} is ${expected} (recheck)`, () => {
      const result = checkSync(source, flags, RECHECK_PARAMETERS);
      expect(result.status, `${key}: ${describeAttack(result)}`).toBe(expected);
    });
  }
});
