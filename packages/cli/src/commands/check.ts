/**
 * `certbound check --token <t> --cert <file>`: would this token's binding pass with this client
 * certificate, and if not, why. The decision is core's `checkCertificateBinding`, the verifier's
 * own; the token's signature, issuer, audience and expiry are NOT checked.
 */
import { COMMON_OPTIONS, parseCommand } from '../args.js';
import {
  type BindingMode,
  bindingVerdict,
  confirmedKey,
  confirmedThumbprint,
  verdictLine,
} from '../binding-verdict.js';
import { CERTIFICATE_FORMATS, parseFormat, readCertificate } from '../certificate-input.js';
import type { Command } from '../command.js';
import { CliError, EXIT_FAILED, EXIT_OK, UsageError } from '../errors.js';
import { jsonOutput, showValue, table } from '../format.js';
import { decodeJwtParts, JwtPartsError, notJwtExplanation, tokenShape } from '../jwt-parts.js';
import { readSource, readToken, sourceName } from '../read-input.js';
import { describeTime } from '../time.js';

const usage = `Usage: certbound check --token <token|@file|-> --cert <file|-> [options]

Explains whether a JWT access token is bound (RFC 8705 §3) to a client certificate: the token's
cnf x5t#S256, the certificate's x5t#S256 and subject, and a verdict with a hint. Only the
binding is checked, with the verifier's own code: the token's signature, issuer, audience and
expiry are NOT verified.

Options:
  --token <t>          the token, @file to read it from a file, or - for stdin
  --cert <file>        the client certificate (PEM, DER or a proxy header value; - for stdin)
  --format <format>    how the certificate is encoded (default: detected):
                       ${CERTIFICATE_FORMATS.join(', ')}
  --binding <mode>     required (default): unbound tokens fail; if-present: they pass
  --json               print the verdict and both thumbprints as JSON
  -h, --help           show this help

Exit codes: 0 bound to this certificate (or unbound under --binding if-present), 1 the binding
check fails, 2 usage error or unreadable token/certificate.
`;

function parseBinding(value: string | undefined): BindingMode {
  if (value === undefined || value === 'required' || value === 'if-present') return value ?? 'required';
  throw new UsageError('--binding must be required or if-present', usage);
}

function readClaims(token: string): Record<string, unknown> {
  const shape = tokenShape(token);
  if (shape !== 'jwt') throw new CliError(notJwtExplanation(shape));
  try {
    return decodeJwtParts(token).claims;
  } catch (error) {
    if (!(error instanceof JwtPartsError)) throw error;
    throw new CliError(`cannot decode the token as a JWT: ${error.message}`);
  }
}

function tokenCnf(claims: Record<string, unknown>): string {
  if (!Object.hasOwn(claims, 'cnf')) return '(none: the token has no cnf claim)';
  const value = confirmedThumbprint(claims);
  return value === undefined ? `(cnf is ${showValue(claims.cnf)})` : showValue(value);
}

export const check: Command = {
  name: 'check',
  synopsis: 'check --token <t> --cert <file>',
  summary: 'explain whether a token is bound to a client certificate',
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommand('check', usage, args, {
      ...COMMON_OPTIONS,
      token: { type: 'string' },
      cert: { type: 'string' },
      format: { type: 'string' },
      binding: { type: 'string' },
    });
    if (values.help) {
      io.stdout.write(usage);
      return EXIT_OK;
    }
    if (positionals.length > 0)
      throw new UsageError('check takes no arguments: use --token and --cert', usage);
    if (values.token === undefined) throw new UsageError('--token is required', usage);
    if (values.cert === undefined) throw new UsageError('--cert is required', usage);
    if (values.token === '-' && values.cert === '-') {
      throw new UsageError('--token and --cert cannot both be read from stdin (-)', usage);
    }
    const format = parseFormat(values.format, usage);
    const mode = parseBinding(values.binding);

    const claims = readClaims(await readToken(values.token, io.stdin));
    const name = sourceName(values.cert);
    const certificate = readCertificate(await readSource(values.cert, io.stdin, 'certificate'), format, name);
    const verdict = bindingVerdict(claims, certificate.der, mode);
    const exp = Object.hasOwn(claims, 'exp') ? describeTime('exp', claims.exp, Date.now()) : undefined;
    const code = verdict.ok ? EXIT_OK : EXIT_FAILED;

    if (values.json) {
      io.stdout.write(
        jsonOutput({
          ...verdict,
          binding: mode,
          verified: false,
          token: { cnf: Object.hasOwn(claims, 'cnf') ? claims.cnf : null, exp: exp ?? null },
          certificate: {
            'x5t#S256': certificate.thumbprint,
            subject: certificate.subject,
            format: certificate.format,
          },
        }),
      );
      return code;
    }
    const rows: Array<[string, string]> = [
      ['token cnf x5t#S256', tokenCnf(claims)],
      ['certificate x5t#S256', certificate.thumbprint],
      ['certificate subject', certificate.subject],
      ['certificate format', certificate.format],
    ];
    const jkt = confirmedKey(claims);
    if (jkt !== undefined)
      rows.splice(1, 0, ['token cnf jkt', `${jkt} (DPoP key: proven by a DPoP proof, not checked here)`]);
    if (exp) rows.push(['token exp', `${exp.date} (${exp.relative})`]);
    let out = `${table(rows)}\n${verdictLine(verdict)}\n`;
    if (verdict.hint) out += `  hint: ${verdict.hint}\n`;
    out += "note: only the binding was checked, not the token's signature, issuer, audience or expiry\n";
    io.stdout.write(out);
    return code;
  },
};
