/**
 * Real TLS-terminating reverse proxies for integration tests: nginx and HAProxy, started in the
 * foreground on an ephemeral loopback port, each from its own temporary directory (configuration,
 * PEM files, pid, logs and temp files: nothing under /etc, /var or /run).
 *
 * Both ask for a client certificate without validating it (RFC 8705 §6.2: the TLS handshake is the
 * proof of possession; binding, not a CA, decides) and forward it to a plain-HTTP upstream:
 * - nginx as `X-SSL-Client-Cert: <$ssl_client_escaped_cert>` (URL-encoded PEM, `url-pem`);
 * - HAProxy as `Client-Cert: :<base64 DER>:` (RFC 9440).
 * Each one removes any copy of that header sent by the client and sends none when the client
 * presented no certificate (RFC 9440 §2.4; packages/core/docs/proxies.md).
 *
 * Processes are killed by `close()`, on process exit, and by a watchdog should this process die
 * without running its exit handlers. Never use this outside a test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { connect } from 'node:tls';
import type { TestPki } from '../../packages/testing/src/index.js';

export type ProxyKind = 'nginx' | 'haproxy';

export interface RunningProxy {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** Stops the proxy (SIGTERM, then SIGKILL) and removes its directory. Safe to call twice. */
  close(): Promise<void>;
  /** What the proxy printed and logged so far (error and access logs included), for failure messages. */
  logs(): string;
}

export interface ProxyOptions {
  /** `pki.server` is the proxy's TLS certificate; `pki.ca` is HAProxy's `ca-file`. */
  pki: TestPki;
  /** Where requests go, over plain HTTP: `http://127.0.0.1:<port>`. */
  upstream: string;
  /** The certificate header. Default: `X-SSL-Client-Cert` (nginx), `Client-Cert` (HAProxy). */
  header?: string;
}

/** The header each proxy sets by default. */
export const DEFAULT_PROXY_HEADERS: Record<ProxyKind, string> = {
  nginx: 'X-SSL-Client-Cert',
  haproxy: 'Client-Cert',
};

const SBIN_DIRECTORIES = ['/usr/sbin', '/usr/local/sbin', '/sbin'];
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 3_000;
const PORT_ATTEMPTS = 5;

/** The proxy's binary: `$NGINX_BIN` / `$HAPROXY_BIN`, else the first one on PATH or in an sbin. */
export function proxyBinary(kind: ProxyKind): string | undefined {
  const override = process.env[`${kind.toUpperCase()}_BIN`];
  const directories = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN_DIRECTORIES];
  const candidates = override ? [override] : directories.map((directory) => join(directory, kind));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
}

/** Whether the proxy's binary is installed. */
export function proxyAvailable(kind: ProxyKind): boolean {
  return proxyBinary(kind) !== undefined;
}

/** nginx: `ssl_verify_client optional_no_ca`, `proxy_set_header <header> $ssl_client_escaped_cert`. */
export function startNginx(options: ProxyOptions): Promise<RunningProxy> {
  const header = headerName(options.header ?? DEFAULT_PROXY_HEADERS.nginx);
  const upstream = upstreamOf(options.upstream);
  return launch('nginx', options.pki, async (dir, port) => {
    await mkdir(join(dir, 'temp'));
    await writeFile(join(dir, 'nginx.conf'), nginxConfig({ dir, port, upstream, header }));
    return ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')];
  });
}

/** HAProxy: `verify optional` ignoring every verification error, `Client-Cert: :%[ssl_c_der,base64]:`. */
export function startHaproxy(options: ProxyOptions): Promise<RunningProxy> {
  const header = headerName(options.header ?? DEFAULT_PROXY_HEADERS.haproxy);
  const upstream = upstreamOf(options.upstream);
  return launch('haproxy', options.pki, async (dir, port) => {
    await writeFile(join(dir, 'haproxy.cfg'), haproxyConfig({ dir, port, upstream, header }));
    return ['-f', join(dir, 'haproxy.cfg'), '-db'];
  });
}

interface TemplateValues {
  /** The proxy's directory (holds server.crt, server.key, server.pem, ca.pem). */
  dir: string;
  port: number;
  /** `host:port` of the plain-HTTP upstream. */
  upstream: string;
  header: string;
}

