import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { it } from "node:test";
import { envRows, envTable, readmeEnvTable, type EnvShape } from "@prismq/env-help";

export { ItemRig, RecordingBudget, assertCompletedWithIdeas, assertSameIdeasAgain, assertTwoTasksShareOneIdea, dropRedisKeys, freePort, resultOf, startRig } from "./test-rigs.js";
export type { IdeaResult, ItemRigSetup, ItemType, TaskManagerLike } from "./test-rigs.js";

/** An app started as it is deployed, for tests: its own process, its output collected. */
export interface AppProcess {
  child: ChildProcessWithoutNullStreams;
  /** Its stdout lines that parsed as JSON (the pino log lines), in order. */
  lines: Array<Record<string, unknown>>;
  stdout: () => string;
  stderr: () => string;
  /** Its exit code (null: ended by a signal), once it has ended and all its output is read. */
  exited: Promise<number | null>;
  /** True once `exited` has resolved. */
  readonly ended: boolean;
  /** Sends `signal`, then SIGKILL when it has not ended within `deadlineMs`; resolves with its exit code and whether it had to be killed. */
  stop(signal?: NodeJS.Signals, deadlineMs?: number): Promise<{ code: number | null; killed: boolean }>;
}

export interface AppProcessOptions {
  /** Arguments after the entry. */
  args?: string[];
  /** Node's own options, before the entry, e.g. `--env-file=.env`. Default none. */
  nodeArgs?: string[];
  /** Working directory. Default: the current one. */
  cwd?: string;
}

/**
 * Starts an app's entry with exactly `env` (plus PATH), collecting its output:
 * by default its composition root `src/index.ts` of the current folder, run
 * with tsx; an entry ending in `.js` (a build) runs with plain node. Tests of
 * every app use it, so they run the apps the way they are deployed.
 */
export function startAppProcess(env: Record<string, string | undefined>, entry = "src/index.ts", options: AppProcessOptions = {}): AppProcess {
  const node = entry.endsWith(".js") ? [entry] : ["--import", "tsx", entry];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...node, ...(options.args ?? [])], { cwd: options.cwd, env: { PATH: process.env.PATH ?? "", ...env }, stdio: "pipe" });
  const lines: Array<Record<string, unknown>> = [];
  let out = "";
  let err = "";
  let buf = "";
  let ended = false;
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        const v: unknown = JSON.parse(line);
        if (v !== null && typeof v === "object") lines.push(v as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.on("error", (e) => (err += `\n[spawn error] ${e.message}\n`));
  // "close", not "exit": the output is read to its end by then.
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      ended = true;
      resolve(code);
    }),
  );
  const stop = async (signal: NodeJS.Signals = "SIGTERM", deadlineMs = 10_000) => {
    if (ended) return { code: await exited, killed: false };
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), deadlineMs)));
    const first = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (first !== "late") return { code: first, killed: false };
    child.kill("SIGKILL");
    return { code: await exited, killed: true };
  };
  return {
    child,
    lines,
    stdout: () => out,
    stderr: () => err,
    exited,
    get ended() {
      return ended;
    },
    stop,
  };
}

/** Checks `check` every `everyMs` (default 100) until it holds; throws after `ms`, naming `what`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string, everyMs = 100): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The two checks every service's `--help` needs, declared as tests in the caller's `describe`:
 * `--help` prints every variable of `shape` (name, default, meaning) after `summaryStart` and
 * exits 0 without starting anything; the README's table of variables is the generated one.
 */
export function itDocumentsItsVariables(options: { shape: EnvShape; summaryStart: string; readme: URL; entry?: string }): void {
  const { shape, summaryStart, readme, entry = "src/index.ts" } = options;
  it("--help prints every variable with its default and meaning, and exits 0 without starting", { timeout: 30_000 }, async () => {
    const app = startAppProcess({}, entry, { args: ["--help"] });
    assert.equal(await app.exited, 0, app.stderr());
    assert.ok(app.stdout().startsWith(summaryStart), app.stdout());
    for (const row of envRows(shape)) {
      assert.match(app.stdout(), new RegExp(`^ {2}${row.name} +${escapeRegExp(row.default || "-")} +`, "m"), row.name);
      assert.ok(app.stdout().includes(row.meaning), `${row.name}'s meaning`);
    }
    assert.equal(app.lines.length, 0, "nothing started");
  });

  it("the README's table of variables is the one generated from the config schema", () => {
    const table = readmeEnvTable(readFileSync(readme, "utf8"));
    assert.equal(table, envTable(shape), `paste this between the env-table markers of README.md (pnpm docs:env):\n${envTable(shape)}`);
  });
}
