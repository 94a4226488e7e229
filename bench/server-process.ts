import type { ChildProcess } from "node:child_process";

/**
 * The URL a server process prints once it listens ("TaskManager API: <url>"), read from stdout and
 * stderr both: our server prints its banner on stderr (its stdout holds only JSON log lines), the
 * bare ceiling on stdout. Rejects if the process exits first or prints nothing within `timeoutMs`,
 * so a benchmark never waits forever.
 */
export function waitForServerUrl(child: ChildProcess, { pattern = /TaskManager API: (\S+)/, timeoutMs = 60_000 } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let found = false;
    const timer = setTimeout(() => reject(new Error(`no "${pattern.source}" within ${timeoutMs} ms: ${out.slice(-2000)}`)), timeoutMs);
    // Both pipes stay read for the process's life (a full pipe would stall it), but once the URL is
    // found nothing more is kept or searched.
    const read = (d: Buffer) => {
      if (found) return;
      out += d.toString();
      const m = pattern.exec(out);
      if (m) {
        found = true;
        out = "";
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code ?? signal}) before printing its URL: ${out.slice(-2000)}`));
    });
  });
}
