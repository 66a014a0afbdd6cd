/**
 * `@certbound/cli`: the `certbound` operator commands as a function, {@link run}, so they can be
 * embedded and tested in-process; `cli.ts` is the binary that calls it.
 */
import type { CliIo, Command } from './command.js';
import { check } from './commands/check.js';
import { inspect } from './commands/inspect.js';
import { thumbprint } from './commands/thumbprint.js';
import { CliError, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';
import { showArgument } from './format.js';
import { globalUsage } from './usage.js';
import { VERSION } from './version.js';

export type { CliIo, TextSink } from './command.js';
export { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './errors.js';
export type { InputStream } from './read-input.js';
export { VERSION } from './version.js';

const COMMANDS: readonly Command[] = [thumbprint, inspect, check];
const USAGE = globalUsage(COMMANDS);

function report(error: unknown, io: CliIo): number {
  if (error instanceof CliError) {
    io.stderr.write(`certbound: ${error.message}\n`);
    if (error instanceof UsageError) io.stderr.write(`\n${error.usage}`);
    return error.exitCode;
  }
  // Not expected: no message (it could quote input), no stack unless asked for.
  const name = error instanceof Error ? error.name : typeof error;
  io.stderr.write(`certbound: unexpected ${name}; set CERTBOUND_DEBUG=1 to see the stack\n`);
  if (process.env.CERTBOUND_DEBUG && error instanceof Error) io.stderr.write(`${error.stack}\n`);
  return EXIT_USAGE;
}

function dispatch(argv: string[], io: CliIo): Promise<number> | number {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError('no command given', USAGE);
  if (first === '-h' || first === '--help') {
    io.stdout.write(USAGE);
    return EXIT_OK;
  }
  if (first === '--version') {
    io.stdout.write(`${VERSION}\n`);
    return EXIT_OK;
  }
  if (first === 'help') {
    const topic = COMMANDS.find((command) => command.name === rest[0]);
    io.stdout.write(topic?.usage ?? USAGE);
    return EXIT_OK;
  }
  const command = COMMANDS.find((candidate) => candidate.name === first);
  if (command === undefined) {
    const message = first.startsWith('-')
      ? `unknown option ${showArgument(first)} (a command's options go after the command)`
      : `unknown command ${showArgument(first)}`;
    throw new UsageError(message, USAGE);
  }
  return command.run(rest, io);
}

/**
 * Runs `certbound` with `argv` (the arguments after the program name) on `io`, and resolves to
 * the exit code: 0 success, 1 the check failed or the token cannot be inspected, 2 usage error or
 * unreadable input. Errors are written to `io.stderr` as one line; it never rejects.
 *
 * @example
 * process.exitCode = await run(process.argv.slice(2), process);
 */
export async function run(argv: string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    return report(error, io);
  }
}
