/**
 * Command-line parsing with `node:util` `parseArgs` (strict): its errors become
 * {@link UsageError}s with a short message that names the option, never an argument's value.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { showArgument } from './format.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Config<T extends Options> = { args: string[]; options: T; allowPositionals: true; strict: true };
/** `parseArgs`'s result for `T`, typed per option. */
type Parsed<T extends Options> = ReturnType<typeof parseArgs<Config<T>>>;

/** `--help`/`-h` and `--json`, which every command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
} as const satisfies Options;

function describeParseError(error: unknown, command: string): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : '';
  const option = /'(-[^' ]*)/.exec(message)?.[1];
  const name = option === undefined ? 'an option' : showArgument(option);
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${name} for ${command}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (message.includes('argument missing')) return `${name} needs a value`;
      if (message.includes('ambiguous'))
        return `${name} needs a value (write ${name}=-… for one starting with -)`;
      return `${name} does not take a value`;
    default:
      return `cannot parse the arguments of ${command}`;
  }
}

/** Parses `args` for `command`; positionals are allowed, their count is the command's to check. */
export function parseCommand<const T extends Options>(
  command: string,
  usage: string,
  args: string[],
  options: T,
): Parsed<T> {
  try {
    return parseArgs<Config<T>>({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error, command), usage);
  }
}

/** Exactly one positional argument, or a usage error that does not echo any of them. */
export function onePositional(positionals: string[], what: string, usage: string): string {
  const [first] = positionals;
  if (first === undefined) throw new UsageError(`expected ${what}`, usage);
  if (positionals.length > 1) {
    throw new UsageError(`expected one ${what}, got ${positionals.length} arguments`, usage);
  }
  return first;
}
