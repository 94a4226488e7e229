/** How a {@link Batcher} gathers calls. */
export interface BatchOptions {
  /**
   * How long the first call of a batch waits for others, in ms. 0 gathers the calls that arrive in
   * the same turn of the event loop (every request parsed in one poll), adding no timer delay.
   * @defaultValue 0
   */
  windowMs: number;
  /** Most calls in one batch; a full batch runs at once. @defaultValue 100 */
  max: number;
}

interface Pending<I, O> {
  input: I;
  resolve(out: O | PromiseLike<O>): void;
  reject(err: unknown): void;
}

/**
 * Runs a batch. It throws only when nothing of the batch took effect (its one write statement
 * failed); an answer that needs a later read may be a promise, which fails alone.
 */
export type RunMany<I, O> = (inputs: I[]) => Promise<Array<O | Promise<O>>>;

/**
 * Group commit: calls with the same key that arrive together run as one `runMany` (one statement,
 * one round trip), and each caller gets its own answer from the array `runMany` returns, in input
 * order. When a batch of several fails as a whole, each of its calls runs alone through `runOne`, so
 * that one bad call cannot fail the others and every caller sees the error it would have seen alone.
 * Two calls with the same `itemKey` (one task) never share a batch: the second starts the next one,
 * and the database orders them as it orders two single calls.
 */
export class Batcher<I, O> {
  private readonly queues = new Map<string, { items: Array<Pending<I, O>>; keys: Set<string> }>();

  constructor(
    private readonly options: BatchOptions,
    private readonly runMany: RunMany<I, O>,
    private readonly runOne: (input: I) => Promise<O>,
    private readonly itemKey?: (input: I) => string,
  ) {}

  run(key: string, input: I): Promise<O> {
    if (this.options.max <= 1) return this.runOne(input);
    return new Promise<O>((resolve, reject) => {
      const item = this.itemKey?.(input);
      let queue = this.queues.get(key);
      if (queue && item !== undefined && queue.keys.has(item)) {
        this.flush(key, queue);
        queue = undefined;
      }
      if (!queue) {
        const fresh = { items: [] as Array<Pending<I, O>>, keys: new Set<string>() };
        queue = fresh;
        this.queues.set(key, fresh);
        const flush = () => this.flush(key, fresh);
        if (this.options.windowMs > 0) setTimeout(flush, this.options.windowMs);
        else setImmediate(flush);
      }
      queue.items.push({ input, resolve, reject });
      if (item !== undefined) queue.keys.add(item);
      if (queue.items.length >= this.options.max) this.flush(key, queue);
    });
  }

  private flush(key: string, queue: { items: Array<Pending<I, O>> }): void {
    // A queue flushed early (full, or a repeated item) leaves its timer nothing to do.
    if (this.queues.get(key) !== queue) return;
    this.queues.delete(key);
    void this.execute(queue.items);
  }

  private async execute(batch: Array<Pending<I, O>>): Promise<void> {
    if (batch.length === 1) {
      const only = batch[0] as Pending<I, O>;
      await this.runOne(only.input).then(only.resolve, only.reject);
      return;
    }
    let outs: Array<O | Promise<O>>;
    try {
      outs = await this.runMany(batch.map((p) => p.input));
    } catch {
      await Promise.all(batch.map((p) => this.runOne(p.input).then(p.resolve, p.reject)));
      return;
    }
    batch.forEach((p, i) => p.resolve(outs[i] as O));
  }
}
