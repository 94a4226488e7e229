import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { envRows, envTable, readmeEnvTable } from "@prismq/env-help";
import { envShape } from "../src/config.js";
import { call } from "./helpers.js";

const entry = fileURLToPath(new URL("../src/index.ts", import.meta.url));

const launched: ChildProcess[] = [];

/** Starts the real server process and resolves once it prints its URL. */
function launch(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  launched.push(child);
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
  after(() => {
    // A test that failed before stopping its server must not keep the run alive.
    for (const c of launched) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

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

  it("creates its data directory 0700 and the key and database files 0600", async () => {
    const root = mkdtempSync(join(tmpdir(), "tm-proc-"));
    dirs.push(root);
    const dir = join(root, "fresh", "data");
    const umask = process.umask(0o022);
    try {
      const p = launch({ DATA_DIR: dir });
      const url = await p.url;
      const key = readFileSync(join(dir, "api-key"), "utf8").trim();
      assert.equal((await call(url, "POST", "/task-types/register", { name: "Proc.Files", version: "1", param_schema: { type: "object" } }, { "X-API-Key": key })).status, 200);
      const mode = (path: string) => statSync(path).mode & 0o777;
      assert.equal(mode(join(root, "fresh")), 0o700);
      assert.equal(mode(dir), 0o700);
      for (const file of ["api-key", "taskmanager.sqlite", "taskmanager.sqlite-wal", "taskmanager.sqlite-shm"]) {
        assert.equal(mode(join(dir, file)), 0o600, file);
      }
      p.child.kill("SIGTERM");
      assert.equal(await p.exited, 0);
    } finally {
      process.umask(umask);
    }
  });

  it("refuses to start with a key that is not printable ASCII, exit code 2, naming the variable and never the key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tm-proc-"));
    dirs.push(dir);
    const key = "clé-secrète-0123456789";
    const p = launch({ DATA_DIR: dir, API_KEYS: `good-key-0123456789,${key}` });
    await assert.rejects(p.url);
    assert.equal(await p.exited, 2);
    assert.match(p.output(), /API_KEYS: key 2 of 2 in API_KEYS holds a character outside printable ASCII/);
    assert.ok(!p.output().includes(key) && !p.output().includes("secr"), "the key is not printed");
    assert.ok(!existsSync(join(dir, "taskmanager.sqlite")), "nothing was opened");

    const spaced = launch({ DATA_DIR: dir, WORKER_API_KEYS: "a worker key with spaces" });
    await assert.rejects(spaced.url);
    assert.equal(await spaced.exited, 2);
    assert.match(spaced.output(), /WORKER_API_KEYS: key 1 of 1 in WORKER_API_KEYS holds a character outside printable ASCII/);
  });

  it("refuses to start on a key file that is not printable ASCII, exit code 2, naming the file and never the key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tm-proc-"));
    dirs.push(dir);
    const key = "schlüssel-aus-datei-0123456789";
    writeFileSync(join(dir, "api-key"), `${key}\n`, { mode: 0o600 });
    const p = launch({ DATA_DIR: dir });
    await assert.rejects(p.url);
    assert.equal(await p.exited, 2);
    assert.match(p.output(), /API_KEY_FILE: .*api-key holds a key with a character outside printable ASCII/);
    assert.ok(!p.output().includes(key) && !p.output().includes("datei"), "the key is not printed");
    assert.equal(readFileSync(join(dir, "api-key"), "utf8"), `${key}\n`, "the file is left as it was");
  });

  it("takes scoped keys from the environment: a read key gets 403 on a write, a worker key registers; no key is generated", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tm-proc-"));
    dirs.push(dir);
    const read = "proc-read-key-0123456789";
    const worker = "proc-worker-key-0123456789";
    const p = launch({ DATA_DIR: dir, READ_API_KEYS: read, WORKER_API_KEYS: worker });
    const url = await p.url;
    const body = { name: "Proc.Scoped", version: "1", param_schema: { type: "object" } };
    const refused = await call(url, "POST", "/task-types/register", body, { "X-API-Key": read });
    assert.equal(refused.status, 403);
    assert.match(refused.json.error, /^Forbidden/);
    assert.equal((await call(url, "POST", "/task-types/register", body, { "X-API-Key": worker })).status, 200);
    assert.equal((await call(url, "GET", "/task-types/Proc.Scoped", undefined, { "X-API-Key": read })).status, 200);
    assert.ok(!existsSync(join(dir, "api-key")), "no key file when keys are configured");
    p.child.kill("SIGTERM");
    assert.equal(await p.exited, 0);
    assert.ok(!p.output().includes(read) && !p.output().includes(worker));
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