export function nginxConfig({ dir, port, upstream, header }: TemplateValues): string {
  return `# certbound test proxy: nginx terminates TLS and forwards the client certificate.
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log notice;

events {
  worker_connections 64;
}

http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/temp/client_body;
  proxy_temp_path ${dir}/temp/proxy;
  fastcgi_temp_path ${dir}/temp/fastcgi;
  uwsgi_temp_path ${dir}/temp/uwsgi;
  scgi_temp_path ${dir}/temp/scgi;

  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${dir}/server.crt;
    ssl_certificate_key ${dir}/server.key;
    # Ask for a client certificate, accept any (RFC 8705 §6.2): possession of its key is proven
    # by the handshake, and the token's cnf binding decides.
    ssl_verify_client optional_no_ca;

    location / {
      proxy_pass http://${upstream};
      # Replaces every client-sent ${header}; an empty value (no certificate) sends none.
      proxy_set_header ${header} $ssl_client_escaped_cert;
    }
  }
}
`;
}

export function haproxyConfig({ dir, port, upstream, header }: TemplateValues): string {
  return `# certbound test proxy: HAProxy terminates TLS and forwards the client certificate (RFC 9440).
global
  nbthread 1
  log stderr format raw local0 info

defaults
  mode http
  log global
  option httplog
  option dontlognull
  timeout connect 5s
  timeout client 30s
  timeout server 30s

frontend certbound_edge
  # verify optional + ca-file asks for a certificate (naming the test CA); ca-ignore-err and
  # crt-ignore-err accept any certificate, from any CA or self-signed (RFC 8705 §6.2).
  bind 127.0.0.1:${port} ssl crt ${dir}/server.pem verify optional ca-file ${dir}/ca.pem ca-ignore-err all crt-ignore-err all
  http-request del-header ${header}
  http-request set-header ${header} :%[ssl_c_der,base64]: if { ssl_c_used }
  default_backend certbound_app

backend certbound_app
  server app ${upstream}
`;
}

function headerName(name: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(name))
    throw new TypeError(`Invalid proxy header name: ${JSON.stringify(name)}`);
  return name;
}

