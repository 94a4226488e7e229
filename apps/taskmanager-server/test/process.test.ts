import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { call } from "./helpers.js";

const entry = fileURLToPath(new URL("../src/index.ts", import.meta.url));

/** Starts the real server process and resolves once it prints its URL. */
function launch(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /TaskManager API: (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, url, exited, output: () => out + err };
}

describe("the server process", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("starts on SQLite with a generated key kept in a 0600 file, and stops cleanly on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tm-proc-"));
    dirs.push(dir);
    const p = launch({ DATA_DIR: dir });
    const url = await p.url;
    const keyFile = join(dir, "api-key");
    const key = readFileSync(keyFile, "utf8").trim();
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal((await call(url, "GET", "/health", undefined, {})).status, 200);
    assert.equal((await call(url, "GET", "/tasks", undefined, { "X-API-Key": key })).status, 200);
    assert.ok(!p.output().includes(key), "the key is never printed or logged");
    p.child.kill("SIGTERM");
    assert.equal(await p.exited, 0);
    assert.match(p.output(), /"msg":"stopped"/);
    statSync(join(dir, "taskmanager.sqlite"));

    // A restart keeps the same key and the same data.
    const again = launch({ DATA_DIR: dir });
    const url2 = await again.url;
    assert.equal((await call(url2, "GET", "/tasks", undefined, { "X-API-Key": key })).status, 200);
    again.child.kill("SIGINT");
    assert.equal(await again.exited, 0);
  });

  it("refuses to start on bad configuration, naming each bad variable, exit code 2", async () => {
    const p = launch({ PORT: "nope", MAX_ATTEMPTS: "-3" });
    await assert.rejects(p.url);
    assert.equal(await p.exited, 2);
    assert.match(p.output(), /PORT: PORT must be a whole number/);
    assert.match(p.output(), /MAX_ATTEMPTS: /);
  });

  it("never writes configured keys or the database URL into its logs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tm-proc-"));
    dirs.push(dir);
    const secret = "super-secret-key-0123456789";
    const p = launch({ DATA_DIR: dir, API_KEYS: secret, LOG_LEVEL: "trace" });
    const url = await p.url;
    await call(url, "GET", "/tasks", undefined, { "X-API-Key": secret });
    await call(url, "GET", "/tasks", undefined, { "X-API-Key": "wrong-key-0123456789" });
    p.child.kill("SIGTERM");
    await p.exited;
    assert.ok(!p.output().includes(secret));
  });
});
