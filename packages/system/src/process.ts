import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, createWriteStream, fchmodSync, mkdirSync, openSync, type WriteStream } from "node:fs";
import { join } from "node:path";

/** How one run of a process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The outcome of {@link ManagedProcess.stop}. */
export interface StopResult extends ProcessExit {
  /** It outlived the grace period and got SIGKILL. */
  killed: boolean;
  /** How long the stop took, in ms. */
  ms: number;
  /** Ended by the SIGTERM before it said it was ready: it held no work. */
  whileStarting: boolean;
}

/** How {@link ManagedProcess} starts its process. */
export interface ManagedProcessOptions {
  /** Shown in errors and the log file's name. */
  name: string;
  /** The Node entry (a built `.js`). */
  entry: string;
  args?: readonly string[];
  /** The whole environment of the child (only `PATH` is added). */
  env: Record<string, string | undefined>;
  cwd?: string;
  /** When set, every byte it writes is appended to `<logDir>/<name>.log` (directory 0700, file 0600). */
  logDir?: string;
  /** Characters of output kept in memory per run, the newest. @defaultValue Infinity (all) */
  keepChars?: number;
  /** Called with every complete line it writes. */
  onLine?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One process of the system: started, stopped, killed and started again. Each
 * run is in a process group of its own, so a terminal's Ctrl-C reaches only the
 * orchestrating process, which then sends each child exactly one signal.
 */
export class ManagedProcess {
  readonly name: string;
  /** Set once its ready line was seen in this run (see {@link line}); before that it holds no work. */
  ready = false;
  private proc: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private text = "";
  private earlier = "";
  private exitedP: Promise<ProcessExit> = Promise.resolve({ code: null, signal: null });
  private waiters = new Set<(line: string) => void>();

  constructor(private readonly options: ManagedProcessOptions) {
    this.name = options.name;
  }

  /** Starts a run. @throws {Error} when it is already running. */
  start(): this {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.earlier += this.text;
    this.text = "";
    this.ready = false;
    const o = this.options;
    this.log?.end();
    this.log = undefined;
    if (o.logDir) {
      mkdirSync(o.logDir, { recursive: true, mode: 0o700 });
      chmodSync(o.logDir, 0o700);
      const file = join(o.logDir, `${o.name}.log`);
      const fd = openSync(file, "a", 0o600);
      fchmodSync(fd, 0o600);
      this.log = createWriteStream(file, { fd });
    }
    const proc = spawn(process.execPath, [o.entry, ...(o.args ?? [])], { cwd: o.cwd, env: { PATH: process.env.PATH, ...o.env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    this.proc = proc;
    let partial = "";
    const keep = (d: Buffer) => {
      this.log?.write(d);
      const s = d.toString();
      this.text += s;
      const limit = o.keepChars ?? Infinity;
      if (this.text.length > limit) this.text = this.text.slice(-limit);
      const lines = (partial + s).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        o.onLine?.(line);
        for (const w of this.waiters) w(line);
      }
    };
    proc.stdout?.on("data", keep);
    proc.stderr?.on("data", keep);
    proc.on("error", (e) => (this.text += `\n[spawn error] ${e.message}\n`));
    // "close", not "exit": the output is read to its end by then.
    this.exitedP = new Promise((resolve) => proc.on("close", (code, signal) => resolve({ code, signal })));
    return this;
  }

  /** The variables of its next run (changes apply from the next {@link start}). */
  get env(): Record<string, string | undefined> {
    return this.options.env;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }
  get pid(): number | undefined {
    return this.proc?.pid;
  }
  /** The current run's exit code (null while running or when ended by a signal). */
  get exitCode(): number | null {
    return this.proc?.exitCode ?? null;
  }
  /** Resolves when the current run has ended and its output is read. */
  get exited(): Promise<ProcessExit> {
    return this.exitedP;
  }
  /** Output of the current run (the newest `keepChars`). */
  get current(): string {
    return this.text;
  }
  /** Everything it wrote, over all its runs (as kept). */
  get output(): string {
    return this.earlier + this.text;
  }
  /** The last `n` lines of the current run. */
  tail(n: number): string {
    return this.text.split("\n").filter(Boolean).slice(-n).join("\n");
  }

  /**
   * The first match of `re`'s group 1 in this run's output, waiting up to `ms`
   * for it; marks the process ready.
   * @throws {Error} when it exits first or the time runs out (with its last output).
   */
  async line(re: RegExp, ms = 60_000): Promise<string> {
    const found = (m: RegExpExecArray | null) => {
      this.ready = true;
      return (m as RegExpExecArray)[1] as string;
    };
    const now = re.exec(this.text);
    if (now) return found(now);
    let done: (v: string) => void = () => undefined;
    const match = new Promise<string>((resolve) => (done = resolve));
    const waiter = (l: string) => {
      const m = re.exec(l);
      if (m) done(m[1] as string);
    };
    this.waiters.add(waiter);
    let timer: NodeJS.Timeout | undefined;
    try {
      const v = await Promise.race([
        match,
        this.exitedP.then(() => "\0exit"),
        new Promise<string>((r) => (timer = setTimeout(() => r("\0time"), ms))),
      ]);
      if (v === "\0exit") {
        const late = re.exec(this.text);
        if (late) return found(late);
        throw new Error(`${this.name} exited (${this.exitCode}) before printing ${re}:\n${this.text.slice(-3000)}`);
      }
      if (v === "\0time") throw new Error(`timed out waiting for ${this.name} to print ${re}:\n${this.text.slice(-3000)}`);
      this.ready = true;
      return v;
    } finally {
      clearTimeout(timer);
      this.waiters.delete(waiter);
    }
  }

  /** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILL. */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 30_000): Promise<StopResult> {
    const started = Date.now();
    const wasReady = this.ready;
    if (!this.running) return { ...(await this.exitedP), killed: false, ms: 0, whileStarting: false };
    this.proc?.kill(signal);
    const first = await Promise.race([this.exitedP, sleep(graceMs).then(() => "late" as const)]);
    let killed = false;
    if (first === "late") {
      killed = true;
      this.proc?.kill("SIGKILL");
    }
    const exit = await this.exitedP;
    return { ...exit, killed, ms: Date.now() - started, whileStarting: !killed && !wasReady && exit.signal === signal };
  }

  /** SIGKILL now, when running. */
  kill(): void {
    if (this.running) this.proc?.kill("SIGKILL");
  }
}
