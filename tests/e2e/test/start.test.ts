// `pnpm start` as a dev server: one Ctrl-C stops everything gracefully, each data dir is a run of
// its own on a shared Redis, and the command line answers --help and refuses what it does not know.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { TaskManagerClient } from "@prismq/taskmanager-client";
import { Reddit, YouTube } from "@prismq/task-types";
import { startAppProcess, until } from "@prismq/worker-kit/testing";
import { dropPrefix, runStart, running, tasksIn, type StartRun } from "./start-run.js";
import { APPS, REDIS_URL, root } from "./system.js";

/** The TaskManager URL and key of a run, once it has printed them. */
async function taskManagerOf(run: StartRun, dataDir: string): Promise<TaskManagerClient> {
  let url: string | undefined;
  let ended = false;
  void run.exited.then(() => (ended = true));
  await until(() => {
    url = /TaskManager API: (\S+)/.exec(run.output())?.[1];
    return url !== undefined || ended;
    // pnpm start prints it once all seven processes are ready: on a CI machine running other suites beside this one, that took over 60 s.
  }, 180_000, "the TaskManager's URL in the output");
  assert.ok(url, `pnpm start printed its TaskManager's URL:\n${run.output()}`);
  return new TaskManagerClient({ baseUrl: url, apiKey: readFileSync(join(dataDir, "api-key"), "utf8").trim(), retry: false });
}

