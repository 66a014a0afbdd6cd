/**
 * The authorization servers whose JWT access tokens a verifier accepts, each with its own
 * metadata, JWK Set and rules (docs/architecture.md#several-issuers). With several, the token's
 * `iss`, read before verification, selects exactly one; an unknown `iss` is refused without any
 * network call, and only the selected issuer's keys may verify the token (jose checks `iss`
 * again). One issuer's outage is a 503 for its tokens only.
 */
import { decodeJwt } from 'jose';
import { AuthorizationServer } from '../authorization-server/authorization-server.js';
import type { OutboundTlsOptions } from '../authorization-server/http-client.js';
import { InvalidTokenError } from '../errors.js';
import type { NormalizedIssuer } from '../options/issuer-options.js';
import type { ValidatedToken } from '../token/validated-token.js';
import { type JwtRules, jwtRules } from './jwt-rules.js';
import { RemoteKeySet } from './remote-key-set.js';
import { type KeyResolver, localKeys, secretKey } from './signing-keys.js';
import { validateJwt } from './validate-jwt.js';

export interface TokenIssuersOptions {
  issuers: readonly NormalizedIssuer[];
  /** HS* (single issuer only). */
  secret: Uint8Array | undefined;
  acceptedTyp: readonly string[];
  requiredClaims: readonly string[];
  clockToleranceSeconds: number;
  tls: OutboundTlsOptions;
  timeoutMs: number;
  jwksMaxAgeSeconds: number;
  /** The single issuer's configured introspection endpoint, if any. */
  introspectionEndpoint: string | undefined;
}

interface Issuer {
  server: AuthorizationServer;
  keys: KeyResolver;
  rules: JwtRules;
}

export class TokenIssuers {
  readonly #byIssuer = new Map<string, Issuer>();
  /** The only issuer, when there is one (no need to read `iss` first). */
  readonly #only: Issuer | undefined;

  constructor(options: TokenIssuersOptions, onKeysRemoved: (ids: ReadonlySet<string>) => void) {
    for (const entry of options.issuers) {
      const server = new AuthorizationServer({
        issuer: entry.issuer,
        jwksUri: entry.jwksUri,
        introspectionEndpoint: options.introspectionEndpoint,
        tls: options.tls,
        timeoutMs: options.timeoutMs,
      });
      let keys: KeyResolver;
      if (options.secret !== undefined) keys = secretKey(options.secret);
      else if (entry.jwks !== undefined) keys = localKeys(entry.jwks);
      else {
        const remote = new RemoteKeySet(server, {
          timeoutMs: options.timeoutMs,
          maxAgeSeconds: options.jwksMaxAgeSeconds,
        });
        remote.onKeysRemoved(onKeysRemoved);
        keys = remote;
      }
      this.#byIssuer.set(entry.issuer, { server, keys, rules: jwtRules({ ...options, ...entry }) });
    }
    this.#only = this.#byIssuer.size === 1 ? this.#byIssuer.values().next().value : undefined;
  }

  /** The authorization server of the first (with `issuer`, the only) issuer: introspection's. */
  get first(): AuthorizationServer {
    return this.#byIssuer.values().next().value!.server;
  }

  /** Validates a JWT with the keys and rules of the issuer its `iss` names. */
  validate(token: string): Promise<ValidatedToken> {
    const issuer = this.#only ?? this.#select(token);
    return validateJwt(token, issuer.keys, issuer.rules);
  }

  /** Fetches every remote JWK Set now. */
  async refreshKeys(): Promise<void> {
    const remotes = [...this.#byIssuer.values()]
      .map(({ keys }) => keys)
      .filter((keys) => keys instanceof RemoteKeySet);
    await Promise.all(remotes.map((keys) => keys.refresh()));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#byIssuer.values()].map(({ server }) => server.close()));
  }

  #select(token: string): Issuer {
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw new InvalidTokenError('token_malformed');
    }
    if (iss === undefined) throw new InvalidTokenError('token_claims_missing');
    if (typeof iss !== 'string') throw new InvalidTokenError('token_malformed');
    const issuer = this.#byIssuer.get(iss);
    if (issuer === undefined) throw new InvalidTokenError('token_issuer_mismatch');
    return issuer;
  }
}
