/**
 * The `certbound` binary, run as operators run it (a child process of the built dist/cli.js):
 * exit code, stdout and stderr of each command. Certificates and tokens come from
 * `@certbound/testing`, whose thumbprints are computed independently of core, and from the
 * committed RFC 8705 Appendix A certificate with its known `x5t#S256`.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTestIssuer,
  createTestPki,
  dpopThumbprint,
  type TestCertificate,
  type TestIssuer,
} from '@certbound/testing';
import { generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/index.js';
import { certbound, ensureBuilt, root } from './run-cli.js';

const APPENDIX_A_PEM = readFileSync(join(root, 'packages/core/test/fixtures/rfc8705-appendix-a.pem'), 'utf8');
const APPENDIX_A_DER = new X509Certificate(APPENDIX_A_PEM).raw;
const APPENDIX_A_X5T = 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0';
const VERSION = (
  JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8')) as { version: string }
).version;
const NOT_CHECKED =
  "note: only the binding was checked, not the token's signature, issuer, audience or expiry\n";

const b64url = (value: string) => Buffer.from(value).toString('base64url');
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

let dir: string;
let issuer: TestIssuer;
let client: TestCertificate;
let files = 0;
/** Writes `content` to a new file in the temporary directory and returns its path (tests run concurrently). */
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, `${++files}-${name}`);
  writeFileSync(path, content);
  return path;
};

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'certbound-cli-'));
  const pki = await createTestPki();
  issuer = await createTestIssuer({ pki, algorithms: ['ES256'] });
  client = await pki.issueClient({ subject: 'CN=client-a, O=Example' });
});

