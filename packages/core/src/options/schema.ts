/**
 * Option groups described once: a schema maps each option name of a group to its reader, so the
 * schema is the single source of the known names, the defaults, the checks and the normalized
 * value (its type is inferred from the readers). Adding an option is one line in one schema.
 */
import { fail, isRecord, type Reader } from './checks.js';

/** Option name → reader. */
export type Schema = Readonly<Record<string, Reader<unknown>>>;

/** The normalized value of a group: each option's reader's result. */
export type Normalized<S extends Schema> = { -readonly [K in keyof S]: ReturnType<S[K]> };

/** `prefix.name`, or `name` at the top level. */
function dotted(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

/**
 * Reads the option group `value` named `prefix` (`''` for the top level). Every name not in
 * `schema` is refused (with a suggestion when one is close), unless `strict` is false (for public
 * helpers that accept a whole options object and read their own part of it).
 *
 * @param shape - what the group must be, for the error message (`an object { … }`).
 */
export function readGroup<S extends Schema>(
  value: unknown,
  prefix: string,
  schema: S,
  shape: string,
  strict = true,
): Normalized<S> {
  if (!isRecord(value)) {
    if (prefix === '') throw new TypeError('Invalid certbound options: expected an object');
    fail(prefix, shape);
  }
  if (strict) {
    for (const name of Object.keys(value)) {
      if (!Object.hasOwn(schema, name)) unknownOption(prefix, name, Object.keys(schema));
    }
  }
  const normalized: Record<string, unknown> = {};
  for (const [name, read] of Object.entries(schema))
    normalized[name] = read(value[name], dotted(prefix, name));
  return normalized as Normalized<S>;
}

/** Throws the TypeError for an unknown option, suggesting the known name it most likely meant. */
export function unknownOption(prefix: string, name: string, known: readonly string[]): never {
  const suggestion = closest(name, known);
  const hint = suggestion === undefined ? '' : ` (did you mean "${dotted(prefix, suggestion)}"?)`;
  throw new TypeError(`Invalid certbound option: unknown option "${dotted(prefix, name)}"${hint}`);
}

/**
 * The known name a typo most likely meant: the same name in another case, else the closest
 * within a small edit distance, else a known name it is the start of (`clockTolerance` →
 * `clockToleranceSeconds`), else one that is the start of it.
 */
function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  if (lower.length === 0 || lower.length > 64) return undefined;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(lower.length / 3)) + 1;
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    if (other === lower) return candidate;
    const distance = editDistance(lower, other);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined || lower.length < 4) return best;
  return (
    known.find((candidate) => candidate.toLowerCase().startsWith(lower)) ??
    known.find((candidate) => lower.startsWith(candidate.toLowerCase()))
  );
}

/** Levenshtein distance (names are short: a two-row table). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
