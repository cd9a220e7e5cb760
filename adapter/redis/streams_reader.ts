/**
 * The loop that reads a stream with `XREAD BLOCK` on a connection of its own (a blocked read
 * holds its connection), hands each entry over in stream order, and stops at once when closed.
 *
 * A failed read (Redis down, a reconnection) is reported and retried after a pause that doubles
 * up to a few seconds, so a lasting outage neither ends the loop nor spins it.
 *
 * @module
 */
import type { Commands, StreamEntry } from "./streams_commands.ts";

/** How the reader reads. */
export interface StreamReaderOptions {
  /** The stream key. */
  stream: string;
  /** Entries per XREAD. */
  readCount: number;
  /** Milliseconds an XREAD blocks waiting for entries. */
  blockTimeInMs: number;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/** One stream, read from the entry after `start` on a dedicated connection. */
export class StreamReader {
  readonly #redis: Commands;
  readonly #opts: StreamReaderOptions;
  readonly #onEntry: (entry: StreamEntry) => void;
  readonly #onError: (err: unknown) => void;
  #offset: string;
  #stopped = false;
  #wake: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #done: Promise<void>;

  /**
   * Starts reading.
   *
   * @param redis a connection of its own, which the reader closes when stopped
   * @param start the id after which to read (`"0-0"` for the whole stream)
   * @param onEntry called with each entry, in order
   * @param onError called with each failed read (and each throwing `onEntry`)
   */
  constructor(
    redis: Commands,
    opts: StreamReaderOptions,
    start: string,
    onEntry: (entry: StreamEntry) => void,
    onError: (err: unknown) => void,
  ) {
    this.#redis = redis;
    this.#opts = opts;
    this.#offset = start;
    this.#onEntry = onEntry;
    this.#onError = onError;
    this.#done = this.#run();
  }

  /** The id of the last entry handed to `onEntry` (or the start): every entry up to it was. */
  get offset(): string {
    return this.#offset;
  }

  /** Stops reading: a blocked XREAD is failed by closing the connection. Resolves once done. */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      clearTimeout(this.#timer);
      this.#wake?.();
      await this.#redis.close();
    }
    await this.#done;
  }

  async #run(): Promise<void> {
    const { stream, readCount, blockTimeInMs } = this.#opts;
    let retry = 0;
    while (!this.#stopped) {
      let entries: StreamEntry[];
      try {
        entries = await this.#redis.xread(stream, this.#offset, readCount, blockTimeInMs);
        retry = 0;
      } catch (err) {
        if (this.#stopped) break;
        this.#onError(err);
        retry = Math.min(retry === 0 ? FIRST_RETRY_MS : retry * 2, MAX_RETRY_MS);
        await this.#pause(retry);
        continue;
      }
      for (const entry of entries) {
        this.#offset = entry.id;
        if (this.#stopped) break;
        try {
          this.#onEntry(entry);
        } catch (err) {
          this.#onError(err);
        }
      }
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    }).then(() => {
      this.#wake = undefined;
      this.#timer = undefined;
    });
  }
}