afterAll(async () => {
  await issuer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.concurrent('certbound thumbprint', () => {
  it('prints the x5t#S256 of the RFC 8705 Appendix A certificate from a PEM file', async () => {
    const pem = file('appendix-a.pem', APPENDIX_A_PEM);
    expect(await certbound(['thumbprint', pem])).toEqual({
      code: 0,
      stdout: `${APPENDIX_A_X5T}\n`,
      stderr: '',
    });
  });

  it('reads a DER file, and says so with --verbose', async () => {
    const der = file('appendix-a.der', APPENDIX_A_DER);
    expect(await certbound(['thumbprint', '--verbose', der])).toEqual({
      code: 0,
      stdout: `${APPENDIX_A_X5T}\n`,
      stderr: `certbound: read ${der} as der; subject CN=mtls\n`,
    });
  });

  it('reads standard input with -', async () => {
    expect(await certbound(['thumbprint', '-'], APPENDIX_A_PEM)).toEqual({
      code: 0,
      stdout: `${APPENDIX_A_X5T}\n`,
      stderr: '',
    });
  });

  it('gives the thumbprint computed independently of core for a generated client certificate', async () => {
    const pem = file('client.pem', client.cert);
    expect(await certbound(['thumbprint', pem])).toEqual({
      code: 0,
      stdout: `${client.thumbprint}\n`,
      stderr: '',
    });
  });

  const pem = APPENDIX_A_PEM;
  const der = APPENDIX_A_DER;
  const urlPem = encodeURIComponent(pem);
  const headerValues = {
    rfc9440: `:${der.toString('base64')}:`,
    'url-pem': urlPem,
    xfcc: `By=spiffe://example/api;Hash=${createHash('sha256').update(der).digest('hex')};Cert="${urlPem}"`,
    'base64-der': der.toString('base64'),
    traefik: der.toString('base64'),
    'aws-alb': urlPem.replaceAll('%2B', '+').replaceAll('%2F', '/').replaceAll('%3D', '='),
    pem: pem.trim().replaceAll('\n', ' '),
  };

  it.each(Object.entries(headerValues))(
    'decodes a %s header value given with --format',
    async (format, value) => {
      const input = file(`header-${format}.txt`, `${value}\n`);
      expect(await certbound(['thumbprint', '--format', format, input])).toEqual({
        code: 0,
        stdout: `${APPENDIX_A_X5T}\n`,
        stderr: '',
      });
    },
  );

  it.each([
    ['rfc9440', headerValues.rfc9440, []],
    ['xfcc', headerValues.xfcc, []],
    ['url-pem', headerValues['url-pem'], ['aws-alb']],
    // A bare base64 DER is also Traefik's format, which HEADER_FORMATS lists first.
    ['traefik', headerValues['base64-der'], ['base64-der']],
  ])(
    'detects a %s header value without --format and names it in --json',
    async (format, value, alsoValidAs) => {
      const result = await certbound(['thumbprint', '--json', '-'], value);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(result.stdout)).toEqual({
        'x5t#S256': APPENDIX_A_X5T,
        format,
        alsoValidAs,
        subject: 'CN=mtls',
      });
    },
  );

  it('names the detected header format on stderr with --verbose', async () => {
    expect(await certbound(['thumbprint', '--verbose', '-'], headerValues['url-pem'])).toEqual({
      code: 0,
      stdout: `${APPENDIX_A_X5T}\n`,
      stderr: 'certbound: read stdin as url-pem (also valid as aws-alb); subject CN=mtls\n',
    });
  });

  it('explains why a value does not decode in the --format given', async () => {
    const hash = createHash('sha256').update(der).digest('hex');
    const input = file('no-cert.txt', `By=spiffe://example/api;Hash=${hash};Subject="CN=mtls"`);
    expect(await certbound(['thumbprint', '--format', 'xfcc', input])).toEqual({
      code: 2,
      stdout: '',
      stderr: `certbound: ${input} is not a valid xfcc certificate: no Cert= in the element (Envoy: set_current_client_cert_details cert: true)\n`,
    });
  });

  it('refuses a PEM file holding a chain: only the client certificate is bound', async () => {
    const chain = file('chain.pem', `${client.cert}${issuer.pki.ca.cert}`);
    expect(await certbound(['thumbprint', chain])).toEqual({
      code: 2,
      stdout: '',
      stderr: `certbound: ${chain} is not a valid pem certificate: holds several PEM blocks: give only the client (leaf) certificate\n`,
    });
  });

  it('refuses input that is no certificate in any format', async () => {
    expect(await certbound(['thumbprint', '-'], 'hello world\n')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'certbound: no certificate found in stdin: not PEM, DER or a value in any header format ' +
        '(rfc9440, xfcc, url-pem, aws-alb, traefik, base64-der, pem); pass --format to see why it does not decode\n',
    });
  });

  it('reports a missing file in one line, exit 2', async () => {
    expect(await certbound(['thumbprint', 'client.pem'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'certbound: cannot read client.pem: no such file\n',
    });
  });

  it('refuses an unknown --format as a usage error', async () => {
    const result = await certbound(['thumbprint', '--format', 'cer', 'client.pem']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^certbound: --format must be one of der, rfc9440, xfcc, url-pem, aws-alb, traefik, base64-der, pem\n\nUsage: certbound thumbprint /,
    );
  });
});

describe.concurrent('certbound inspect', () => {
  async function boundToken() {
    const now = Math.floor(Date.now() / 1000);
    const iat = now - 2 * 3600;
    const exp = now + 3 * 3600;
    const token = await issuer.mintAccessToken({
      certificate: client,
      scope: 'accounts:read',
      header: { kid: 'key-1' },
      claims: { iat, exp, jti: 'jti-1' },
    });
    return { token, iat, exp };
  }

  it('shows the header, claims, binding and times, says it is not verified, and never prints the token', async () => {
    const { token, iat, exp } = await boundToken();
    const result = await certbound(['inspect', token]);
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: `JWT, decoded only: not verified (signature, issuer and audience were not checked)

Protected header
  alg  ES256
  kid  key-1
  typ  at+jwt

Claims
  iss        ${issuer.issuer}
  aud        https://api.example.test
  sub        client-a
  client_id  client-a
  iat        ${iso(iat)} (issued 2 hours ago)
  exp        ${iso(exp)} (expires in 3 hours)
  jti        jti-1
  scope      accounts:read
  cnf        {"x5t#S256":"${client.thumbprint}"}

Binding
  ✔ certificate-bound (cnf x5t#S256, RFC 8705 §3.1)
    x5t#S256  ${client.thumbprint}
`,
    });
    expect(result.stdout).not.toContain(token);
    expect(result.stdout).not.toContain(token.split('.')[2]);
  });

  it('prints the decoded token as JSON with --json, verified: false', async () => {
    const { token, iat, exp } = await boundToken();
    const result = await certbound(['inspect', '--json', '-'], `Bearer ${token}\n`);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).not.toContain(token);
    expect(JSON.parse(result.stdout)).toEqual({
      verified: false,
      header: { alg: 'ES256', kid: 'key-1', typ: 'at+jwt' },
      claims: {
        iss: issuer.issuer,
        aud: 'https://api.example.test',
        sub: 'client-a',
        client_id: 'client-a',
        iat,
        exp,
        jti: 'jti-1',
        scope: 'accounts:read',
        cnf: { 'x5t#S256': client.thumbprint },
      },
      binding: {
        status: 'bound',
        'x5t#S256': client.thumbprint,
        jkt: null,
        message: 'certificate-bound (cnf x5t#S256, RFC 8705 §3.1)',
      },
      times: {
        iat: { date: iso(iat), relative: 'issued 2 hours ago', secondsFromNow: expect.any(Number) },
        exp: { date: iso(exp), relative: 'expires in 3 hours', secondsFromNow: expect.any(Number) },
      },
      notes: [],
    });
  });

  it('says when an unbound token expired, reading it from @file', async () => {
    const token = await issuer.mintAccessToken({ expiresIn: -2 * 3600, claims: { iat: undefined } });
    const result = await certbound(['inspect', `@${file('expired.jwt', `${token}\n`)}`]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^ {2}exp {8}\S+ \(expired 2 hours ago\)$/m);
    expect(result.stdout).toContain(
      '\nBinding\n  ✘ not certificate-bound (no cnf claim): refused under the default binding: required\n',
    );
    expect(result.stdout).not.toContain(token);
  });

  it('shows a malformed cnf with its code and a hint', async () => {
    const hex = createHash('sha256').update(client.der).digest('hex');
    const token = await issuer.mintAccessToken({ claims: { cnf: { 'x5t#S256': hex } } });
    const result = await certbound(['inspect', token]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      '\nBinding\n  ✘ cnf_malformed: the token is bound, but its cnf claim is malformed\n' +
        '    hint: cnf must be {"x5t#S256": "<43-character unpadded base64url SHA-256 of the DER>"}; ' +
        'hex, padded or standard base64 values are refused, not normalized\n',
    );
  });

  it('shows a DPoP-bound token with its cnf jkt', async () => {
    const key = await generateKeyPair('ES256', { extractable: true });
    const token = await issuer.mintAccessToken({ dpopKey: key });
    const jkt = await dpopThumbprint(key);
    const result = await certbound(['inspect', token]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      '\nBinding\n  ✔ DPoP-bound (cnf jkt, RFC 9449 §6.1): sent as "Authorization: DPoP" with a proof of that key\n' +
        `    jkt       ${jkt}\n`,
    );
  });

  it('shows a token bound to a certificate and a DPoP key with both thumbprints', async () => {
    const key = await generateKeyPair('ES256', { extractable: true });
    const token = await issuer.mintAccessToken({ dpopKey: key, certificate: client });
    const result = await certbound(['inspect', '--json', token]);
    expect(JSON.parse(result.stdout).binding).toEqual({
      status: 'bound',
      'x5t#S256': client.thumbprint,
      jkt: await dpopThumbprint(key),
      message: 'bound to a certificate and a DPoP key (cnf x5t#S256 and jkt): the API needs both proofs',
    });
  });

  it('escapes control characters in claims instead of sending them to the terminal', async () => {
    const token = await issuer.mintAccessToken({ claims: { sub: 'evil\u001b[2Jname' } });
    const result = await certbound(['inspect', token]);
    expect(result.stdout).toContain('  sub        evil\\u001b[2Jname\n');
    expect(result.stdout).not.toContain('\u001b');
  });

  it('explains that an opaque token must be introspected, exit 1, without printing it', async () => {
    const token = issuer.mintOpaqueToken({ certificate: client });
    // On standard input: a random token may start with `-`, which the argument parser reads as an option.
    expect(await certbound(['inspect', '-'], `${token}\n`)).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'certbound: the token is opaque (not a JWT): its claims and cnf are known only to the authorization ' +
        'server; introspect it (RFC 7662) to see them\n',
    });
  });

  it('explains that an encrypted token (JWE) must be introspected too, exit 1', async () => {
    const jwe = [b64url('{"alg":"RSA-OAEP-256","enc":"A256GCM"}'), 'a', 'b', 'c', 'd'].join('.');
    expect(await certbound(['inspect', '-'], jwe)).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'certbound: the token is an encrypted JWT (JWE, 5 parts): only the authorization server can read it; ' +
        'introspect it (RFC 7662) to see its claims and cnf\n',
    });
  });

  it.each([
    ['a payload that is not JSON', b64url('not json'), 'the payload is not JSON'],
    ['a payload that is an array', b64url('[1,2]'), 'the payload is JSON but not an object (it is an array)'],
    ['a payload that is not base64url', 'eyJ+c3ViIjoiYSJ9', 'the payload is not base64url'],
  ])('refuses a JWT with %s, exit 1', async (_, payload, reason) => {
    const token = `${b64url('{"alg":"ES256","typ":"at+jwt"}')}.${payload}.${b64url('signature')}`;
    expect(await certbound(['inspect', token])).toEqual({
      code: 1,
      stdout: '',
      stderr: `certbound: cannot decode the token as a JWT: ${reason}\n`,
    });
  });

  it('needs exactly one token', async () => {
    const result = await certbound(['inspect']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^certbound: expected a token, @file, or - for stdin\n\nUsage: certbound inspect /,
    );
  });
});

