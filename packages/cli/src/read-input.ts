/**
 * Reads what the commands work on: a file, standard input (`-`), or for tokens also `@file` or
 * the token itself. Read failures become one-line {@link CliError}s (exit 2) naming the file,
 * never its content.
 */
import { readFile } from 'node:fs/promises';
import { CliError } from './errors.js';
import { printable, showArgument } from './format.js';

/** Larger inputs are no certificate or token: refuse them rather than read them whole. */
export const MAX_INPUT_BYTES = 1024 * 1024;

/** What the CLI reads standard input from (`process.stdin`, or any async iterable in tests). */
export type InputStream = AsyncIterable<string | Uint8Array>;

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'no such file',
  ELOOP: 'too many symbolic links',
};

async function readStream(stream: InputStream, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    size += bytes.length;
    if (size > MAX_INPUT_BYTES) throw new CliError(`cannot read ${what} from stdin: larger than 1 MiB`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

/** How an input is named in messages: `stdin`, or the file name (unless it looks like a token). */
export function sourceName(source: string): string {
  return source === '-' ? 'stdin' : showArgument(source);
}

/** The bytes of `source`: a file path, or `-` for standard input. Empty input is an error. */
export async function readSource(source: string, stdin: InputStream, what: string): Promise<Buffer> {
  let bytes: Buffer;
  if (source === '-') {
    bytes = await readStream(stdin, what);
  } else {
    try {
      bytes = await readFile(source);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      throw new CliError(
        `cannot read ${sourceName(source)}: ${FILE_ERRORS[code] ?? printable(code || 'error')}`,
      );
    }
    if (bytes.length > MAX_INPUT_BYTES) {
      throw new CliError(`cannot read ${sourceName(source)}: larger than 1 MiB, not a ${what}`);
    }
  }
  if (bytes.toString('latin1').trim().length === 0) {
    throw new CliError(`${sourceName(source)} is empty: expected a ${what}`);
  }
  return bytes;
}

/** `Bearer ` (and `Authorization: Bearer `) as pasted from a request. */
const BEARER_PREFIX = /^(?:authorization:\s*)?bearer\s+/i;

/**
 * A token given as `-` (stdin), `@file`, or literally. Surrounding whitespace and a pasted
 * `Bearer ` prefix are removed; exactly one token must remain.
 */
export async function readToken(spec: string, stdin: InputStream): Promise<string> {
  let text = spec;
  if (spec === '-' || spec.startsWith('@')) {
    const source = spec === '-' ? '-' : spec.slice(1);
    if (source.length === 0) throw new CliError('expected a file name after @ (e.g. --token @token.txt)');
    text = (await readSource(source, stdin, 'token')).toString('utf8');
  }
  const token = text.trim().replace(BEARER_PREFIX, '');
  if (token.length === 0) throw new CliError('the token is empty');
  if (/\s/.test(token)) throw new CliError('the input holds more than one word: give exactly one token');
  return token;
}
