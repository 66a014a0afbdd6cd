/**
 * The verifier's public contract: what adapters and applications call (see `verifier.ts` for the
 * pipeline behind it).
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { AuthInfo, TokenClaims } from './auth-info.js';
import type { CertificateInput } from './certificate-input.js';
import type { ProtectedResourceEndpoint } from './resource-metadata.js';

/** A Node request: HTTP/1.1 `IncomingMessage` or an HTTP/2 compatibility request. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;

/** Inputs already extracted from a request, for `verifier.verify`. */
export interface VerifyInput {
  /** The `Authorization` field value; an array holds every field line (more than one → 400). */
  authorization?: string | readonly string[] | null;
  /** The client certificate presented on the connection: DER, PEM, `X509Certificate` or `null`. */
  certificate?: CertificateInput | null;
  /** The `DPoP` field value (RFC 9449 §4.1); an array holds every field line (more than one is refused). */
  dpop?: string | readonly string[] | null;
  /** The request method, for the proof's `htm` (DPoP scheme). */
  method?: string;
  /** The request's absolute URL, for the proof's `htu` (DPoP scheme; query and fragment ignored). */
  url?: string;
}

/** Extra request data an adapter may pass (e.g. Koa's parsed body lives outside the Node request). */
export interface AuthenticateContext {
  body?: unknown;
}

export interface Verifier<Claims extends TokenClaims = TokenClaims> {
  /**
   * Authenticates a Node request: the `Authorization` header, the client certificate (TLS or a
   * trusted proxy's header) and, under the DPoP scheme, the `DPoP` proof.
   */
  authenticate(req: NodeRequest, context?: AuthenticateContext): Promise<AuthInfo<Claims>>;
  /**
   * Throws 400 `invalid_request` when a form-encoded `body` carries `access_token` (RFC 6750 §2:
   * one method per request). `authenticate` checks the body a request already has; adapters for
   * frameworks that parse bodies after authenticating (Fastify) call this once it is parsed.
   */
  checkBody(req: NodeRequest, body: unknown): void;
  /** Authenticates already-extracted inputs. */
  verify(input: VerifyInput): Promise<AuthInfo<Claims>>;
  /**
   * Fetches the issuer's JWK Set now (after a key compromise, say): keys it no longer has stop
   * verifying at once, and validations made with them are forgotten. Without a remote JWK Set
   * (`jwks` or `secret`), does nothing.
   */
  refreshKeys(): Promise<void>;
  /** Releases connections and caches. */
  close(): Promise<void>;
  /** The RFC 9728 metadata endpoint, when `protectedResource` is configured (adapters serve it). */
  readonly protectedResource: ProtectedResourceEndpoint | undefined;
}
