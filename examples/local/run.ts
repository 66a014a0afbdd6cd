/**
 * The local mode of the four example APIs: `pnpm example:local <express|koa|fastify|nest>` from
 * the repository root (scripts/example-local.mjs builds the packages if stale, then runs this
 * file with tsx). On loopback only, it
 *   - writes a throw-away PKI into examples/<name>-api/.local/: a CA, the servers' certificate
 *     (localhost, 127.0.0.1), client certificates A (CN=client-a) and B (CN=client-b);
 *   - starts a real authorization server (oidc-provider, as in the demo) that authenticates
 *     clients `client-a` and `client-b` with RFC 8705 `tls_client_auth` and issues JWT access
 *     tokens bound to their certificates, for the client credentials grant;
 *   - writes the example's environment to .local/.env and starts the example exactly as its
 *     README does (tsx src/server.ts, in the example's directory);
 *   - prints the curl commands that get a bound token, call the API with it (200) and with the
 *     other certificate (401), then waits.
 * Ctrl-C (SIGINT), SIGTERM or SIGHUP stop the example and the authorization server and delete
 * .local; so does a failure, with a non-zero status.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AuthorizationServer } from '../../test/support/authorization-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The API's identifier, `aud` of the tokens (the resource indicator at the authorization server). */
const AUDIENCE = 'https://api.example.com';
const SCOPES = ['accounts:read', 'payments:write'];
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
/** Every variable the examples read (src/config.ts): only .env sets them for the example. */
const EXAMPLE_VARIABLES = [
  'ISSUER',
  'AUDIENCE',
  'TLS_CERT_FILE',
  'TLS_KEY_FILE',
  'ISSUER_CA_FILE',
  'PORT',
  'HOST',
  'CERTIFICATE_SOURCE',
  'CERTIFICATE_HEADER_FORMAT',
  'TRUSTED_PROXIES',
  'INTROSPECTION_CLIENT_ID',
  'INTROSPECTION_CLIENT_SECRET',
  'REALM',
];

const usage = 'usage: pnpm example:local <express|koa|fastify|nest> [--port <port>]';
const [name, ...options] = process.argv.slice(2);
let port = '0';
for (let i = 0; i < options.length; i++) {
  if (options[i] !== '--port') fail(`${usage}\nunexpected argument: ${options[i]}`, 2);
  port = options[++i] ?? '';
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535)
    fail(`${usage}\n--port takes a number from 0 to 65535`, 2);
}
const example = `${name}-api`;
const exampleDir = join(ROOT, 'examples', example);
if (!name || !/^[a-z]+$/.test(name) || !existsSync(join(exampleDir, 'src', 'server.ts'))) fail(usage, 2);
const stateDir = join(exampleDir, '.local');
const shown = relative(process.cwd(), stateDir) || '.';

function fail(message: string, status = 1): never {
  console.error(message);
  process.exit(status);
}

/** A word for a POSIX shell: as is when safe, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

let as: AuthorizationServer | undefined;
let api: ChildProcess | undefined;
let ownsStateDir = false;
let stopping: Promise<never> | undefined;

/** Stops the API, then the authorization server, deletes .local and exits with `status`. */
function stop(status: number, why?: string): Promise<never> {
  stopping ??= (async () => {
    if (why) console.error(why);
    if (api && api.exitCode === null && api.signalCode === null) {
      const exited = new Promise((resolve) => api!.once('exit', resolve));
      api.kill('SIGTERM');
      const timer = setTimeout(() => api!.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    await as?.close();
    if (ownsStateDir) await rm(stateDir, { recursive: true, force: true });
    console.log(`\nStopped the ${example} API and the authorization server; deleted ${shown}.`);
    process.exit(status);
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));

/** Refuses to clobber the .local of a local mode still running; a stale one is replaced. */
async function claimStateDir(): Promise<void> {
  const pid = Number(await readFile(join(stateDir, 'pid'), 'utf8').catch(() => ''));
  if (pid > 0 && pid !== process.pid) {
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (alive)
      fail(`${shown} belongs to a local mode of ${example} still running (pid ${pid}): stop it first.`);
  }
  await rm(stateDir, { recursive: true, force: true });
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  ownsStateDir = true;
  await writeFile(join(stateDir, 'pid'), `${process.pid}\n`);
}

/** Starts the example as its README does, with only .env's variables; resolves with its URL. */
function startApi(): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const variable of EXAMPLE_VARIABLES) delete env[variable];
  api = spawn(process.execPath, ['--env-file=.local/.env', '--import', 'tsx', 'src/server.ts'], {
    cwd: exampleDir,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const child = api;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the ${example} API did not start within ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
    let url: string | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const listening = url ? undefined : /^\{"listening":"(https:\/\/[^"]+)"\}$/.exec(line)?.[1];
      if (listening) {
        url = listening;
        clearTimeout(timer);
        resolve(listening);
      } else console.log(line);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const why = `the ${example} API exited (${code ?? signal})`;
      if (!url) reject(new Error(why));
      else void stop(1, `\n${why}: stopping.`);
    });
  });
}

