// Shutdown: ordered closing, errors and the deadline in process (with a recorded
// `exit`), then real SIGTERM / SIGINT against a child process (fixtures/shutdown-app.ts).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { Shutdown, createLogger } from "../src/index.js";

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
const FIXTURE = join(PACKAGE_DIR, "test", "fixtures", "shutdown-app.ts");
const CHILD_TEST = { timeout: 30_000 };

type Line = Record<string, unknown>;

/** A logger whose lines are kept in memory. */
function memoryLogger() {
  const chunks: string[] = [];
  const logger = createLogger({ service: "svc", level: "debug", destination: { write: (chunk: string) => void chunks.push(chunk) } });
  const lines = (): Line[] =>
    chunks
      .join("")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as Line);
  return { logger, lines };
}

/** Rejects after `ms` with a message naming `what`, so a broken stop fails instead of hanging. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Tracks whether a promise has settled yet. */
function track<T>(promise: Promise<T>): { settled: () => boolean } {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { settled: () => done };
}

const never = () => new Promise<void>(() => undefined);

describe("Shutdown.run", () => {
  it("closes resources in registration order, each after the previous one finished", async () => {
    const events: string[] = [];
    const step = (name: string, ms: number) => async () => {
      events.push(`${name}:start`);
      await delay(ms);
      events.push(`${name}:end`);
    };
    const exits: number[] = [];
    const shutdown = new Shutdown({ exit: (code) => exits.push(code) })
      .register("intake", step("intake", 30))
      .register("queue", step("queue", 5))
      .register("sync", () => void events.push("sync:start", "sync:end"))
      .register("pool", step("pool", 20));
    const code = await within(shutdown.run(), 5_000, "run()");
    assert.equal(code, 0);
    assert.deepEqual(events, ["intake:start", "intake:end", "queue:start", "queue:end", "sync:start", "sync:end", "pool:start", "pool:end"]);
    assert.deepEqual(exits, [], "run() reports the code; it does not exit");
  });

  it("resolves 0 with nothing registered", async () => {
    const shutdown = new Shutdown({ exit: () => assert.fail("exit called") });
    assert.equal(await within(shutdown.run(), 5_000, "run()"), 0);
  });

  it("logs a closer that throws or rejects, still closes the rest, and resolves 1", async () => {
    const { logger, lines } = memoryLogger();
    const closed: string[] = [];
    const shutdown = new Shutdown({ logger, exit: () => undefined })
      .register("a", () => void closed.push("a"))
      .register("throws", () => {
        throw new Error("sync close broke");
      })
      .register("b", () => void closed.push("b"))
      .register("rejects", async () => {
        await delay(1);
        throw new Error("async close broke");
      })
      .register("c", async () => void closed.push("c"));
    assert.equal(await within(shutdown.run(), 5_000, "run()"), 1);
    assert.deepEqual(closed, ["a", "b", "c"]);

    const errors = lines().filter((l) => l.level === 50);
    assert.deepEqual(
      errors.map((l) => [l.msg, l.resource, (l.err as Line | undefined)?.message]),
      [
        ["error while closing", "throws", "sync close broke"],
        ["error while closing", "rejects", "async close broke"],
      ],
    );
    for (const l of errors) assert.match(String((l.err as Line).stack), /close broke\n\s+at /);
  });

  it("resolves 1 once the deadline passes on a closer that never settles, and never starts the later ones", async () => {
    const { logger, lines } = memoryLogger();
    const started: string[] = [];
    const shutdown = new Shutdown({ deadlineMs: 300, logger, exit: () => undefined })
      .register("first", () => void started.push("first"))
      .register("stuck", () => {
        started.push("stuck");
        return never();
      })
      .register("later", () => void started.push("later"));
    const run = shutdown.run();
    const state = track(run);
    await delay(50);
    assert.equal(state.settled(), false, "run() must wait for the deadline");
    assert.equal(await within(run, 5_000, "run() after the deadline"), 1);
    await delay(50);
    assert.deepEqual(started, ["first", "stuck"]);
    const deadline = lines().find((l) => l.msg === "shutdown deadline passed");
    assert.ok(deadline, "the deadline is logged");
    assert.equal(deadline.level, 50);
    assert.equal(deadline.pending, "stuck");
    assert.equal(deadline.deadlineMs, 300);
  });

  it("closes each resource once when run() is called twice, and both calls get the same code", async () => {
    const counts = { a: 0, b: 0 };
    const shutdown = new Shutdown({ exit: () => undefined })
      .register("a", async () => {
        counts.a++;
        await delay(20);
      })
      .register("b", () => {
        counts.b++;
        throw new Error("b failed");
      });
    const first = shutdown.run();
    const second = shutdown.run();
    assert.deepEqual(await within(Promise.all([first, second]), 5_000, "both runs"), [1, 1]);
    assert.equal(await within(shutdown.run(), 5_000, "a third run"), 1, "a run after the stop reports its code");
    assert.deepEqual(counts, { a: 1, b: 1 });
  });

  it("reports stopping from the moment run() starts, inside every closer too (the first included)", async () => {
    const seen: [string, boolean][] = [];
    const shutdown = new Shutdown({ exit: () => undefined });
    shutdown.register("intake", () => void seen.push(["intake", shutdown.stopping]));
    shutdown.register("pool", () => void seen.push(["pool", shutdown.stopping]));
    assert.equal(shutdown.stopping, false);
    const run = shutdown.run();
    assert.equal(shutdown.stopping, true);
    await within(run, 5_000, "run()");
    assert.deepEqual(seen, [
      ["intake", true],
      ["pool", true],
    ]);
    assert.equal(shutdown.stopping, true, "stays true after the stop");
  });

  it("does not start a second stop when a closer itself calls run()", async () => {
    let closes = 0;
    const shutdown = new Shutdown({ exit: () => undefined });
    let inner: Promise<number> | undefined;
    let asked = false;
    shutdown.register("intake", () => {
      closes++;
      // e.g. the worker loop's own stop path asking for a shutdown
      if (asked) return;
      asked = true;
      inner = shutdown.run();
    });
    assert.equal(await within(shutdown.run(), 5_000, "run()"), 0);
    assert.equal(await within(inner ?? Promise.resolve(-1), 5_000, "the inner run()"), 0);
    assert.equal(closes, 1, "the closer ran once");
  });
});

