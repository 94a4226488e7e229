import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startServer, type RunningServer } from "../src/server.js";
import { ConflictError, NotFoundError, TaskManagerClient, type RequestTiming } from "@prismq/taskmanager-client";

const KEY = "client-batch-key-0123456789";
const uid = () => randomBytes(5).toString("hex");

describe("batch claim and settle against our server: one request each", () => {
  let server: RunningServer;
  let dir: string;
  const requests: RequestTiming[] = [];
  let client: TaskManagerClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tm-client-batch-"));
    server = await startServer({ storage: { kind: "sqlite", path: join(dir, "t.sqlite") }, apiKeys: [KEY] });
    client = new TaskManagerClient({ baseUrl: server.url, apiKey: KEY, workerId: "batch-worker", onRequest: (r) => requests.push(r) });
  });
  after(async () => {
    await client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = (method: string, route: string) => requests.filter((r) => r.method === method && r.route === route).length;

  it("claims up to limit with one request, and settles many with one request, each item answered on its own", async () => {
    const type = `Client.Batch_${uid()}`;
    await client.registerTaskType({ name: type, version: "1.0.0", paramSchema: { type: "object" } });
    const ids: number[] = [];
    for (let n = 0; n < 5; n++) ids.push((await client.createTask(type, { n })).id);
    requests.length = 0;

    const first = await client.claimTasks({ taskType: type, limit: 3 });
    assert.deepEqual(first.map((t) => t.id), ids.slice(0, 3));
    assert.deepEqual(first[1], { id: ids[1], type, params: { n: 1 }, attempts: 1, priority: 0 });
    const rest = await client.claimTasks({ taskType: type, limit: 100 });
    assert.deepEqual(rest.map((t) => t.id), ids.slice(3));
    assert.deepEqual(await client.claimTasks({ taskType: type, limit: 10 }), []);
    assert.equal(count("POST", "/tasks/claim"), 3);
    assert.equal(count("GET", "/health"), 1, "capabilities are read once");

    const [a, b, c, d, e] = ids as [number, number, number, number, number];
    const results = await client.settleTasks([
      { id: a, status: "completed", result: { z: 1, y: [2] } },
      { id: b, status: "failed", error: "flaky" },
      { id: c, status: "failed", error: "bad", retryable: false },
      { id: 999_999, status: "completed" },
      { id: d, status: "completed" },
    ]);
    assert.equal(count("POST", "/tasks/settle"), 1);
    assert.deepEqual(results.filter((r) => r.ok), [
      { id: a, ok: true, status: "completed" },
      { id: b, ok: true, status: "pending (retry)" },
      { id: c, ok: true, status: "failed" },
      { id: d, ok: true, status: "completed" },
    ]);
    const missing = results[3];
    assert.ok(missing && !missing.ok && missing.error instanceof NotFoundError && missing.error.resource === "task");
    assert.deepEqual((await client.getTask(a))?.result, { y: [2], z: 1 });

    const again = await client.settleTasks([{ id: a, status: "completed" }, { id: e, status: "completed" }], { workerId: "someone-else" });
    assert.equal(count("POST", "/tasks/settle"), 2);
    const [notClaimed, other] = again;
    assert.ok(notClaimed && !notClaimed.ok && notClaimed.error instanceof ConflictError && notClaimed.error.reason === "not_claimed");
    assert.ok(other && !other.ok && other.error instanceof ConflictError && other.error.reason === "other_worker");
    assert.equal(count("POST", "/tasks/:id/complete"), 0, "no single settle was sent");
  });

  it("splits a settle of more than 100 items into requests of 100", async () => {
    const type = `Client.Batch_${uid()}`;
    await client.registerTaskType({ name: type, version: "1.0.0", paramSchema: { type: "object" } });
    for (let n = 0; n < 150; n++) await client.createTask(type, { n });
    const claimed = [...(await client.claimTasks({ taskType: type, limit: 100 })), ...(await client.claimTasks({ taskType: type, limit: 100 }))];
    assert.equal(claimed.length, 150);
    requests.length = 0;
    const results = await client.settleTasks(claimed.map((t) => ({ id: t.id, status: "completed" as const, result: { n: t.params.n ?? null } })));
    assert.equal(count("POST", "/tasks/settle"), 2);
    assert.deepEqual(results.map((r) => r.ok), claimed.map(() => true));
  });

  it("refuses a limit outside 1..100 before any request", async () => {
    await assert.rejects(client.claimTasks({ taskType: "Client.Any", limit: 0 }), RangeError);
    await assert.rejects(client.claimTasks({ taskType: "Client.Any", limit: 101 }), RangeError);
  });
});
