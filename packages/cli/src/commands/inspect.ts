/**
 * `certbound inspect <token|->`: a JWT access token's protected header, claims, binding and times,
 * decoded WITHOUT verification (a token someone pasted is not trusted because it decodes). The
 * token itself is never printed; an opaque token is explained (exit 1).
 */
import { COMMON_OPTIONS, onePositional, parseCommand } from '../args.js';
import { confirmationStatus, confirmedKey, confirmedThumbprint, verdictLine } from '../binding-verdict.js';
import type { Command } from '../command.js';
import { CliError, EXIT_FAILED, EXIT_OK } from '../errors.js';
import { jsonOutput, printable, showValue, table } from '../format.js';
import { decodeJwtParts, JwtPartsError, notJwtExplanation, tokenShape } from '../jwt-parts.js';
import { readToken } from '../read-input.js';
import { describeTime, TIME_CLAIMS, type TimeClaim, type TimeDescription } from '../time.js';

const usage = `Usage: certbound inspect [options] <token|@file|->

Shows a JWT access token's protected header, claims, cnf (bound to a certificate, a DPoP key, or both) and
exp/nbf/iat as dates, WITHOUT verifying it: nothing shown is trusted. The token is read from
the argument, from a file (@file) or from standard input (-); prefer @file or - so the token
stays out of your shell history. The token itself is never printed.

Options:
  --json      print {"verified", "header", "claims", "binding", "times", "notes"} as JSON
  -h, --help  show this help

Exit codes: 0 shown, 1 not a decodable JWT (opaque tokens must be introspected), 2 usage error
or unreadable input.
`;

const ACCEPTED_TYP = /^(?:application\/)?at\+jwt$/i;

function notes(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  signatureBytes: number,
): string[] {
  const found: string[] = [];
  if (header.alg === 'none' || signatureBytes === 0)
    found.push('unsigned (alg none or no signature): never accepted');
  if (!Object.hasOwn(header, 'typ'))
    found.push('no typ header: never accepted (RFC 9068 §2.1 requires at+jwt)');
  else if (typeof header.typ !== 'string' || !ACCEPTED_TYP.test(header.typ)) {
    found.push(
      `typ is ${showValue(header.typ)}: accepted only if listed in the verifier's acceptedTyp (default at+jwt)`,
    );
  }
  if (!Object.hasOwn(claims, 'exp')) found.push('no exp: a token that never expires is never accepted');
  return found;
}

function times(
  claims: Record<string, unknown>,
  nowMs: number,
): Partial<Record<TimeClaim, TimeDescription | null>> {
  const result: Partial<Record<TimeClaim, TimeDescription | null>> = {};
  for (const claim of TIME_CLAIMS) {
    if (Object.hasOwn(claims, claim)) result[claim] = describeTime(claim, claims[claim], nowMs) ?? null;
  }
  return result;
}

function claimRows(
  claims: Record<string, unknown>,
  described: ReturnType<typeof times>,
): Array<[string, string]> {
  return Object.entries(claims).map(([name, value]) => {
    const time = described[name as TimeClaim];
    if (time === undefined) return [printable(name), showValue(value)];
    if (time === null) return [printable(name), `${showValue(value)} (not a NumericDate)`];
    return [printable(name), `${time.date} (${time.relative})`];
  });
}

export const inspect: Command = {
  name: 'inspect',
  synopsis: 'inspect <token|@file|->',
  summary: 'decode a JWT access token, without verifying it',
  usage,
  async run(args, io) {
    const { values, positionals } = parseCommand('inspect', usage, args, COMMON_OPTIONS);
    if (values.help) {
      io.stdout.write(usage);
      return EXIT_OK;
    }
    const token = await readToken(
      onePositional(positionals, 'a token, @file, or - for stdin', usage),
      io.stdin,
    );
    const shape = tokenShape(token);
    if (shape !== 'jwt') throw new CliError(notJwtExplanation(shape), EXIT_FAILED);
    let parts: ReturnType<typeof decodeJwtParts>;
    try {
      parts = decodeJwtParts(token);
    } catch (error) {
      if (!(error instanceof JwtPartsError)) throw error;
      throw new CliError(`cannot decode the token as a JWT: ${error.message}`, EXIT_FAILED);
    }
    const { header, claims, signatureBytes } = parts;
    const described = times(claims, Date.now());
    const binding = confirmationStatus(claims);
    const thumbprint = binding.verdict === 'bound' ? (confirmedThumbprint(claims) ?? null) : null;
    const jkt = binding.verdict === 'bound' ? (confirmedKey(claims) ?? null) : null;
    const found = notes(header, claims, signatureBytes);

    if (values.json) {
      const { verdict: status, message, hint } = binding;
      io.stdout.write(
        jsonOutput({
          verified: false,
          header,
          claims,
          binding: { status, 'x5t#S256': thumbprint, jkt, message, ...(hint ? { hint } : {}) },
          times: described,
          notes: found,
        }),
      );
      return EXIT_OK;
    }
    let out = 'JWT, decoded only: not verified (signature, issuer and audience were not checked)\n';
    out += `\nProtected header\n${table(
      Object.entries(header).map(([k, v]) => [printable(k), showValue(v)]),
      '  ',
    )}`;
    out += `\nClaims\n${table(claimRows(claims, described), '  ')}`;
    out += `\nBinding\n  ${verdictLine(binding)}\n`;
    if (thumbprint !== null) out += `    x5t#S256  ${thumbprint}\n`;
    if (jkt !== null) out += `    jkt       ${jkt}\n`;
    if (binding.hint) out += `    hint: ${binding.hint}\n`;
    if (found.length > 0) out += `\nNotes\n${found.map((note) => `  - ${note}\n`).join('')}`;
    io.stdout.write(out);
    return EXIT_OK;
  },
};