describe("Shutdown.install (signals emitted in process)", () => {
  it("runs the stop on a signal and calls exit with its code once it ends", async () => {
    const exits: number[] = [];
    let release!: () => void;
    const closing = new Promise<void>((resolve) => (release = resolve));
    const shutdown = new Shutdown({ signals: ["SIGUSR2"], exit: (code) => exits.push(code) })
      .register("slow", () => closing)
      .register("broken", () => {
        throw new Error("broken");
      });
    const before = process.listenerCount("SIGUSR2");
    shutdown.install();
    try {
      assert.equal(process.listenerCount("SIGUSR2"), before + 1);
      process.emit("SIGUSR2", "SIGUSR2");
      assert.equal(shutdown.stopping, true);
      await delay(20);
      assert.deepEqual(exits, [], "no exit before the closers finish");
      release();
      await within(shutdown.run(), 5_000, "the stop");
      await delay(10);
      assert.deepEqual(exits, [1]);
    } finally {
      shutdown.uninstall();
    }
    assert.equal(process.listenerCount("SIGUSR2"), before, "uninstall removes the listeners");
  });

  it("exits 130 at once on a second signal while the stop is still running", async () => {
    const exits: number[] = [];
    const shutdown = new Shutdown({ signals: ["SIGUSR2"], exit: (code) => exits.push(code) }).register("stuck", never);
    shutdown.install();
    try {
      process.emit("SIGUSR2", "SIGUSR2");
      await delay(10);
      assert.deepEqual(exits, []);
      process.emit("SIGUSR2", "SIGUSR2");
      assert.deepEqual(exits, [130]);
    } finally {
      shutdown.uninstall();
    }
  });
});

