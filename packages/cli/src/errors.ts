/**
 * How the CLI fails: a {@link CliError} is printed as one line on stderr (never a stack trace,
 * never the token) and becomes the exit code; a {@link UsageError} also prints the usage.
 */

/** The command did what was asked (a bound token, a thumbprint printed). */
export const EXIT_OK = 0;
/** The answer is "no": the binding check failed, or the token cannot be inspected. */
export const EXIT_FAILED = 1;
/** Bad usage or unreadable input: nothing was checked. */
export const EXIT_USAGE = 2;

/** An expected failure: `message` is shown after `certbound: ` and must not contain the token. */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_USAGE) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** A command line that cannot be run as given; the usage follows the message on stderr. */
export class UsageError extends CliError {
  override name = 'UsageError';
  readonly usage: string;

  constructor(message: string, usage: string) {
    super(message, EXIT_USAGE);
    this.usage = usage;
  }
}
