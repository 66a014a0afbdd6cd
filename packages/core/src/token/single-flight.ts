/** Concurrent calls for one key share one in-flight promise. */
export class SingleFlight<T> {
  readonly #pending = new Map<string, Promise<T>>();

  run(key: string, load: () => Promise<T>): Promise<T> {
    const pending = this.#pending.get(key);
    if (pending !== undefined) return pending;
    const promise = load().finally(() => this.#pending.delete(key));
    this.#pending.set(key, promise);
    return promise;
  }

  /** Whether a load for `key` is in flight (a new call would join it). */
  has(key: string): boolean {
    return this.#pending.has(key);
  }

  clear(): void {
    this.#pending.clear();
  }
}