interface Child {
  proc: ChildProcess;
  stdout: () => string[];
  stderr: () => string;
  waitFor: (line: string, ms: number) => Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the fixture in `mode` and waits for its "ready" line. */
async function startFixture(mode: string): Promise<Child> {
  const proc = spawn(process.execPath, ["--import", "tsx", FIXTURE, mode], { cwd: PACKAGE_DIR, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const waiters: (() => void)[] = [];
  proc.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    for (const w of waiters) w();
  });
  proc.stderr?.setEncoding("utf8").on("data", (chunk: string) => void (err += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on("exit", (code, signal) => resolve({ code, signal }));
  });
  const stdout = () => out.split("\n").filter(Boolean);
  const waitFor = (line: string, ms: number) =>
    within(
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (stdout().includes(line)) resolve();
        };
        waiters.push(check);
        void exit.then(({ code }) => reject(new Error(`fixture exited (${code}) before "${line}"; stdout:\n${out}\nstderr:\n${err}`)));
        check();
      }),
      ms,
      `"${line}" from the fixture (stdout so far: ${JSON.stringify(out)})`,
    );
  const child: Child = { proc, stdout, stderr: () => err, waitFor, exit };
  try {
    await waitFor("ready", 15_000);
  } catch (e) {
    proc.kill("SIGKILL");
    throw e;
  }
  return child;
}

/** Runs `test` with a started fixture; kills it if the test leaves it running. */
async function withFixture(mode: string, test: (child: Child) => Promise<void>): Promise<void> {
  const child = await startFixture(mode);
  try {
    await test(child);
  } finally {
    if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill("SIGKILL");
  }
}

describe("Shutdown with real signals (child process)", () => {
  it("on SIGTERM closes resources in order, waiting for the slow one, and exits 0", CHILD_TEST, () =>
    withFixture("graceful", async (child) => {
      child.proc.kill("SIGTERM");
      const { code, signal } = await within(child.exit, 10_000, "the fixture to exit");
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, child.stderr());
      assert.deepEqual(child.stdout(), ["ready", "intake:start", "intake:end", "queue:start", "queue:end", "pool:start", "pool:end", "exit 0"]);
      assert.match(child.stderr(), /"signal":"SIGTERM".*"msg":"shutting down"/);
    }),
  );

  it("on SIGINT stops the same graceful way", CHILD_TEST, () =>
    withFixture("graceful", async (child) => {
      child.proc.kill("SIGINT");
      const { code } = await within(child.exit, 10_000, "the fixture to exit");
      assert.equal(code, 0, child.stderr());
      assert.deepEqual(child.stdout(), ["ready", "intake:start", "intake:end", "queue:start", "queue:end", "pool:start", "pool:end", "exit 0"]);
    }),
  );

  it("exits 1 at the deadline when a closer hangs, without starting the later closers", CHILD_TEST, () =>
    withFixture("hang", async (child) => {
      child.proc.kill("SIGTERM");
      const { code } = await within(child.exit, 5_000, "the fixture to exit after its 300 ms deadline");
      assert.equal(code, 1, child.stderr());
      assert.deepEqual(child.stdout(), ["ready", "stuck:start", "exit 1"]);
      assert.match(child.stderr(), /"pending":"stuck".*"msg":"shutdown deadline passed"/);
    }),
  );

  it("exits 1 at the deadline when a closer hangs after everything else holding the process open has closed", CHILD_TEST, () =>
    withFixture("hang-idle", async (child) => {
      child.proc.kill("SIGTERM");
      const { code } = await within(child.exit, 5_000, "the fixture to exit after its 300 ms deadline");
      // A stop that never finished must not look like a clean exit to the supervisor.
      assert.equal(code, 1, `exit code ${code}; stdout: ${JSON.stringify(child.stdout())}; stderr:\n${child.stderr()}`);
      assert.deepEqual(child.stdout(), ["ready", "intake:start", "intake:end", "stuck:start", "exit 1"]);
    }),
  );

  for (const second of ["SIGTERM", "SIGINT"] as const) {
    it(`forces exit 130 at once on a second signal (${second}) during a slow close`, CHILD_TEST, () =>
      withFixture("slow", async (child) => {
        child.proc.kill("SIGTERM");
        await child.waitFor("slow:start", 5_000);
        child.proc.kill(second);
        // The slow closer takes 8 s and the deadline is 10 s: only the forced exit fits in 4 s.
        const { code } = await within(child.exit, 4_000, "the forced exit");
        assert.equal(code, 130, child.stderr());
        assert.deepEqual(child.stdout(), ["ready", "slow:start", "exit 130"]);
        assert.match(child.stderr(), new RegExp(`"signal":"${second}".*"msg":"second signal: exiting now"`));
      }),
    );
  }
});
