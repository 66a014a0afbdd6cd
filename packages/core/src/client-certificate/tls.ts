/**
 * The client certificate from the TLS connection itself (RFC 8705 §3: "from its TLS
 * implementation layer"), memoized per connection. The memo is keyed by the connection and
 * checked against the latest TLS Finished message, so a renegotiation that changes the peer
 * certificate is never served from the memo.
 */
import type { X509Certificate } from 'node:crypto';
import type { PresentedCertificate } from './presented.js';
import { presentedCertificate } from './presented.js';

interface PeerSocket {
  /** Node's TLS server socket option (`requestCert`): false when no client may send a certificate. */
  _requestCert?: boolean;
  getPeerX509Certificate?: () => X509Certificate | undefined;
  getFinished?: () => Buffer | undefined;
  getProtocol?: () => string | null;
}

interface Memo {
  /** The Finished message of the handshake the certificate came from; `undefined` on TLS 1.3. */
  finished: Buffer | undefined;
  certificate: PresentedCertificate | undefined;
}

type TlsRequest = {
  socket?: unknown;
  stream?: { session?: { socket?: unknown } };
};

const memo = new WeakMap<object, Memo>();
let warnedNoRequestCert = false;

/**
 * A misconfiguration that looks like an attack: a TLS server created without `requestCert: true`
 * never asks for a client certificate, so every certificate-bound token is refused with
 * `certificate_missing`. Said once per process, where operators look.
 */
function warnNoRequestCert(): void {
  if (warnedNoRequestCert) return;
  warnedNoRequestCert = true;
  process.emitWarning(
    'the TLS server does not request client certificates: create it with { requestCert: true, rejectUnauthorized: false } ' +
      '(RFC 8705 §6.2), or every certificate-bound token is refused with certificate_missing',
    { type: 'CertboundWarning', code: 'CERTBOUND_NO_REQUEST_CERT' },
  );
}
const EMPTY = Buffer.alloc(0);

/**
 * The connection a request arrived on: the TLS socket for HTTP/1.1, the session's socket for
 * HTTP/2 compatibility requests (whose `req.socket` is a per-stream proxy).
 */
function connectionOf(req: TlsRequest): { key: object; socket: PeerSocket } | undefined {
  const session = req.stream?.session;
  if (session !== undefined && typeof session === 'object') {
    const socket = session.socket;
    return typeof socket === 'object' && socket !== null
      ? { key: session, socket: socket as PeerSocket }
      : undefined;
  }
  const socket = req.socket;
  return typeof socket === 'object' && socket !== null
    ? { key: socket, socket: socket as PeerSocket }
    : undefined;
}

/**
 * The leaf certificate the client presented on this request's TLS connection, or `undefined`
 * (plain HTTP, no certificate sent, or a destroyed socket). The chain is not validated
 * (RFC 8705 §6.2): binding is proof of possession, not PKI trust.
 */
export function certificateFromTls(req: TlsRequest): PresentedCertificate | undefined {
  try {
    const connection = connectionOf(req);
    return connection === undefined ? undefined : peerCertificate(connection.key, connection.socket);
  } catch {
    // A destroyed socket (or an HTTP/2 socket proxy whose session is gone) has no certificate.
    return undefined;
  }
}

function peerCertificate(key: object, socket: PeerSocket): PresentedCertificate | undefined {
  if (typeof socket.getPeerX509Certificate !== 'function') return undefined;
  const cached = memo.get(key);
  if (cached !== undefined) {
    // TLS 1.3 has no renegotiation (and Node offers no post-handshake authentication): the peer
    // certificate cannot change. On TLS 1.2, a new handshake shows as a new Finished message.
    if (cached.finished === undefined) return cached.certificate;
    if (cached.finished.equals(socket.getFinished?.() ?? EMPTY)) return cached.certificate;
  }
  const tls13 = socket.getProtocol?.() === 'TLSv1.3';
  const finished = tls13 ? undefined : socket.getFinished?.();
  const peer = socket.getPeerX509Certificate();
  if (peer === undefined && socket._requestCert === false) warnNoRequestCert();
  const certificate = peer === undefined ? undefined : presentedCertificate(peer.raw);
  if (tls13 || finished !== undefined) memo.set(key, { finished, certificate });
  return certificate;
}
