/** What every command is: a name, its help, and a `run` over arguments and streams. */
import type { InputStream } from './read-input.js';

/** Where output goes (`process.stdout`, or a collector in tests). */
export interface TextSink {
  write(chunk: string): unknown;
}

/** The streams a run reads and writes: `process.stdin/stdout/stderr` in the binary. */
export interface CliIo {
  stdin: InputStream;
  stdout: TextSink;
  stderr: TextSink;
}

export interface Command {
  name: string;
  /** One line for the global help: `thumbprint <file|->`. */
  synopsis: string;
  /** What it does, in a few words, for the global help. */
  summary: string;
  /** The full `--help` text. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[], io: CliIo): Promise<number>;
}
