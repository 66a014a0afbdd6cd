/** The global `certbound --help` text, built from the commands' synopses. */
import type { Command } from './command.js';

export function globalUsage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.synopsis.length));
  const lines = commands.map((command) => `  ${command.synopsis.padEnd(width)}  ${command.summary}`);
  return `Usage: certbound <command> [options]

Operator tools for RFC 8705 certificate-bound OAuth access tokens.

Commands:
${lines.join('\n')}

Options:
  -h, --help  show this help (certbound <command> --help for a command's options)
  --version   print the version

Exit codes: 0 success, 1 the check failed (or the token cannot be inspected), 2 usage error or
unreadable input.
`;
}