/** `http://host:port` → `host:port` (IPv4 literal, explicit port, nothing else). */
function upstreamOf(upstream: string): string {
  const url = new URL(upstream);
  if (
    url.protocol !== 'http:' ||
    !/^\d{1,3}(\.\d{1,3}){3}$/.test(url.hostname) ||
    url.port === '' ||
    url.pathname !== '/' ||
    url.search !== '' ||
    url.username !== ''
  ) {
    throw new TypeError(`upstream must look like http://127.0.0.1:<port>, got ${upstream}`);
  }
  return url.host;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

interface Tracked {
  child: ChildProcess;
  dir: string;
  watchdog: ChildProcess | undefined;
}

const running = new Set<Tracked>();
let exitHookInstalled = false;

/** Last resort when the test process exits without closing its proxies (synchronous only). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const tracked of running) {
      tracked.child.kill('SIGKILL');
      stopWatchdog(tracked.watchdog);
      rmSync(tracked.dir, { recursive: true, force: true });
    }
    running.clear();
  });
}

/**
 * A shell that kills the proxy and removes its directory once this process is gone, even without
 * exit handlers (SIGKILL, a crashed worker): it blocks reading a pipe from this process, whose end
 * the kernel closes when this process dies. It has no children of its own; `close()` kills it.
 */
function spawnWatchdog(pid: number, dir: string): ChildProcess | undefined {
  try {
    const script = 'read -r _; kill -KILL "$1" 2>/dev/null; rm -rf "$2"';
    const watchdog = spawn('/bin/sh', ['-c', script, 'proxy-watchdog', String(pid), dir], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    watchdog.on('error', () => {});
    watchdog.stdin?.on('error', () => {});
    (watchdog.stdin as Socket | null)?.unref();
    watchdog.unref();
    return watchdog;
  } catch {
    return undefined;
  }
}

function stopWatchdog(watchdog: ChildProcess | undefined): void {
  if (watchdog === undefined || exited(watchdog)) return;
  watchdog.kill('SIGKILL');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a TLS handshake (without a client certificate) completes on the port. */
function acceptsTls(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    let ok = false;
    socket.setTimeout(1_000, () => socket.destroy());
    // Once the handshake is done, flush our side (TLS 1.3: the client's Finished, close_notify)
    // before closing, so that the proxy logs no handshake failure; proxies keep half-closed
    // connections open, so do not wait for theirs.
    socket.once('secureConnect', () => {
      ok = true;
      socket.end(() => socket.destroy());
    });
    socket.on('error', () => socket.destroy());
    socket.once('close', () => resolve(ok));
  });
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function writePemFiles(dir: string, pki: TestPki): Promise<void> {
  const pem = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);
  await writeFile(join(dir, 'server.crt'), pem(pki.server.cert));
  await writeFile(join(dir, 'server.key'), pem(pki.server.key), { mode: 0o600 });
  await writeFile(join(dir, 'server.pem'), pem(pki.server.cert) + pem(pki.server.key), { mode: 0o600 });
  await writeFile(join(dir, 'ca.pem'), pem(pki.ca.cert));
}

async function launch(
  kind: ProxyKind,
  pki: TestPki,
  configure: (dir: string, port: number) => Promise<string[]>,
): Promise<RunningProxy> {
  const binary = proxyBinary(kind);
  if (!binary) {
    throw new Error(
      `${kind} is not installed (looked on PATH and in ${SBIN_DIRECTORIES.join(', ')}): ` +
        'install the Debian packages listed in .ci/apt-packages',
    );
  }
  installExitHook();
  let lastLogs = '';
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), `certbound-${kind}-`));
    const port = await freePort();
    let output = '';
    let tracked: Tracked | undefined;
    try {
      await writePemFiles(dir, pki);
      const args = await configure(dir, port);
      const child = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      let spawnError: Error | undefined;
      child.once('error', (error) => {
        spawnError = error;
      });
      // A proxy somebody forgot to close must not keep this process alive (the exit hook kills it).
      child.unref();
      (child.stdout as Socket | null)?.unref();
      (child.stderr as Socket | null)?.unref();
      tracked = { child, dir, watchdog: undefined };
      running.add(tracked);
      if (child.pid !== undefined) tracked.watchdog = spawnWatchdog(child.pid, dir);

      const logs = () => [output, readLog(dir, 'error.log'), readLog(dir, 'access.log')].join('');
      const deadline = Date.now() + READY_TIMEOUT_MS;
      let ready = false;
      while (!ready && !exited(child) && spawnError === undefined && Date.now() < deadline) {
        // Someone else may have taken the port meanwhile: then the proxy exits (EADDRINUSE).
        ready = (await acceptsTls(port)) && ownsListeningSocket(child, port);
        if (!ready) await sleep(20);
      }
      if (spawnError) throw new Error(`could not start ${binary}: ${spawnError.message}`);
      if (ready && !exited(child)) {
        const owned = tracked;
        let closing: Promise<void> | undefined;
        return {
          url: `https://127.0.0.1:${port}`,
          logs,
          close: () => {
            closing ??= stop(owned);
            return closing;
          },
        };
      }
      lastLogs = logs();
      await stop(tracked);
      tracked = undefined;
      if (!/address already in use/i.test(lastLogs)) {
        throw new Error(
          `${kind} did not accept TLS on 127.0.0.1:${port} within ${READY_TIMEOUT_MS} ms:\n${lastLogs}`,
        );
      }
    } catch (error) {
      if (tracked) await stop(tracked);
      else await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }
  throw new Error(`${kind}: no free port after ${PORT_ATTEMPTS} attempts:\n${lastLogs}`);
}

/**
 * Whether `child` holds the socket listening on 127.0.0.1:`port` (Linux `/proc`); `true` where
 * that cannot be told.
 */
function ownsListeningSocket(child: ChildProcess, port: number): boolean {
  let table: string;
  let descriptors: string[];
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
    descriptors = readdirSync(`/proc/${child.pid}/fd`);
  } catch {
    return !exited(child);
  }
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const listening = new Set(
    table
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[1] === local && fields[3] === '0A') // 0A: LISTEN
      .map((fields) => `socket:[${fields[9]}]`),
  );
  return descriptors.some((fd) => {
    try {
      return listening.has(readlinkSync(`/proc/${child.pid}/fd/${fd}`));
    } catch {
      return false;
    }
  });
}

function readLog(dir: string, name: string): string {
  try {
    return readFileSync(join(dir, name), 'utf8');
  } catch {
    return '';
  }
}

async function stop(tracked: Tracked): Promise<void> {
  const { child } = tracked;
  if (!exited(child) && child.pid !== undefined) {
    child.kill('SIGTERM');
    if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
      child.kill('SIGKILL');
      await waitForExit(child, STOP_TIMEOUT_MS);
    }
  }
  stopWatchdog(tracked.watchdog);
  running.delete(tracked);
  await rm(tracked.dir, { recursive: true, force: true });
}
