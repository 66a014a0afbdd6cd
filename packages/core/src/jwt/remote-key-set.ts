/**
 * The authorization server's JWK Set, fetched through its `jwks_uri` (docs/architecture.md#caches):
 *
 * - reused for at most `maxAgeSeconds`, then fetched again before a token is verified with it, so
 *   a key the issuer removes stops verifying new tokens within that time (`refresh()` at once);
 * - a `kid` the set does not have triggers a fetch, at most once per
 *   {@link JWKS_COOLDOWN_SECONDS} (a `kid` is the client's to choose);
 * - one fetch in flight; requests arriving meanwhile wait for it (each fetch has `timeoutMs`);
 * - a failed fetch is not remembered: the next request tries again. Meanwhile the last set keeps
 *   verifying for {@link JWKS_STALE_IF_ERROR_SECONDS} after it was fetched, then it is a 503;
 * - keys that a fetch finds gone are reported, so validations made with them are forgotten.
 *
 * Every fetch is published on `certbound:jwks`.
 */
import type { JSONWebKeySet } from 'jose';
import type { AuthorizationServer } from '../authorization-server/authorization-server.js';
import { parseJsonObject, statusError, unavailable } from '../authorization-server/http-client.js';
import { elapsedSince, jwksChannel, startTimer } from '../diagnostics.js';
import { type KeyResolver, type SetMember, selectCandidates, setMembers } from './signing-keys.js';

/** Default longest reuse of a fetched JWK Set, seconds. */
export const DEFAULT_JWKS_MAX_AGE_SECONDS = 300;
/** Seconds after a JWK Set fetch before an unknown `kid` may trigger another fetch. */
export const JWKS_COOLDOWN_SECONDS = 30;
/** Seconds the last fetched JWK Set keeps verifying while it cannot be fetched again. */
export const JWKS_STALE_IF_ERROR_SECONDS = 3600;

interface FetchedSet {
  members: SetMember[];
  /** Epoch ms. */
  fetchedAt: number;
}

export interface RemoteKeySetOptions {
  timeoutMs: number;
  maxAgeSeconds: number;
}

export class RemoteKeySet implements KeyResolver {
  readonly #server: AuthorizationServer;
  readonly #options: RemoteKeySetOptions;
  readonly #removed = new Set<(ids: ReadonlySet<string>) => void>();
  #set: FetchedSet | undefined;
  #fetching: Promise<FetchedSet> | undefined;

  constructor(server: AuthorizationServer, options: RemoteKeySetOptions) {
    this.#server = server;
    this.#options = options;
  }

  async candidates(header: Parameters<KeyResolver['candidates']>[0]) {
    const now = Date.now();
    let set = this.#set;
    const expired = set === undefined || now - set.fetchedAt >= this.#options.maxAgeSeconds * 1000;
    if (expired) set = await this.#load();
    const found = await selectCandidates(set!.members, header);
    // At most one fetch per lookup: one that just fetched (or tried to) does not fetch again.
    if (
      found.length > 0 ||
      expired ||
      header.kid === undefined ||
      now - set!.fetchedAt < JWKS_COOLDOWN_SECONDS * 1000
    ) {
      return found;
    }
    // An unknown kid, and the set is old enough to look again: the issuer may have added a key.
    return selectCandidates((await this.#load()).members, header);
  }

  /** Fetches the JWK Set now (coalesced with a fetch in flight). */
  async refresh(): Promise<void> {
    await this.#fetch();
  }

  /** Calls `listener` with the ids of keys a fetch found removed. Returns the unsubscribe function. */
  onKeysRemoved(listener: (ids: ReadonlySet<string>) => void): () => void {
    this.#removed.add(listener);
    return () => this.#removed.delete(listener);
  }

  /** A fresh set, or the last one while it may stand in for a failed fetch. */
  async #load(): Promise<FetchedSet> {
    try {
      return await this.#fetch();
    } catch (error) {
      const last = this.#set;
      if (last !== undefined && Date.now() - last.fetchedAt <= JWKS_STALE_IF_ERROR_SECONDS * 1000)
        return last;
      throw error;
    }
  }

  #fetch(): Promise<FetchedSet> {
    this.#fetching ??= this.#download().finally(() => {
      this.#fetching = undefined;
    });
    return this.#fetching;
  }

  async #download(): Promise<FetchedSet> {
    const url = await this.#server.jwksUri();
    const start = startTimer(jwksChannel);
    let status: number | undefined;
    try {
      const response = await this.#server.http
        .send(url, { headers: { accept: 'application/json' }, timeoutMs: this.#options.timeoutMs })
        .catch((error: unknown) => {
          this.#server.endpointFailed();
          throw error;
        });
      status = response.status;
      if (status !== 200) {
        this.#server.endpointFailed();
        throw statusError(response, url, 'JWK Set');
      }
      const jwks = parseJsonObject(response.body, url);
      if (!Array.isArray(jwks.keys)) throw unavailable('bad_json', url, 'the JWK Set has no "keys" array');
      const set = { members: await setMembers(jwks as unknown as JSONWebKeySet), fetchedAt: Date.now() };
      if (start !== 0) jwksChannel.publish({ outcome: 'ok', status, url, durationMs: elapsedSince(start) });
      this.#replace(set);
      return set;
    } catch (error) {
      if (start !== 0)
        jwksChannel.publish({ outcome: 'error', status, url, durationMs: elapsedSince(start) });
      throw error;
    }
  }

  #replace(set: FetchedSet): void {
    const previous = this.#set;
    this.#set = set;
    if (previous === undefined || this.#removed.size === 0) return;
    const kept = new Set(set.members.map((member) => member.id));
    const removed = new Set(previous.members.map((member) => member.id).filter((id) => !kept.has(id)));
    if (removed.size > 0) for (const listener of this.#removed) listener(removed);
  }
}
