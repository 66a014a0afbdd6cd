/**
 * One verifier's DPoP state (RFC 9449): the proof rules, the request URI a proof must name, the
 * resource-server nonce and the replay cache, with a `certbound:dpop` event per proof checked.
 */
import { SUCCESS_RESPONSE_HEADERS } from '../auth-info.js';
import type { IsTrustedProxy } from '../client-certificate/trusted-proxies.js';
import { dpopChannel } from '../diagnostics.js';
import { isCertboundError } from '../errors.js';
import type { NormalizedDpop } from '../options/dpop-options.js';
import { normalizeHtu, requestHtu } from './htu.js';
import { NonceIssuer } from './nonce.js';
import { type ProofRules, proofField, type VerifiedProof, verifyProof } from './proof.js';
import { ReplayCache } from './replay-cache.js';
import { requestOrigin } from './request-origin.js';

/** What a request gives for its proof. */
export interface ProofInput {
  fields: readonly string[];
  method: string;
  /** The normalized URIs the proof's `htu` may name (one per configured origin). */
  htu: readonly string[];
}

type NodeLikeRequest = {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  socket?: { encrypted?: boolean; remoteAddress?: string } | null;
  authority?: string;
};

export class DpopCheck {
  readonly required: boolean;
  readonly algorithms: readonly string[];
  readonly #rules: ProofRules;
  readonly #origins: readonly string[] | undefined;
  readonly #trustedProxy: IsTrustedProxy | undefined;
  readonly #nonce: NonceIssuer | undefined;
  readonly #replay: ReplayCache;

  constructor(
    options: NormalizedDpop,
    clockToleranceSeconds: number,
    trustedProxy: IsTrustedProxy | undefined,
  ) {
    this.required = options.required;
    this.algorithms = Object.freeze([...options.algorithms]);
    this.#nonce = options.nonce && new NonceIssuer(options.nonce.secret, options.nonce.lifetimeSeconds);
    this.#rules = {
      importedKeys: new Map(),
      algorithms: this.algorithms,
      proofMaxAgeSeconds: options.proofMaxAgeSeconds,
      clockToleranceSeconds,
      nonce: this.#nonce,
    };
    this.#origins = options.origins;
    this.#trustedProxy = trustedProxy;
    this.#replay = new ReplayCache(options.replay.max, options.replay.store);
  }

  /** The proof input of a Node request: its `DPoP` lines, method and URI. */
  fromRequest(req: NodeLikeRequest, fields: readonly string[]): ProofInput {
    const target = req.originalUrl ?? req.url ?? '';
    // Absolute-form targets (RFC 9112 §3.2.2) name their own origin.
    const absolute = target.startsWith('/') ? undefined : normalizeHtu(target);
    const origins = this.#origins ?? [
      absolute === undefined ? requestOrigin(req, this.#trustedProxy) : new URL(absolute).origin,
    ];
    const htu: string[] = [];
    for (const origin of origins) {
      const uri = origin === undefined ? undefined : requestHtu(origin, target);
      if (uri !== undefined) htu.push(uri);
    }
    return { fields, method: req.method ?? '', htu };
  }

  /** The proof input of `verify()`: the absolute URL given. */
  fromInput(fields: readonly string[], method: string | undefined, url: string | undefined): ProofInput {
    const uri = url === undefined ? undefined : normalizeHtu(url);
    return { fields, method: method ?? '', htu: uri === undefined ? [] : [uri] };
  }

  /** Throws `dpop_proof_missing` / `dpop_proof_invalid` before any work when there is no usable field. */
  precheck(proof: ProofInput): void {
    proofField(proof.fields);
  }

  /** Verifies the proof for `accessToken` (everything but replay). */
  async verify(proof: ProofInput, accessToken: string): Promise<VerifiedProof> {
    try {
      const verified = await verifyProof({ ...proof, accessToken }, this.#rules);
      if (dpopChannel.hasSubscribers) {
        dpopChannel.publish({ outcome: 'accepted', code: undefined, alg: verified.alg });
      }
      return verified;
    } catch (error) {
      if (dpopChannel.hasSubscribers) {
        dpopChannel.publish({
          outcome: 'rejected',
          code: isCertboundError(error) ? error.code : undefined,
          alg: undefined,
        });
      }
      throw error;
    }
  }

  /** Records the proof's `jti` (the last check: a replay is refused). */
  remember(proof: VerifiedProof): Promise<void> {
    return this.#replay.remember(proof.jkt, proof.jti, proof.acceptableUntil - Date.now());
  }

  /** The headers of a successful response: `Cache-Control`, and a fresh `DPoP-Nonce` when nonces are on. */
  responseHeaders(): Readonly<Record<string, string>> {
    if (this.#nonce === undefined) return SUCCESS_RESPONSE_HEADERS;
    return { ...SUCCESS_RESPONSE_HEADERS, 'dpop-nonce': this.#nonce.current() };
  }

  clear(): void {
    this.#replay.clear();
  }
}
