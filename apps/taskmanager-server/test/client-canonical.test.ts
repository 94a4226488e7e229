import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startServer, type RunningServer } from "../src/server.js";
import { TaskManagerClient, dedupeKey } from "@prismq/taskmanager-client";

const KEY = "canonical-test-key-0123456789";
const HOSTILE = '{"__proto__":{"x":1},"b":1,"constructor":{"y":2}}';

describe("params holding __proto__ and constructor against our server", () => {
  let server: RunningServer;
  let client: TaskManagerClient;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tm-canonical-"));
    server = await startServer({ storage: { kind: "sqlite", path: join(dir, "t.sqlite") }, apiKeys: [KEY] });
    client = new TaskManagerClient({ baseUrl: server.url, apiKey: KEY, workerId: "canonical-test", retry: false });
  });
  after(async () => {
    await client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores them as params, the server's dedupe key is the client's, and a re-create deduplicates", async () => {
    const type = `Client.Proto_${randomBytes(5).toString("hex")}`;
    await client.registerTaskType({ name: type, version: "1.0.0", paramSchema: { type: "object" } });
    const params = JSON.parse(HOSTILE) as object;
    const first = await client.createTask(type, params);
    assert.equal(first.deduplicated, false);
    assert.equal(first.dedupeKey, dedupeKey(type, params), "the server answered the client's dedupe key");

    const task = await client.getTask(first.id);
    assert.ok(task);
    assert.deepEqual(Object.keys(task.params), ["__proto__", "b", "constructor"]);
    assert.equal(JSON.stringify(task.params), HOSTILE);

    // The same params in another key order, and a params object without the __proto__ key.
    const again = await client.createTask(type, JSON.parse('{"constructor":{"y":2},"b":1,"__proto__":{"x":1}}') as object);
    assert.equal(again.deduplicated, true);
    assert.equal(again.id, first.id);
    assert.equal(again.dedupeKey, first.dedupeKey);
    const other = await client.createTask(type, { b: 1, constructor: { y: 2 } });
    assert.equal(other.deduplicated, false, "params without the __proto__ key are another task");
    assert.notEqual(other.id, first.id);
    assert.equal(({} as { x?: unknown }).x, undefined);
  });
});
