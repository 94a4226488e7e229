import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TaskManagerClient } from "@prismq/taskmanager-client";
import { CATALOG, YouTube, registerAll } from "../src/index.js";
import { startTestTaskManager, type TestTaskManager } from "@prismq/taskmanager-server/testing";

const ALL = CATALOG.map((d) => d.name);

/** Counts the register calls a client makes. */
function countRegisters(client: TaskManagerClient): string[] {
  const calls: string[] = [];
  const register = client.registerTaskType.bind(client);
  client.registerTaskType = async (input, options) => {
    calls.push(input.name);
    return register(input, options);
  };
  return calls;
}

describe("registerAll against our server", () => {
  let t: TestTaskManager;
  before(async () => {
    t = await startTestTaskManager({ workerId: "task-types-test", retry: false });
  });
  after(async () => {
    await t.close();
  });

  it("registers every catalog type with its version and schema", async () => {
    assert.deepEqual(await registerAll(t.client), { registered: ALL, unchanged: [] });
    for (const def of CATALOG) {
      const stored = await t.client.getTaskType(def.name);
      assert.equal(stored?.version, def.version);
      assert.equal(stored?.isActive, true);
      assert.deepEqual(stored?.paramSchema, def.schema);
    }
  });

  it("a second run reports every type unchanged and writes nothing", async () => {
    const before = await Promise.all(ALL.map((n) => t.client.getTaskType(n)));
    const calls = countRegisters(t.client);
    assert.deepEqual(await registerAll(t.client), { registered: [], unchanged: ALL });
    assert.deepEqual(calls, []);
    assert.deepEqual(await Promise.all(ALL.map((n) => t.client.getTaskType(n))), before);
  });

  it("re-registers a type whose version changed, and only that one", async () => {
    const bumped = { ...YouTube.Video, version: "1.0.1" };
    assert.deepEqual(await registerAll(t.client, [bumped]), { registered: [YouTube.Video.name], unchanged: [] });
    assert.equal((await t.client.getTaskType(YouTube.Video.name))?.version, "1.0.1");
    const r = await registerAll(t.client);
    assert.deepEqual(r.registered, [YouTube.Video.name]);
    assert.deepEqual(r.unchanged, ALL.filter((n) => n !== YouTube.Video.name));
    assert.equal((await t.client.getTaskType(YouTube.Video.name))?.version, "1.0.0");
  });

  it("re-registers a type whose stored schema differs under the same version", async () => {
    const loose = { type: "object", properties: { video_id: { type: "string" } } };
    await t.client.registerTaskType({ name: YouTube.Video.name, version: YouTube.Video.version, paramSchema: loose });
    assert.deepEqual((await registerAll(t.client)).registered, [YouTube.Video.name]);
    assert.deepEqual((await t.client.getTaskType(YouTube.Video.name))?.paramSchema, YouTube.Video.schema);
  });

  it("two apps running it at once on a fresh server leave one record per type", async () => {
    const fresh = await startTestTaskManager({ workerId: "task-types-test", retry: false });
    try {
      const a = fresh.newClient("app-a");
      const b = fresh.newClient("app-b");
      const [ra, rb] = await Promise.all([registerAll(a), registerAll(b)]);
      for (const r of [ra, rb]) assert.deepEqual([...r.registered, ...r.unchanged].sort(), [...ALL].sort());
      const types = await fresh.client.listTaskTypes();
      assert.deepEqual(types.map((x) => x.name).sort(), [...ALL].sort());
      for (const def of CATALOG) assert.deepEqual(types.find((x) => x.name === def.name)?.paramSchema, def.schema);
      assert.deepEqual(await registerAll(fresh.client), { registered: [], unchanged: ALL });
      // Both apps can create with the ids they cached during the race.
      const created = await YouTube.Video.create(a, { video_id: "dQw4w9WgXcQ" });
      assert.equal((await YouTube.Video.claim(b))?.id, created.id);
    } finally {
      await fresh.close();
    }
  });
});