describe.concurrent('certbound check', () => {
  async function check(token: string, certificate: string, ...extra: string[]) {
    return certbound([
      'check',
      '--token',
      `@${file('token.jwt', token)}`,
      '--cert',
      file('cert.pem', certificate),
      ...extra,
    ]);
  }

  it('confirms a token bound to this certificate, exit 0', async () => {
    const token = await issuer.mintAccessToken({ certificate: client, expiresIn: 3 * 3600 });
    const result = await check(token, client.cert);
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: `token cnf x5t#S256    ${client.thumbprint}
certificate x5t#S256  ${client.thumbprint}
certificate subject   CN=client-a, O=Example
certificate format    pem
token exp             ${iso(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp)} (expires in 3 hours)

✔ bound to this certificate
${NOT_CHECKED}`,
    });
  });

  it('explains cnf_mismatch for a look-alike certificate (same subject, another key), exit 1', async () => {
    const token = await issuer.mintAccessToken({ certificate: client, claims: { exp: undefined } });
    const lookAlike = await issuer.pki.lookAlike(client);
    expect(await check(token, lookAlike.cert)).toEqual({
      code: 1,
      stderr: '',
      stdout: `token cnf x5t#S256    ${client.thumbprint}
certificate x5t#S256  ${lookAlike.thumbprint}
certificate subject   CN=client-a, O=Example
certificate format    pem

✘ cnf_mismatch: the token is bound to another certificate
  hint: a renewed certificate needs a new token; behind a proxy the API may be seeing the proxy's certificate
${NOT_CHECKED}`,
    });
  });

  it('fails an unbound token with token_unbound, exit 1, and accepts it under --binding if-present', async () => {
    const token = await issuer.mintAccessToken({ claims: { exp: undefined } });
    const required = await check(token, client.cert);
    expect(required.code).toBe(1);
    expect(required.stdout).toContain('token cnf x5t#S256    (none: the token has no cnf claim)\n');
    expect(required.stdout).toContain(
      '\n✘ token_unbound: the token is not certificate-bound (it has no cnf claim)\n  hint: the client must',
    );
    const ifPresent = await check(token, client.cert, '--binding', 'if-present');
    expect(ifPresent.code).toBe(0);
    expect(ifPresent.stdout).toContain('\n✔ not certificate-bound, accepted under --binding if-present\n');
  });

  it.each([
    [
      'cnf_malformed',
      { 'x5t#S256': `${'A'.repeat(43)}=` },
      'the token is bound, but its cnf claim is malformed',
    ],
    [
      'cnf_unsupported',
      { jkt: 'A'.repeat(43) },
      'the token is not bound to a certificate it can be checked against (cnf has no x5t#S256)',
    ],
  ])('explains %s, exit 1', async (code, cnf, message) => {
    const token = await issuer.mintAccessToken({ claims: { cnf } });
    const result = await check(token, client.cert, '--json');
    expect(result).toMatchObject({ code: 1, stderr: '' });
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      verdict: code,
      message,
      hint: expect.any(String),
      binding: 'required',
      verified: false,
      token: { cnf },
      certificate: { 'x5t#S256': client.thumbprint, subject: 'CN=client-a, O=Example', format: 'pem' },
    });
  });

  it('reads the certificate from a proxy header value and the token from stdin', async () => {
    const token = await issuer.mintAccessToken({ certificate: { thumbprint: APPENDIX_A_X5T } });
    const header = file('client-cert.txt', `:${APPENDIX_A_DER.toString('base64')}:`);
    const result = await certbound(
      ['check', '--token', '-', '--cert', header, '--format', 'rfc9440', '--json'],
      `${token}\n`,
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).not.toContain(token);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: true,
      verdict: 'bound',
      message: 'bound to this certificate',
      token: { cnf: { 'x5t#S256': APPENDIX_A_X5T } },
      certificate: { 'x5t#S256': APPENDIX_A_X5T, subject: 'CN=mtls', format: 'rfc9440' },
    });
  });

  it('refuses an opaque token as unreadable input, exit 2: only introspection knows its cnf', async () => {
    const token = issuer.mintOpaqueToken({ certificate: client });
    const result = await check(token, client.cert);
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'certbound: the token is opaque (not a JWT): its claims and cnf are known only to the authorization ' +
        'server; introspect it (RFC 7662) to see them\n',
    });
  });

  it('reports an unreadable certificate file without echoing the token, exit 2', async () => {
    const token = await issuer.mintAccessToken({ certificate: client });
    expect(await certbound(['check', '--token', token, '--cert', 'client.pem'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'certbound: cannot read client.pem: no such file\n',
    });
  });

  it.each([
    [['check', '--cert', 'client.pem'], '--token is required'],
    [['check', '--token', '-', '--cert', '-'], '--token and --cert cannot both be read from stdin (-)'],
    [
      ['check', '--token', 'x', '--cert', 'y', '--binding', 'optional'],
      '--binding must be required or if-present',
    ],
    [['check', '--token'], '--token needs a value'],
  ])('refuses %j as a usage error with the command usage, exit 2', async (args, message) => {
    const result = await certbound(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n\n')[0]).toBe(`certbound: ${message}`);
    expect(result.stderr).toContain('\n\nUsage: certbound check ');
  });
});

