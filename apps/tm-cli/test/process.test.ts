import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { YouTube } from "@prismq/task-types";
import { KEY, TestServer, uid } from "./helpers.js";

const APP_DIR = fileURLToPath(new URL("..", import.meta.url));

/** Runs `node --import tsx src/cli.ts <argv>` as its own process, with exactly `env` (plus PATH). */
function cli(argv: string[], env: Record<string, string>, stdin?: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", ...argv], {
      cwd: APP_DIR,
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
    child.stdin.end(stdin ?? "");
  });
}

describe("tm as a process", () => {
  const server = new TestServer();
  before(async () => {
    await server.start();
  });
  after(async () => {
    await server.destroy();
  });

  test("health --json exits 0 and prints one JSON document", async () => {
    const r = await cli(["health", "--json"], server.env);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "");
    const doc = JSON.parse(r.out) as { status: string; database: string; url: string };
    assert.equal(doc.status, "healthy");
    assert.equal(doc.database, "connected");
    assert.equal(doc.url, server.url);
  });

  test("register, then create from stdin, then show: the whole path through real stdio", async () => {
    assert.equal((await cli(["register"], server.env)).code, 0);
    const id = `p${uid()}0`.slice(0, 11);
    const created = await cli(["create", YouTube.Video.name, "-", "--json"], server.env, JSON.stringify({ video_id: id }));
    assert.equal(created.code, 0, created.err);
    const taskId = (JSON.parse(created.out) as { id: number }).id;
    const shown = await cli(["show", String(taskId)], server.env);
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, new RegExp(`"video_id": "${id}"`));
    assert.ok(!shown.out.includes(KEY) && !shown.err.includes(KEY));
  });

  test("missing environment exits 2, an unknown command exits 2, and nothing goes to stdout", async () => {
    const noEnv = await cli(["health"], {});
    assert.equal(noEnv.code, 2);
    assert.equal(noEnv.out, "");
    assert.match(noEnv.err, /TASKMANAGER_API_URL is not set/);
    const unknown = await cli(["nope"], server.env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command "nope"/);
  });

  test("a refused request exits 1 and an unreachable server exits 3", async () => {
    const refused = await cli(["create", `Unknown.${uid()}`, '{"a":1}'], server.env);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /Task type not found/);
    const down = await cli(["health"], { TASKMANAGER_API_URL: "http://127.0.0.1:1/api", TASKMANAGER_API_KEY: KEY });
    assert.equal(down.code, 3);
  });
});
