/**
 * The examples' local mode as a user meets it: `pnpm example:local <name>` from the repository
 * root, started as a child process in its own process group (as a shell runs a foreground job).
 * The test reads the commands it prints, splits them as a POSIX shell would, and runs them with
 * the real `curl` (and the `node` that extracts the token), in the directory the printed `cd`
 * names: the token request, the call with certificate A (200) and the call with certificate B
 * (401 `cnf_mismatch`). Then Ctrl-C, sent to the whole group as a terminal does, must stop both
 * servers and delete the test PKI. Loopback and ephemeral ports only; no internet.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengesOf } from '../support/challenge.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = ['express', 'koa', 'fastify', 'nest'] as const;
const READY_LINE = /^Ctrl-C stops the API and the authorization server and deletes (.+)\.$/m;
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;

interface Session {
  child: ChildProcess;
  /** Everything printed so far on stdout / stderr. */
  stdout: string;
  stderr: string;
  /** Resolves when every process of the group has exited (stdout and stderr closed). */
  closed: Promise<void>;
  exitCode: number | null;
}

const sessions = new Set<Session>();

/** `pnpm <args>` from the repository root, in a process group of its own. */
function pnpm(args: string[]): Session {
  const child = spawn('pnpm', args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  const session: Session = { child, stdout: '', stderr: '', closed: Promise.resolve(), exitCode: null };
  child.stdout!.on('data', (chunk: Buffer) => {
    session.stdout += chunk.toString('utf8');
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    session.stderr += chunk.toString('utf8');
  });
  session.closed = new Promise((resolve) => {
    child.once('close', (code) => {
      session.exitCode = code;
      sessions.delete(session);
      resolve();
    });
  });
  sessions.add(session);
  return session;
}

/** Resolves once `pattern` appears on stdout; rejects if the group ends first or on timeout. */
function waitFor(session: Session, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`no ${pattern} within ${START_TIMEOUT_MS} ms:\n${session.stdout}\n${session.stderr}`));
    }, START_TIMEOUT_MS);
    const poll = setInterval(() => {
      if (pattern.test(session.stdout)) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve();
      }
    }, 100);
    void session.closed.then(() => {
      if (pattern.test(session.stdout)) return;
      clearInterval(poll);
      clearTimeout(timer);
      reject(
        new Error(`ended (${session.exitCode}) before ${pattern}:\n${session.stdout}\n${session.stderr}`),
      );
    });
  });
}

/** Sends `signal` to every process of the session's group (as Ctrl-C does with SIGINT). */
function signalGroup(session: Session, signal: NodeJS.Signals): void {
  try {
    process.kill(-session.child.pid!, signal);
  } catch {
    // The group is gone already.
  }
}

/** Ctrl-C, then SIGKILL for whatever is still there after a grace period. */
async function stop(session: Session): Promise<void> {
  signalGroup(session, 'SIGINT');
  const timer = setTimeout(() => signalGroup(session, 'SIGKILL'), STOP_TIMEOUT_MS);
  await session.closed;
  clearTimeout(timer);
}

afterAll(async () => {
  await Promise.all([...sessions].map(stop));
});

/**
 * Splits one command line as a POSIX shell does for what the local mode prints: blanks between
 * words, '…' literal, "…" with `$NAME` expanded from `variables`, bare `$NAME` expanded.
 */
function shellWords(line: string, variables: Record<string, string> = {}): string[] {
  const words: string[] = [];
  let word: string | undefined;
  const expand = (name: string) => {
    const value = variables[name];
    if (value === undefined) throw new Error(`unset variable $${name} in: ${line}`);
    return value;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) throw new Error(`unterminated ' in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word ??= '';
      for (i++; line[i] !== '"'; i++) {
        if (i >= line.length) throw new Error(`unterminated " in: ${line}`);
        const name = line[i] === '$' ? /^[A-Za-z_]\w*/.exec(line.slice(i + 1))?.[0] : undefined;
        if (name) {
          word += expand(name);
          i += name.length;
        } else if (line[i] === '\\' && '$`"\\'.includes(line[i + 1] ?? '')) word += line[++i];
        else word += line[i];
      }
    } else if (c === '$' && /^[A-Za-z_]/.test(line.slice(i + 1))) {
      const name = /^[A-Za-z_]\w*/.exec(line.slice(i + 1))![0];
      word = (word ?? '') + expand(name);
      i += name.length;
    } else if (c === '\\') {
      word = (word ?? '') + (line[++i] ?? '');
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs argv (the real binary from PATH, no shell) in `cwd`, with `input` on standard input. */
function run(argv: string[], cwd: string, input = ''): Promise<Run> {
  const [file, ...args] = argv;
  return new Promise((resolve) => {
    const child = execFile(
      file!,
      args,
      { cwd, encoding: 'utf8', timeout: 30_000 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ status, stdout, stderr });
      },
    );
    child.stdin!.end(input);
  });
}

/** `curl -i` output: status, lower-cased headers and body. */
function parseResponse(output: string): { status: number; headers: Record<string, string>; body: string } {
  const split = output.indexOf('\r\n\r\n');
  const [statusLine, ...headerLines] = output.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body: output.slice(split + 4) };
}