describe.concurrent('certbound help, version and usage errors', () => {
  it('prints the global help on stdout with --help and -h, exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const result = await certbound([flag]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^Usage: certbound <command> \[options\]\n/);
      for (const command of [
        'thumbprint <file|->',
        'inspect <token|@file|->',
        'check --token <t> --cert <file>',
      ]) {
        expect(result.stdout).toContain(`\n  ${command}`);
      }
    }
  });

  it.each(['thumbprint', 'inspect', 'check'])(
    'prints the help of %s with --help, exit 0',
    async (command) => {
      const result = await certbound([command, '--help']);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(new RegExp(`^Usage: certbound ${command} `));
      expect(result.stdout).toContain('\nExit codes: ');
    },
  );

  it('prints the version from package.json', async () => {
    expect(await certbound(['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('refuses an unknown command with the usage on stderr, exit 2', async () => {
    const result = await certbound(['verify', 'x']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^certbound: unknown command verify\n\nUsage: certbound <command> \[options\]\n/,
    );
  });

  it('refuses an option before the command, exit 2', async () => {
    const result = await certbound(['--json', 'thumbprint', 'client.pem']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^certbound: unknown option --json \(a command's options go after the command\)\n\nUsage: certbound <command>/,
    );
  });

  it('refuses an unknown option of a command with its usage, exit 2', async () => {
    const result = await certbound(['thumbprint', '--sha1', 'client.pem']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^certbound: unknown option --sha1 for thumbprint\n\nUsage: certbound thumbprint /,
    );
  });

  it('never echoes a token given where a command is expected', async () => {
    const token = await issuer.mintAccessToken({ certificate: client });
    const result = await certbound([token]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^certbound: unknown command \(argument not shown: it looks like a token\)\n/,
    );
  });

  it('runs in-process through run(), the package export', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const stdin = (async function* () {
      yield Buffer.from(APPENDIX_A_PEM);
    })();
    const code = await run(['thumbprint', '-'], {
      stdin,
      stdout: { write: (chunk: string) => out.push(chunk) },
      stderr: { write: (chunk: string) => err.push(chunk) },
    });
    expect({ code, stdout: out.join(''), stderr: err.join('') }).toEqual({
      code: 0,
      stdout: `${APPENDIX_A_X5T}\n`,
      stderr: '',
    });
  });
});
