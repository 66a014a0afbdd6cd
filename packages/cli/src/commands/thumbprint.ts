/**
 * `certbound thumbprint <file|->`: the RFC 8705 §3.1 `x5t#S256` of a certificate given as PEM, DER
 * or a proxy header value — the value an authorization server puts in `cnf` for that client.
 */
import { COMMON_OPTIONS, onePositional, parseCommand } from '../args.js';
import { CERTIFICATE_FORMATS, parseFormat, readCertificate } from '../certificate-input.js';
import type { Command } from '../command.js';
import { EXIT_OK } from '../errors.js';
import { jsonOutput } from '../format.js';
import { readSource, sourceName } from '../read-input.js';

const usage = `Usage: certbound thumbprint [options] <file|->

Prints the x5t#S256 of a client certificate (RFC 8705 §3.1: base64url of the SHA-256 of its
DER), the value a certificate-bound token carries in cnf. The input is a PEM or DER file, or
the value of a proxy's client-certificate header; - reads standard input.

Options:
  --format <format>  how the input is encoded (default: detected):
                     ${CERTIFICATE_FORMATS.join(', ')}
  --verbose          say on stderr which format was read, and the certificate's subject
  --json             print {"x5t#S256", "format", "alsoValidAs", "subject"} as JSON
  -h, --help         show this help

Exit codes: 0 printed, 2 usage error or no certificate in the input.
`;

export const thumbprint: Command = {
  name: 'thumbprint',
  synopsis: 'thumbprint <file|->',
  summary: "print a certificate's x5t#S256 (PEM, DER or a proxy header value)",
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommand('thumbprint', usage, args, {
      ...COMMON_OPTIONS,
      format: { type: 'string' },
      verbose: { type: 'boolean' },
    });
    if (values.help) {
      io.stdout.write(usage);
      return EXIT_OK;
    }
    const format = parseFormat(values.format, usage);
    const source = onePositional(positionals, 'a certificate file, or - for stdin', usage);
    const name = sourceName(source);
    const certificate = readCertificate(await readSource(source, io.stdin, 'certificate'), format, name);

    if (values.json) {
      const { thumbprint: value, format: read, alsoValidAs, subject } = certificate;
      io.stdout.write(jsonOutput({ 'x5t#S256': value, format: read, alsoValidAs, subject }));
      return EXIT_OK;
    }
    if (values.verbose) {
      const also =
        certificate.alsoValidAs.length > 0 ? ` (also valid as ${certificate.alsoValidAs.join(', ')})` : '';
      io.stderr.write(
        `certbound: read ${name} as ${certificate.format}${also}; subject ${certificate.subject}\n`,
      );
    }
    io.stdout.write(`${certificate.thumbprint}\n`);
    return EXIT_OK;
  },
};