/** The commands the local mode prints, in order, as the lines a user copies. */
function printedCommands(stdout: string) {
  const lines = stdout.split('\n');
  const one = (pattern: RegExp) => {
    const found = lines.filter((line) => pattern.test(line));
    expect(found, `one line matching ${pattern} in:\n${stdout}`).toHaveLength(1);
    return found[0]!.trim();
  };
  const calls = lines.filter((line) => line.startsWith('  curl ')).map((line) => line.trim());
  expect(calls, stdout).toHaveLength(2);
  return { cd: one(/^ {2}cd /), token: one(/^ {2}TOKEN=\$\(/), callA: calls[0]!, callB: calls[1]! };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

const decodePayload = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

it('names the examples when given an unknown one, and starts nothing', async () => {
  const session = pnpm(['example:local', 'sinatra']);
  await session.closed;
  expect(session.exitCode).toBe(2);
  expect(session.stderr).toContain(
    'usage: pnpm example:local <express|koa|fastify|nest> [--port <port>]\nno example named "sinatra"\n',
  );
  expect(session.stdout).toBe('');
});

describe.each(EXAMPLES)('pnpm example:local %s', (name) => {
  const example = `${name}-api`;
  const stateDir = join(ROOT, 'examples', example, '.local');
  let session: Session;

  beforeAll(async () => {
    session = pnpm(['example:local', name]);
    await waitFor(session, READY_LINE);
  }, START_TIMEOUT_MS + 5_000);

  afterAll(async () => {
    if (session) await stop(session);
  });

  it('prints curl commands that get a bound token, then 200 with certificate A and 401 cnf_mismatch with B', async () => {
    const commands = printedCommands(session.stdout);
    const [cd, dir] = shellWords(commands.cd);
    expect(cd).toBe('cd');
    expect(dir).toBe(stateDir);

    // TOKEN=$(curl … | node -p …): the two commands of the pipeline, the first one's output the second's input.
    const pipeline = /^TOKEN=\$\((.*)\)$/.exec(commands.token)![1]!.split(' | ');
    expect(pipeline).toHaveLength(2);
    const [tokenRequest, extract] = pipeline.map((command) => shellWords(command));
    expect(tokenRequest![0]).toBe('curl');
    expect(extract![0]).toBe('node');
    const tokenResponse = await run(tokenRequest!, dir!);
    expect(tokenResponse).toMatchObject({ status: 0, stderr: '' });
    expect(JSON.parse(tokenResponse.stdout)).toMatchObject({ token_type: 'Bearer', scope: 'accounts:read' });
    const extracted = await run(extract!, dir!, tokenResponse.stdout);
    expect(extracted).toMatchObject({ status: 0, stderr: '' });
    const token = extracted.stdout.trim();

    // Bound to certificate A (RFC 8705 §3.1), whose thumbprint the local mode printed.
    const der = new X509Certificate(await readFile(join(dir!, 'client-a.pem'))).raw;
    const thumbprint = createHash('sha256').update(der).digest('base64url');
    expect(session.stdout).toContain(`certificate A x5t#S256 = ${thumbprint}`);
    expect(decodePayload(token)).toMatchObject({
      client_id: 'client-a',
      aud: 'https://api.example.com',
      scope: 'accounts:read',
      cnf: { 'x5t#S256': thumbprint },
    });

    const withA = shellWords(commands.callA, { TOKEN: token });
    expect(withA).toContain(`Authorization: Bearer ${token}`);
    const answerA = await run(withA, dir!);
    expect(answerA).toMatchObject({ status: 0, stderr: '' });
    const responseA = parseResponse(answerA.stdout);
    expect(responseA.status).toBe(200);
    expect(JSON.parse(responseA.body)).toEqual({
      accounts: [{ id: 'acc-1', balance: '1200.00' }],
      client: 'client-a',
    });

    const withB = shellWords(commands.callB, { TOKEN: token });
    expect(withB).toContain('client-b.pem');
    const answerB = await run(withB, dir!);
    expect(answerB).toMatchObject({ status: 0, stderr: '' });
    const responseB = parseResponse(answerB.stdout);
    expect(responseB.status).toBe(401);
    expect(responseB.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(responseB.headers['www-authenticate']).toBe(
      challengesOf({ realm: 'api' })({
        error: 'invalid_token',
        description: 'The access token is bound to another certificate',
      }),
    );
    expect(JSON.parse(responseB.body)).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is bound to another certificate',
      code: 'cnf_mismatch',
    });
  });

  it('refuses to start a second time on the same directory while running', async () => {
    const second = pnpm(['example:local', name]);
    await second.closed;
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(
        `examples/${example}/\\.local belongs to a local mode of ${example} still running \\(pid \\d+\\): stop it first\\.`,
      ),
    );
    expect(existsSync(join(stateDir, 'client-a.pem'))).toBe(true);
  });

  it('Ctrl-C stops the API and the authorization server and deletes .local', async () => {
    const ports = [
      ...session.stdout.matchAll(/^ {2}(?:authorization server|API) +https:\/\/127\.0\.0\.1:(\d+)/gm),
    ].map((match) => Number(match[1]));
    expect(ports).toHaveLength(2);
    await stop(session);
    expect(session.stdout.trimEnd().split('\n').at(-1)).toBe(
      `Stopped the ${example} API and the authorization server; deleted examples/${example}/.local.`,
    );
    expect(existsSync(stateDir)).toBe(false);
    for (const port of ports) expect(await refused(port)).toBe(true);
  });
});
