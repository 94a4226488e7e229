import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { TaskManagerClient } from "@prismq/taskmanager-client";
import { startTestTaskManager, type TestTaskManager } from "../src/testing.js";

const TYPE = "PrismQ.Test.TestTaskManager.Echo";
const register = async (client: TaskManagerClient) =>
  client.registerTaskType({
    name: TYPE,
    version: "1.0.0",
    paramSchema: { type: "object", required: ["word"], properties: { word: { type: "string" } }, additionalProperties: false },
  });

describe("startTestTaskManager", () => {
  let tm: TestTaskManager;
  before(async () => {
    tm = await startTestTaskManager({ workerId: "ttm-test", retry: false, register });
  });
  after(() => tm.close());

  test("serves on loopback with its own key, after register ran with the first client", async () => {
    assert.match(tm.server.url, /^http:\/\/127\.0\.0\.1:\d+\/api$/);
    assert.match(tm.key, /^test-tm-[0-9a-f]{12}$/);
    assert.deepEqual((await tm.client.listTaskTypes()).map((t) => t.name), [TYPE]);
  });

  test("tasks, task and params read back what a second client created", async () => {
    const other = tm.newClient("ttm-other");
    const created = await other.createTask(TYPE, { word: "hello" });
    assert.deepEqual((await tm.tasks(TYPE, "pending")).map((t) => t.id), [created.id]);
    assert.deepEqual(await tm.tasks(TYPE, "completed"), []);
    assert.equal((await tm.task(created.id)).type, TYPE);
    assert.deepEqual(await tm.params(TYPE), [{ word: "hello" }]);
    await assert.rejects(tm.task(created.id + 1000), /no task/);
  });
});

test("without register nothing is registered, and close stops the server", async () => {
  const tm = await startTestTaskManager();
  assert.deepEqual(await tm.client.listTaskTypes(), []);
  const health = `${tm.server.url}/health`;
  assert.equal((await fetch(health)).status, 200);
  await tm.close();
  await assert.rejects(fetch(health));
});
