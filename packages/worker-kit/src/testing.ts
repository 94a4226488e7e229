import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

/** An app started as it is deployed, for tests: its own process, its output collected. */
export interface AppProcess {
  child: ChildProcessWithoutNullStreams;
  /** Its stdout lines that parsed as JSON (the pino log lines), in order. */
  lines: Array<Record<string, unknown>>;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts an app's composition root (`src/index.ts` of the current folder, run
 * with tsx) with exactly `env` (plus PATH), collecting its output. Tests of
 * every app use it, so they run the apps the way they are deployed.
 */
export function startAppProcess(env: Record<string, string>, entry = "src/index.ts"): AppProcess {
  const child = spawn(process.execPath, ["--import", "tsx", entry], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: "pipe" });
  const lines: Array<Record<string, unknown>> = [];
  let out = "";
  let err = "";
  let buf = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, lines, stdout: () => out, stderr: () => err, exited };
}

/** Checks `check` every `everyMs` (default 100) until it holds; throws after `ms`, naming `what`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string, everyMs = 100): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
