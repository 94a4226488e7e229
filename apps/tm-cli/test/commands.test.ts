import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CATALOG, YouTube, Reddit } from "@prismq/task-types";
import type { TaskManagerClient } from "@prismq/taskmanager-client";
import { TestServer, tm, tmJson, uid } from "./helpers.js";

const VIDEO = YouTube.Video.name;
const SEARCH = YouTube.Search.name;

/** An 11-character video id of its own per call, so tasks never dedupe across tests. */
const videoId = () => `v${uid()}0`.slice(0, 11);

describe("tm against a real server", () => {
  const server = new TestServer();
  let client: TaskManagerClient;
  let env: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), "tm-cli-files-"));

  before(async () => {
    await server.start();
    client = server.client();
    env = server.env;
  });
  after(async () => {
    await client.close();
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test("health prints the status, the database and the URL; --json the same as one document", async () => {
    const r = await tm(["health"], { env });
    assert.equal(r.code, 0);
    assert.equal(r.err, "");
    assert.equal(r.out, `healthy  database connected  key accepted  ${server.url}\n`);
    const j = await tmJson(["health"], env);
    assert.equal(j.status, "healthy");
    assert.equal(j.database, "connected");
    assert.equal(j.url, server.url);
    assert.equal(typeof j.timestamp, "number");
  });

  test("register registers the whole catalog, then reports it unchanged", async () => {
    const first = await tm(["register"], { env });
    assert.equal(first.code, 0, first.err);
    for (const def of CATALOG) assert.match(first.out, new RegExp(`registered\\s+${def.name.replaceAll(".", "\\.")}\\n`));
    assert.match(first.out, new RegExp(`${CATALOG.length} task types: ${CATALOG.length} registered, 0 unchanged\\n$`));

    const again = await tmJson<{ registered: string[]; unchanged: string[] }>(["register"], env);
    assert.deepEqual(again.registered, []);
    assert.deepEqual(again.unchanged, CATALOG.map((d) => d.name));
  });

  test("types lists every registered type with how it compares with the catalog", async () => {
    const other = `Test.Other.${uid()}`;
    await client.registerTaskType({ name: other, version: "2.0.0", paramSchema: { type: "object", properties: { a: { type: "integer" } } } });
    const r = await tm(["types"], { env });
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^id\s+name\s+version\s+active\s+catalog\s+updated_at$/);
    assert.match(r.out, new RegExp(`${VIDEO.replaceAll(".", "\\.")}\\s+1\\.0\\.0\\s+yes\\s+same\\s`));
    assert.match(r.out, new RegExp(`${other.replaceAll(".", "\\.")}\\s+2\\.0\\.0\\s+yes\\s+-\\s`));

    const j = await tmJson<{ items: Array<{ name: string; catalog: string | null; paramSchema: object }>; count: number }>(["types"], env);
    assert.equal(j.count, CATALOG.length + 1);
    assert.equal(j.items.find((t) => t.name === VIDEO)?.catalog, "same");
    assert.equal(j.items.find((t) => t.name === other)?.catalog, null);
  });

  test("types <name> shows the type with its schema; an unknown name exits 1", async () => {
    const r = await tm(["types", VIDEO], { env });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^name:\\s+${VIDEO.replaceAll(".", "\\.")}\\n`));
    assert.match(r.out, /catalog:\s+same as the catalog\n/);
    assert.match(r.out, /param_schema:\n {2}\{\n {4}"type": "object",/);
    assert.match(r.out, /"video_id"/);

    const j = await tmJson<{ name: string; version: string; paramSchema: unknown; catalog: string }>(["types", VIDEO], env);
    assert.equal(j.name, VIDEO);
    assert.equal(j.version, YouTube.Video.version);
    assert.deepEqual(j.paramSchema, YouTube.Video.schema);
    assert.equal(j.catalog, "same");

    const missing = await tm(["types", `No.Such.${uid()}`], { env });
    assert.equal(missing.code, 1);
    assert.equal(missing.out, "");
    assert.match(missing.err, /task type No\.Such\.\w+ not found/);
  });

  test("create takes params inline, and a repeat is reported as deduplicated", async () => {
    const id = videoId();
    const r = await tm(["create", VIDEO, JSON.stringify({ video_id: id })], { env });
    assert.equal(r.code, 0, r.err);
    const m = /^created task (\d+) \(PrismQ\.IdeaInspiration\.YouTube\.Video\): status pending\n$/.exec(r.out);
    assert.ok(m, r.out);
    const task = await client.getTask(Number(m[1]));
    assert.deepEqual(task?.params, { video_id: id });

    const again = await tm(["create", VIDEO, JSON.stringify({ video_id: id })], { env });
    assert.equal(again.code, 0);
    assert.equal(again.out, `task ${m[1]} already exists (deduplicated): status pending\n`);

    const j = await tmJson<{ id: number; type: string; status: string; deduplicated: boolean; dedupeKey: string }>(
      ["create", VIDEO, JSON.stringify({ video_id: id })],
      env,
    );
    assert.equal(j.id, Number(m[1]));
    assert.equal(j.type, VIDEO);
    assert.equal(j.deduplicated, true);
    assert.match(j.dedupeKey, /^[0-9a-f]{64}$/);
  });

  test("create reads params from @file and from stdin (-), and sets --priority", async () => {
    const file = join(dir, "search.json");
    const query = `home lab ${uid()}`;
    writeFileSync(file, JSON.stringify({ query, max_results: 10 }));
    const fromFile = await tmJson<{ id: number; deduplicated: boolean; warning?: string }>(["create", SEARCH, `@${file}`, "--priority", "7"], env);
    assert.equal(fromFile.deduplicated, false);
    assert.equal(fromFile.warning, undefined, "our server stores the priority: no warning");
    const t1 = await client.getTask(fromFile.id);
    assert.deepEqual(t1?.params, { max_results: 10, query });
    assert.equal(t1?.priority, 7);

    const post = `p${uid()}`.slice(0, 12);
    const fromStdin = await tm(["create", Reddit.Post.name, "-", "--json"], { env, stdin: JSON.stringify({ post_id: post }) });
    assert.equal(fromStdin.code, 0, fromStdin.err);
    const t2 = await client.getTask((JSON.parse(fromStdin.out) as { id: number }).id);
    assert.deepEqual(t2?.params, { post_id: post });
  });

  test("create canonicalises catalog params (hops 0 dropped, keys sorted) so they dedupe with the apps' tasks", async () => {
    const id = videoId();
    const created = await YouTube.Video.create(client, { video_id: id });
    const j = await tmJson<{ id: number; deduplicated: boolean }>(["create", VIDEO, JSON.stringify({ hops: 0, video_id: id })], env);
    assert.equal(j.id, created.id);
    assert.equal(j.deduplicated, true);
  });

  test("create of a type outside the catalog sends the params as given, for the server to validate", async () => {
    const type = `Test.Free.${uid()}`;
    await client.registerTaskType({ name: type, version: "1.0.0", paramSchema: { type: "object", required: ["n"], properties: { n: { type: "integer" } } } });
    const ok = await tmJson<{ id: number; status: string }>(["create", type, '{"n":3}'], env);
    assert.equal(ok.status, "pending");
    const refused = await tm(["create", type, '{"n":"three"}'], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.err, /Parameter validation failed/);
  });

  test("create validates catalog params locally: the error names the fields and nothing is created", async () => {
    const before = await tmJson<{ count: number }>(["tasks", "--type", VIDEO, "--limit", "1000"], env);
    const r = await tm(["create", VIDEO, '{"video_id":"short","extra":1}'], { env });
    assert.equal(r.code, 2);
    assert.equal(r.out, "");
    assert.match(r.err, /invalid params for PrismQ\.IdeaInspiration\.YouTube\.Video \(checked locally .*nothing was sent\)/);
    assert.match(r.err, /video_id must match pattern/);
    assert.match(r.err, /extra/);
    const afterwards = await tmJson<{ count: number }>(["tasks", "--type", VIDEO, "--limit", "1000"], env);
    assert.equal(afterwards.count, before.count);

    const json = await tm(["create", VIDEO, "{}", "--json"], { env });
    assert.equal(json.code, 2);
    assert.equal(json.out, "");
    const doc = JSON.parse(json.err) as { error: { exitCode: number; code: string; message: string } };
    assert.equal(doc.error.exitCode, 2);
    assert.match(doc.error.message, /non-empty JSON object/);
  });

  test("tasks prints a table newest first with each task's priority, filters by status and type, and honours --limit", async () => {
    const type = `Test.List.${uid()}`;
    await client.registerTaskType({ name: type, version: "1.0.0", paramSchema: { type: "object", properties: { n: { type: "integer" } } } });
    const ids: number[] = [];
    for (let n = 1; n <= 3; n++) ids.push((await client.createTask(type, { n }, { priority: n * 10 - 20 })).id);
    const claimer = server.client("lister-worker");
    const claimed = await claimer.claimTask({ taskType: type });
    await claimer.close();
    assert.equal(claimed?.id, ids[0]);

    const r = await tm(["tasks", "--type", type], { env });
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^\s*id\s+type\s+status\s+priority\s+attempts\s+claimed_by\s+created_at$/);
    assert.equal(lines.length, 4);
    assert.match(lines[1] ?? "", new RegExp(`^\\s*${ids[2]}\\s+${type.replaceAll(".", "\\.")}\\s+pending\\s+10\\s+0\\s+-\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$`));
    assert.match(lines[2] ?? "", new RegExp(`^\\s*${ids[1]}\\s+\\S+\\s+pending\\s+0\\s+0\\s+-\\s`));
    assert.match(lines[3] ?? "", new RegExp(`^\\s*${ids[0]}\\s+\\S+\\s+claimed\\s+-10\\s+1\\s+lister-worker\\s`));

    const claimedOnly = await tmJson<{ items: Array<{ id: number; status: string; claimedBy: string }>; count: number }>(
      ["tasks", "--type", type, "--status", "claimed"],
      env,
    );
    assert.equal(claimedOnly.count, 1);
    assert.equal(claimedOnly.items[0]?.id, ids[0]);
    assert.equal(claimedOnly.items[0]?.claimedBy, "lister-worker");

    const limited = await tm(["tasks", "--type", type, "--limit", "2"], { env });
    assert.equal(limited.out.trimEnd().split("\n").length, 4);
    assert.match(limited.out, /\(the newest 2; --limit <n> shows more\)\n$/);
    const limitedJson = await tmJson<{ count: number }>(["tasks", "--type", type, "--limit", "2"], env);
    assert.equal(limitedJson.count, 2);

    const none = await tm(["tasks", "--type", `Nothing.${uid()}`], { env });
    assert.equal(none.out, "no tasks\n");
  });

  test("show prints the task's fields, params, result, error and history", async () => {
    const type = `Test.Show.${uid()}`;
    await client.registerTaskType({ name: type, version: "1.0.0", paramSchema: { type: "object", properties: { q: { type: "string" } } } });
    const { id } = await client.createTask(type, { q: "hello" });
    const worker = server.client("show-worker");
    await worker.claimTask({ taskType: type });
    await worker.completeTask(id, { ideas: 2 });
    await worker.close();

    const r = await tm(["show", String(id)], { env });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^id:\\s+${id}\\n`));
    assert.match(r.out, /status:\s+completed\n/);
    assert.match(r.out, /claimed_by:\s+show-worker\n/);
    assert.match(r.out, /params:\n {2}\{\n {4}"q": "hello"\n {2}\}\n/);
    assert.match(r.out, /result:\n {2}\{\n {4}"ideas": 2\n {2}\}\n/);
    assert.match(r.out, /history \(3\):\n/);
    assert.match(r.out, /created\s+-\s+Task created/);
    assert.match(r.out, /claimed\s+show-worker/);
    assert.match(r.out, /completed\s+show-worker/);

    const j = await tmJson<{ task: { id: number; status: string; params: unknown; result: unknown }; history: Array<{ statusChange: string }> }>(
      ["show", String(id)],
      env,
    );
    assert.equal(j.task.id, id);
    assert.deepEqual(j.task.params, { q: "hello" });
    assert.deepEqual(j.task.result, { ideas: 2 });
    assert.deepEqual(
      j.history.map((h) => h.statusChange),
      ["created", "claimed", "completed"],
    );
  });

  test("show of a failed task prints its error; a missing task exits 1", async () => {
    const type = `Test.Fail.${uid()}`;
    await client.registerTaskType({ name: type, version: "1.0.0", paramSchema: { type: "object", properties: { q: { type: "string" } } } });
    const { id } = await client.createTask(type, { q: "x" });
    const worker = server.client("fail-worker");
    await worker.claimTask({ taskType: type });
    await worker.failTask(id, "upstream said no", { retryable: false });
    await worker.close();
    const r = await tm(["show", String(id)], { env });
    assert.match(r.out, /status:\s+failed\n/);
    assert.match(r.out, /error:\s+upstream said no\n/);
    assert.match(r.out, /result: -\n/);

    const missing = await tm(["show", "987654"], { env });
    assert.equal(missing.code, 1);
    assert.equal(missing.out, "");
    assert.match(missing.err, /^tm show: task 987654 not found\n/);
  });

  test("an injected client is used for the typed calls and left open", async () => {
    const injected = server.client("injected");
    try {
      const r = await tm(["health", "--json"], { env, client: injected });
      assert.equal(r.code, 0, r.err);
      assert.equal((await injected.health()).status, "healthy");
    } finally {
      await injected.close();
    }
  });

  test("the key can come from --key-file instead of the environment, and --url overrides the environment", async () => {
    const keyFile = join(dir, "key");
    writeFileSync(keyFile, `${server.env.TASKMANAGER_API_KEY}\n`, { mode: 0o600 });
    const r = await tm(["tasks", "--limit", "1", "--key-file", keyFile, "--url", server.url], {
      env: { TASKMANAGER_API_URL: "http://127.0.0.1:1/api" },
    });
    assert.equal(r.code, 0, r.err);
  });
});