async function main(): Promise<void> {
  await claimStateDir();
  // Loaded only now, so that a second start on a busy .local is refused at once.
  const [{ createTestPki }, { startAuthorizationServer }] = await Promise.all([
    import('../../packages/testing/src/index.js'),
    import('../../test/support/authorization-server.js'),
  ]);
  const pki = await createTestPki({ caSubject: 'CN=certbound local example CA' });
  const [clientA, clientB] = await Promise.all([
    pki.issueClient({ subject: 'CN=client-a, O=certbound local example' }),
    pki.issueClient({ subject: 'CN=client-b, O=certbound local example' }),
  ]);
  const files: Record<string, string> = {
    'ca.pem': pki.ca.cert,
    'server.pem': pki.server.cert,
    'server-key.pem': pki.server.key,
    'client-a.pem': clientA.cert,
    'client-a-key.pem': clientA.key,
    'client-b.pem': clientB.cert,
    'client-b-key.pem': clientB.key,
  };
  for (const [file, pem] of Object.entries(files)) {
    await writeFile(join(stateDir, file), pem, { mode: 0o600 });
  }

  as = await startAuthorizationServer({ pki, resource: AUDIENCE, scopes: SCOPES });
  await as.registerMtlsClient(clientA, { clientId: 'client-a' });
  await as.registerMtlsClient(clientB, { clientId: 'client-b' });
  if (stopping) return;

  // Paths relative to the example's directory, where the API runs.
  const environment = {
    ISSUER: as.issuer,
    AUDIENCE,
    TLS_CERT_FILE: '.local/server.pem',
    TLS_KEY_FILE: '.local/server-key.pem',
    ISSUER_CA_FILE: '.local/ca.pem',
    HOST: '127.0.0.1',
    PORT: port,
  };
  await writeFile(
    join(stateDir, '.env'),
    Object.entries(environment)
      .map(([variable, value]) => `${variable}=${value}\n`)
      .join(''),
  );
  if (stopping) return;
  const url = await startApi();
  if (stopping) return;

  const mtls = (client: 'a' | 'b') =>
    `--cert client-${client}.pem --key client-${client}-key.pem --cacert ca.pem`;
  const tokenRequest = [
    `curl -sS ${mtls('a')} -d grant_type=client_credentials -d client_id=client-a`,
    `-d scope=accounts:read ${as.issuer}/mtls/token`,
  ].join(' ');
  const lines = [
    `certbound example ${example}, local mode (loopback only)`,
    '',
    `  authorization server  ${as.issuer}  oidc-provider: client credentials grant, tls_client_auth, certificate-bound JWTs`,
    `  API                   ${url}  examples/${example}: node --env-file=.local/.env --import tsx src/server.ts`,
    `  test PKI              ${shown}/  ca.pem, server.pem, client-a.pem (client-a), client-b.pem (client-b)`,
    `  certificate A x5t#S256 = ${clientA.thumbprint}`,
    `  certificate B x5t#S256 = ${clientB.thumbprint}`,
    '',
    'In another terminal:',
    '',
    `  cd ${shellWord(stateDir)}`,
    '',
    '1. Get an access token bound to certificate A (client credentials grant; tls_client_auth: the certificate is the credential):',
    '',
    `  TOKEN=$(${tokenRequest} | node -p 'JSON.parse(fs.readFileSync(0)).access_token')`,
    '',
    '2. Call the API with the token and certificate A: 200',
    '',
    `  curl -sS -i ${mtls('a')} -H "Authorization: Bearer $TOKEN" ${url}/accounts`,
    '',
    '3. Call the API with the same token and certificate B: 401, error="invalid_token", code cnf_mismatch',
    '',
    `  curl -sS -i ${mtls('b')} -H "Authorization: Bearer $TOKEN" ${url}/accounts`,
    '',
    `Ctrl-C stops the API and the authorization server and deletes ${shown}.`,
  ];
  console.log(lines.join('\n'));
}

main().catch((error: unknown) =>
  stop(1, `local mode of ${example} failed: ${error instanceof Error ? error.message : String(error)}`),
);
