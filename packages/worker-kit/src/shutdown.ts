import type { Logger } from "pino";

/** One resource to close at shutdown. */
interface Closer {
  name: string;
  close: () => Promise<void> | void;
}

export interface ShutdownOptions {
  /** Whole graceful-stop budget, in ms. Past it, `exit(1)` is called. Default 15,000. */
  deadlineMs?: number;
  logger?: Logger;
  /**
   * Ends the process. Only an app's composition root passes `process.exit`;
   * tests pass a recorder.
   */
  exit: (code: number) => void;
  /** Signals that start a graceful stop. Default SIGTERM and SIGINT. */
  signals?: NodeJS.Signals[];
}

/**
 * Ordered shutdown: resources close in the order they were registered (register
 * intake first — the worker loop, the schedules — then queues, then pools), each
 * after the one before has finished. A deadline bounds the whole stop; a second
 * signal forces `exit(130)` at once.
 */
export class Shutdown {
  private readonly closers: Closer[] = [];
  private readonly deadlineMs: number;
  private readonly logger: Logger | undefined;
  private readonly exit: (code: number) => void;
  private readonly signals: NodeJS.Signals[];
  private readonly handlers = new Map<NodeJS.Signals, () => void>();
  private running: Promise<void> | null = null;

  constructor(options: ShutdownOptions) {
    this.deadlineMs = options.deadlineMs ?? 15_000;
    this.logger = options.logger;
    this.exit = options.exit;
    this.signals = options.signals ?? ["SIGTERM", "SIGINT"];
  }

  /** True once a stop has begun (health reports not ready). */
  get stopping(): boolean {
    return this.running !== null;
  }

  /** Adds a resource; resources close in registration order. Returns `this` for chaining. */
  register(name: string, close: () => Promise<void> | void): this {
    this.closers.push({ name, close });
    return this;
  }

  /** Listens for the signals. Call once, in the composition root. */
  install(): this {
    for (const signal of this.signals) {
      const handler = () => this.onSignal(signal);
      this.handlers.set(signal, handler);
      process.on(signal, handler);
    }
    return this;
  }

  /** Removes the signal listeners (tests). */
  uninstall(): void {
    for (const [signal, handler] of this.handlers) process.off(signal, handler);
    this.handlers.clear();
  }

  private onSignal(signal: NodeJS.Signals): void {
    if (this.running) {
      this.logger?.warn({ signal }, "second signal: exiting now");
      this.exit(130);
      return;
    }
    this.logger?.info({ signal }, "shutting down");
    void this.run().then((code) => this.exit(code));
  }

  /**
   * Closes every resource in order within the deadline. Resolves to the exit
   * code: 0 when all closed, 1 when one failed or the deadline passed (the
   * remaining resources are then left as they are).
   */
  run(): Promise<number> {
    if (this.running) return this.running.then(() => this.code);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      // Not unref'd: a closer stuck on a promise that holds nothing open must still end in exit(1), not a quiet exit 0.
      timer = setTimeout(() => resolve("deadline"), this.deadlineMs);
    });
    // The closers start a microtask later, once `running` is set: `stopping` is true inside every
    // closer, and a closer that calls run() joins this stop instead of starting another.
    this.running = Promise.resolve().then(async () => {
      const outcome = await Promise.race([this.closeAll(), deadline]);
      clearTimeout(timer);
      if (outcome === "deadline") {
        this.expired = true;
        this.code = 1;
        this.logger?.error({ deadlineMs: this.deadlineMs, pending: this.current }, "shutdown deadline passed");
      }
    });
    return this.running.then(() => this.code);
  }

  private code = 0;
  private expired = false;
  private current: string | undefined;

  private async closeAll(): Promise<"done"> {
    for (const closer of this.closers) {
      if (this.expired) break; // past the deadline the rest are left as they are
      this.current = closer.name;
      try {
        await closer.close();
        this.logger?.debug({ resource: closer.name }, "closed");
      } catch (err) {
        this.code = 1;
        this.logger?.error({ err, resource: closer.name }, "error while closing");
      }
    }
    this.current = undefined;
    return "done";
  }
}
