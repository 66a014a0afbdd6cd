/**
 * Output helpers. Tokens and certificates are untrusted input: every value shown on a terminal goes
 * through {@link printable} so a claim cannot carry terminal escape sequences or bidi overrides.
 */

/** Is this code point unsafe to print as is (C0/C1 controls, DEL, line/paragraph separators, bidi controls)? */
function isUnsafe(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x200e ||
    code === 0x200f ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/** The text with unsafe characters written as `\uXXXX`. */
export function printable(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    out += isUnsafe(code) ? `\\u${code.toString(16).padStart(4, '0')}` : char;
  }
  return out;
}

/** A claim or header value for a human: strings as they are, anything else as compact JSON. */
export function showValue(value: unknown): string {
  return printable(typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)));
}

/** Rows of `key  value`, keys padded to one column, each line indented. */
export function table(rows: ReadonlyArray<readonly [string, string]>, indent = ''): string {
  const width = Math.max(0, ...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${indent}${key.padEnd(width)}  ${value}\n`).join('');
}

/** `--json` output: pretty-printed, one trailing newline. */
export function jsonOutput(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

const JWT_SHAPED = /^[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*$/;
const OPAQUE_SHAPED = /^[A-Za-z0-9_~+/=-]{32,}$/;

/**
 * Whether an argument looks like a token (a JWT, or a long run of base64 characters): such an
 * argument is never echoed in an error message, in case a token was passed where a file name or
 * a command was expected.
 */
export function looksLikeToken(text: string): boolean {
  return JWT_SHAPED.test(text) || OPAQUE_SHAPED.test(text);
}

/** An argument (a file name, a command) as an error message may show it. */
export function showArgument(text: string): string {
  return looksLikeToken(text) ? '(argument not shown: it looks like a token)' : printable(text);
}
