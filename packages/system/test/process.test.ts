import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ManagedProcess } from "../src/process.js";

const dir = mkdtempSync(join(tmpdir(), "system-process-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("ManagedProcess", () => {
  it("waits for a ready line, keeps the output and logs it to a 0600 file in a 0700 directory", async () => {
    const entry = script("ready.mjs", `console.log("warming up"); setTimeout(() => console.log("READY at " + process.env.WHERE), 50); process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000);`);
    const logDir = join(dir, "logs");
    const p = new ManagedProcess({ name: "ready", entry, env: { WHERE: "here" }, logDir });
    p.start();
    assert.equal(p.ready, false);
    assert.equal(await p.line(/READY at (\S+)/, 10_000), "here");
    assert.equal(p.ready, true);
    const stop = await p.stop("SIGTERM", 5_000);
    assert.equal(stop.code, 0);
    assert.equal(stop.killed, false);
    assert.match(p.output, /warming up\nREADY at here/);
    assert.equal(statSync(logDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(logDir, "ready.log")).mode & 0o777, 0o600);
  });

  it("kills a process that ignores SIGTERM after the grace period", async () => {
    const entry = script("stubborn.mjs", `process.on("SIGTERM", () => console.log("ignored")); console.log("up"); setInterval(() => {}, 1000);`);
    const p = new ManagedProcess({ name: "stubborn", entry, env: {} });
    p.start();
    await p.line(/(up)/, 10_000);
    const stop = await p.stop("SIGTERM", 300);
    assert.equal(stop.killed, true);
    assert.equal(stop.signal, "SIGKILL");
    assert.equal(p.running, false);
  });

  it("rejects with the output when the process exits before its ready line, and keeps earlier runs' output on restart", async () => {
    const entry = script("fails.mjs", `console.log("run " + process.pid); process.exit(3);`);
    const p = new ManagedProcess({ name: "fails", entry, env: {} });
    p.start();
    await assert.rejects(p.line(/(never)/, 10_000), /fails exited \(3\) before printing.*\nrun \d+/s);
    p.start();
    await p.exited;
    assert.equal(p.output.match(/run \d+/g)?.length, 2);
    assert.equal(p.current.match(/run \d+/g)?.length, 1);
  });

  it("marks a process stopped before its ready line as stopped while starting", async () => {
    const entry = script("slow.mjs", `setInterval(() => {}, 1000);`);
    const p = new ManagedProcess({ name: "slow", entry, env: {} });
    p.start();
    const stop = await p.stop("SIGTERM", 5_000);
    assert.equal(stop.signal, "SIGTERM");
    assert.equal(stop.whileStarting, true);
  });
});