async function exitWithin(run: StartRun, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`pnpm start did not exit within ${ms} ms:\n${run.output().slice(-3000)}`)), ms)));
  try {
    return await Promise.race([run.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Kills what a run left (only when a test failed: a passing run leaves nothing). */
function killLeft(pids: number[]): void {
  for (const pid of pids) if (running(pid)) process.kill(pid, "SIGKILL");
}

/**
 * Runs `pnpm start` in a fresh data dir with the offline APIs `latencyMs` late, waits until a
 * processor holds claimed tasks (mid-batch), and hands the run and its processes to `test`. Whatever
 * it leaves (only when a test failed) is killed, and the data dir and its Redis keys removed.
 */
async function whileClaimed(name: string, latencyMs: number, test: (run: StartRun, dir: string, pids: number[]) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `e2e-start-${name}-`));
  const run = runStart(["--data-dir", dir, "--port", "0", "--quiet", "--latency", String(latencyMs)], { REDIS_URL });
  let pids: number[] = [];
  try {
    const client = await taskManagerOf(run, dir);
    try {
      await until(async () => {
        for await (const t of client.listTasks({ status: "claimed", pageSize: 1 })) return t !== undefined;
        return false;
      }, 120_000, "a processor to hold claimed tasks", 50);
    } finally {
      await client.close();
    }
    pids = run.descendants();
    await test(run, dir, pids);
  } finally {
    killLeft([...pids, ...run.descendants()]);
    await dropPrefix(REDIS_URL, dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("pnpm start: Ctrl-C in the middle of a run (hybrid mode, offline APIs 200 ms late)", () => {
  it("one Ctrl-C: each app gets exactly one signal and exits 0, no task is left claimed, no process is left, pnpm start exits 0", { timeout: 420_000 }, async () => {
    // Under load: a processor holds claimed tasks (mid-batch) when the Ctrl-C comes.
    await whileClaimed("ctrl-c", 200, async (run, dir, pids) => {
      assert.ok(pids.length >= 7, `the start script, the server, the sandbox and four apps run below pnpm (pids ${pids.join(", ")})`);
      run.signalGroup("SIGINT");
      const { code, signal } = await exitWithin(run, 90_000);
      const output = run.output();
      assert.equal(signal, null, `pnpm start ended by ${signal}, not by exiting:\n${output.slice(-3000)}`);
      assert.equal(code, 0, output.slice(-3000));
      assert.match(output, /Stopped: every process exited 0/);
      assert.doesNotMatch(output, /ELIFECYCLE|forced/);

      for (const app of APPS) {
        const log = readFileSync(join(dir, "logs", `${app}.log`), "utf8");
        const signals = log.split("\n").filter((l) => l.includes('"msg":"shutting down"') || l.includes("second signal"));
        assert.equal(signals.length, 1, `${app} got exactly one signal:\n${signals.join("\n")}`);
        assert.match(signals[0] ?? "", /"signal":"SIGTERM"/, `${app} got the SIGTERM of pnpm start, not the terminal's SIGINT`);
      }
      const left = pids.filter(running);
      assert.deepEqual(left, [], "no process is left");
      const claimed = (await tasksIn(dir)).filter((t) => t.status === "claimed");
      assert.deepEqual(claimed.map((t) => `${t.type} ${t.id} by ${t.claimedBy}`), [], "no task is left claimed");
    });
  });
});

describe("pnpm start: a second Ctrl-C while the apps are still stopping (offline APIs 3 s late)", () => {
  it("forces: every process is killed at once, pnpm start exits 130, no process is left", { timeout: 360_000 }, async () => {
    await whileClaimed("force", 3000, async (run, _dir, pids) => {
      run.signalGroup("SIGINT");
      await until(() => /Ctrl-C: stopping/.test(run.output()), 10_000, "the graceful stop to begin");
      // A second key press, well after the first (pnpm's copy of the first comes within ms).
      await new Promise((r) => setTimeout(r, 800));
      const stillStopping = pids.filter(running);
      assert.ok(stillStopping.length > 0, "processes were still stopping (a processor waits on a 3 s API call)");
      run.signalGroup("SIGINT");
      const { code } = await exitWithin(run, 10_000);
      assert.equal(code, 130, run.output().slice(-3000));
      assert.match(run.output(), /Ctrl-C again: forced/);
      assert.deepEqual(pids.filter(running), [], "no process is left");
    });
  });
});

describe("pnpm start: a new data dir on a Redis that an earlier run used", () => {
  it("starts from scratch: both runs discover videos and posts; each data dir has its own Redis prefix, kept for the next run", { timeout: 600_000 }, async () => {
    const dirs = [mkdtempSync(join(tmpdir(), "e2e-start-a-")), mkdtempSync(join(tmpdir(), "e2e-start-b-"))];
    try {
      for (const dir of dirs) {
        const run = runStart(["--data-dir", dir, "--port", "0", "--quiet"], { REDIS_URL });
        let pids: number[] = [];
        try {
          const client = await taskManagerOf(run, dir);
          try {
            const has = async (type: string) => {
              for await (const t of client.listTasks({ type, pageSize: 1 })) return t !== undefined;
              return false;
            };
            await until(async () => (await has(YouTube.Video.name)) && (await has(Reddit.Post.name)), 90_000, `the run in ${dir} to discover videos and posts`, 250);
          } finally {
            await client.close();
          }
          pids = run.descendants();
          run.signalGroup("SIGINT");
          assert.equal((await exitWithin(run, 90_000)).code, 0, run.output().slice(-3000));
        } finally {
          killLeft([...pids, ...run.descendants()]);
        }
      }
      const prefixes = dirs.map((d) => readFileSync(join(d, "redis-prefix"), "utf8").trim());
      assert.notEqual(prefixes[0], prefixes[1], "each data dir has a Redis prefix of its own");
      // The same data dir resumes: the prefix stays where the run put it.
      for (const [i, d] of dirs.entries()) assert.equal(readFileSync(join(d, "redis-prefix"), "utf8").trim(), prefixes[i]);
    } finally {
      for (const dir of dirs) {
        await dropPrefix(REDIS_URL, dir);
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

describe("pnpm start's command line", () => {
  const run = async (args: string[], env: Record<string, string | undefined> = {}) => {
    const dir = join(mkdtempSync(join(tmpdir(), "e2e-start-args-")), "data");
    const p = startAppProcess(env, "scripts/start.ts", { args: [...args, "--data-dir", dir], cwd: root });
    const code = await p.exited;
    const started = existsSync(dir);
    rmSync(join(dir, ".."), { recursive: true, force: true });
    return { code, stdout: p.stdout(), stderr: p.stderr(), started };
  };

  it("--help (and -h) print the usage with every option and exit 0, starting nothing", { timeout: 60_000 }, async () => {
    for (const flag of ["--help", "-h"]) {
      const r = await run([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Usage: pnpm start \[options\]/);
      for (const option of ["--once", "--data-dir", "--port", "--taskmanager URL", "--timeout", "--latency", "--quiet", "TASKMANAGER_API_KEY"]) assert.ok(r.stdout.includes(option), `usage names ${option}`);
      assert.equal(r.stderr, "");
      assert.equal(r.started, false, "nothing started: no data dir");
    }
  });

  it("an unknown option, a bad value or --taskmanager without its key: one line naming it, the usage, exit 2, nothing started", { timeout: 60_000 }, async () => {
    const cases: Array<{ args: string[]; env?: Record<string, string>; line: RegExp }> = [
      { args: ["--bogus"], line: /^pnpm start: Unknown option '--bogus'$/ },
      { args: ["extra"], line: /^pnpm start: .*'extra'/ },
      { args: ["--port", "http"], line: /^pnpm start: --port must be a whole number from 0 to 65535, not "http"$/ },
      { args: ["--timeout", "-5"], line: /^pnpm start: / },
      { args: ["--taskmanager", "http://127.0.0.1:1/api"], line: /^pnpm start: --taskmanager needs the TaskManager's key in TASKMANAGER_API_KEY$/ },
      { args: ["--taskmanager", "not a url"], env: { TASKMANAGER_API_KEY: "k" }, line: /^pnpm start: --taskmanager must be an http\(s\) URL/ },
    ];
    for (const c of cases) {
      const r = await run(c.args, c.env);
      assert.equal(r.code, 2, `${c.args.join(" ")}: ${r.stderr}`);
      const [first, blank, usage] = r.stderr.split("\n");
      assert.match(first ?? "", c.line, r.stderr);
      assert.equal(blank, "");
      assert.match(usage ?? "", /^Usage: pnpm start/);
      assert.doesNotMatch(r.stderr, /TypeError|ERR_PARSE_ARGS|\n\s+at /, "no stack trace");
      assert.equal(r.stdout, "");
      assert.equal(r.started, false, "nothing started: no data dir");
    }
  });
});
