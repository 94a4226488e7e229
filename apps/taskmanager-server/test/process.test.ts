import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { envRows, envTable, readmeEnvTable } from "@prismq/env-help";
import { envShape } from "../src/config.js";
import { call } from "./helpers.js";

const entry = fileURLToPath(new URL("../src/index.ts", import.meta.url));

/** Starts the real server process and resolves once it prints its URL. */
function launch(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    // The banner is on stderr; stdout holds only JSON log lines.
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /TaskManager API: (\S+)/.exec(err);
      if (m) resolve(m[1] as string);
    });
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, url, exited, output: () => out + err, streams: () => [out, err] as const };
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

  it("writes the human banner to stderr; stdout holds only JSON log lines", { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tm-proc-"));
    dirs.push(dir);
    const p = launch({ DATA_DIR: dir });
    await p.url;
    p.child.kill("SIGTERM");
    assert.equal(await p.exited, 0);
    const [stdout, stderr] = p.streams();
    assert.match(stderr, /TaskManager API: http:\/\/\S+\/api {2}\(docs: /);
    assert.match(stderr, /API key: in /);
    const lines = stdout.split("\n").filter((l) => l.trim() !== "");
    assert.ok(lines.length >= 2, "it logged");
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `a JSON line: ${line}`);
    assert.doesNotMatch(stdout, /TaskManager API:/);
  });

  it("with LOG_PRETTY=1 writes readable log lines instead of JSON", { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tm-proc-"));
    dirs.push(dir);
    const p = launch({ DATA_DIR: dir, LOG_PRETTY: "1" });
    await p.url;
    p.child.kill("SIGTERM");
    assert.equal(await p.exited, 0);
    const [stdout] = p.streams();
    const plain = stdout.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
    assert.match(plain, /INFO.*: TaskManager listening on http:/);
    assert.throws(() => JSON.parse(plain.split("\n")[0] ?? ""));
  });

  it("answers --help with every variable (default and meaning) and exits 0 without starting", { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "tm-proc-"));
    dirs.push(dir);
    const p = launch({ DATA_DIR: dir }, ["--help"]);
    await assert.rejects(p.url);
    assert.equal(await p.exited, 0);
    const [stdout] = p.streams();
    assert.match(stdout, /^taskmanager-server: the self-hosted TaskManager API/);
    for (const row of envRows(envShape)) {
      assert.match(stdout, new RegExp(`^ {2}${row.name} +${(row.default || "-").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "m"), row.name);
      assert.ok(stdout.includes(row.meaning), `${row.name}'s meaning`);
    }
    assert.equal(existsSync(join(dir, "api-key")), false, "it did not start");
  });

  it("the README's table of variables is the one generated from the config schema", () => {
    const table = readmeEnvTable(readFileSync(new URL("../README.md", import.meta.url), "utf8"));
    assert.equal(table, envTable(envShape), `paste this between the env-table markers of README.md (pnpm docs:env):\n${envTable(envShape)}`);
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
