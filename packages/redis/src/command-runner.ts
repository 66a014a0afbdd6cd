/**
 * Runs raw commands within a time budget and never throws: a slow or absent Redis is a failed
 * command, which `redisStore` turns into a miss and `redisReplayStore` into a rejection. Both
 * stores use it, each with a runner of its own.
 *
 * - While the client says it is disconnected, nothing is sent: the command fails at once.
 * - While commands keep timing out or failing, one at a time is let through to probe Redis and
 *   the others fail at once, so requests do not each wait `timeoutMs`. The first command that
 *   succeeds ends that state; there is no timer and no circuit that stays open.
 */
import type { RedisCommand, RedisConnection } from './redis-client.js';

/** What {@link CommandRunner.run} resolves to when the command failed, timed out or was skipped. */
export const FAILED: unique symbol = Symbol('certbound.redis.failed');

const TIMED_OUT = Symbol('certbound.redis.timeout');

export class CommandRunner {
  readonly #connection: RedisConnection;
  readonly #timeoutMs: number;
  #failing = false;
  #probing = false;

  constructor(connection: RedisConnection, timeoutMs: number) {
    this.#connection = connection;
    this.#timeoutMs = timeoutMs;
  }

  /** The command's reply, or {@link FAILED}. Never rejects. */
  async run(command: RedisCommand): Promise<unknown> {
    if (this.#failing && this.#probing) return FAILED;
    if (!this.#usable()) return FAILED;
    const probe = this.#failing;
    if (probe) this.#probing = true;
    try {
      const reply = await this.#withinBudget(command);
      this.#failing = false;
      return reply;
    } catch {
      this.#failing = true;
      return FAILED;
    } finally {
      if (probe) this.#probing = false;
    }
  }

  #usable(): boolean {
    try {
      return this.#connection.usable();
    } catch {
      return false;
    }
  }

  #withinBudget(command: RedisCommand): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const controller = new AbortController();
      const timer = setTimeout(() => {
        controller.abort();
        reject(TIMED_OUT);
      }, this.#timeoutMs);
      timer.unref();
      let reply: Promise<unknown>;
      try {
        reply = Promise.resolve(this.#connection.send(command, controller.signal));
      } catch (error) {
        clearTimeout(timer);
        reject(error);
        return;
      }
      // Handlers stay attached after a timeout, so a late rejection is never unhandled.
      reply.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }
}
