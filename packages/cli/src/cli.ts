/** The `certbound` binary: runs the CLI on the process's arguments and streams. */
import { run } from './index.js';

process.exitCode = await run(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
