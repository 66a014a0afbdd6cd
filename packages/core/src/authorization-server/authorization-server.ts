/**
 * The authorization server as the verifier sees it: its metadata (RFC 8414, then OpenID
 * Connect Discovery), fetched on first use and shared by every lookup, and the two endpoints
 * certbound calls, the JWK Set (`jwks_uri`) and the introspection endpoint (RFC 7662; the
 * RFC 8705 §5 `mtls_endpoint_aliases` one when the resource server authenticates with its
 * certificate). A configured endpoint is used as is and never triggers discovery.
 *
 * The metadata is kept until a call to an endpoint it named fails (the endpoint may have moved)
 * or names no usable endpoint; the next lookup then discovers again. Concurrent lookups share one
 * discovery (docs/architecture.md#failure-handling).
 */
import { type AuthorizationServerMetadata, discover } from './discovery.js';
import { HttpClient, type OutboundTlsOptions, unavailable } from './http-client.js';
import { isAllowedUrl } from './url-policy.js';

export interface AuthorizationServerOptions {
  issuer: string;
  /** A configured JWK Set URL (no discovery for keys). */
  jwksUri: string | undefined;
  /** A configured introspection endpoint (no discovery for introspection). */
  introspectionEndpoint: string | undefined;
  tls: OutboundTlsOptions;
  /** Timeout of each discovery request, ms. */
  timeoutMs: number;
}

export class AuthorizationServer {
  readonly issuer: string;
  /** The one outbound client for discovery, JWKS and introspection (the `tls` option). */
  readonly http: HttpClient;
  readonly #options: AuthorizationServerOptions;
  #metadata: Promise<AuthorizationServerMetadata> | undefined;

  constructor(options: AuthorizationServerOptions) {
    this.#options = options;
    this.issuer = options.issuer;
    this.http = new HttpClient(options.tls);
  }

  /** The JWK Set URL: configured, or `jwks_uri` from the metadata. */
  async jwksUri(): Promise<string> {
    return this.#options.jwksUri ?? this.#endpoint((metadata) => metadata.jwks_uri, 'jwks_uri');
  }

  /** The introspection endpoint: configured, or discovered (the mTLS alias when `mtls`). */
  async introspectionEndpoint(mtls: boolean): Promise<string> {
    return (
      this.#options.introspectionEndpoint ??
      this.#endpoint(
        (metadata) =>
          (mtls ? (metadata.mtls_endpoint_aliases?.introspection_endpoint ?? undefined) : undefined) ??
          metadata.introspection_endpoint,
        'introspection_endpoint',
      )
    );
  }

  /**
   * A call to an endpoint from the metadata failed to get an answer: forget the metadata, so the
   * next lookup discovers again (the server may have moved the endpoint).
   */
  endpointFailed(): void {
    this.#metadata = undefined;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  async #endpoint(pick: (metadata: AuthorizationServerMetadata) => unknown, member: string): Promise<string> {
    const endpoint = pick(await this.#discover());
    if (typeof endpoint !== 'string' || !isAllowedUrl(endpoint)) {
      this.#metadata = undefined;
      throw unavailable('metadata_incomplete', this.issuer, `the issuer metadata has no usable ${member}`);
    }
    return endpoint;
  }

  #discover(): Promise<AuthorizationServerMetadata> {
    this.#metadata ??= discover(this.issuer, this.http, this.#options.timeoutMs).catch((error: unknown) => {
      this.#metadata = undefined;
      throw error;
    });
    return this.#metadata;
  }
}
