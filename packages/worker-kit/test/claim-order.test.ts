import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MockAgent } from "undici";
import { pino } from "pino";
import { TaskManagerClient } from "@prismq/taskmanager-client";
import { claimOrder } from "../src/index.js";
import { TestServer, uid } from "./helpers.js";

function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: "info" }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  return { logger, lines };
}

describe("claimOrder", () => {
  const server = new TestServer();
  before(async () => {
    await server.start();
  });
  after(async () => {
    await server.destroy();
  });

  it("claims by priority on our server, and a task created with a higher priority is claimed first", async () => {
    const client = server.client();
    const { logger, lines } = recordingLogger();
    try {
      const strategy = await claimOrder(client, logger);
      assert.equal(strategy, "priority");
      assert.deepEqual(lines.map((l) => l.claimOrder), ["priority"], "said once");
      const type = `Test.ClaimOrder.${uid()}`;
      await client.registerTaskType({ name: type, version: "1.0.0", paramSchema: { type: "object", properties: { n: { type: "integer" } } } });
      await client.createTask(type, { n: 1 }, { priority: -10 });
      const high = await client.createTask(type, { n: 2 }, { priority: 5 });
      await client.createTask(type, { n: 3 });
      assert.equal((await client.claimTask({ taskType: type, strategy }))?.id, high.id);
    } finally {
      await client.close();
    }
  });

  it("claims oldest first on the hosted service, whose task-type listing answers a 500 (its recorded answer)", async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get("https://hosted.example")
      .intercept({ path: /^\/api\/task-types\?/, method: "GET" })
      .reply(500, { success: false, error: "There is no active transaction" });
    const client = new TaskManagerClient({ baseUrl: "https://hosted.example/api", apiKey: "k", workerId: "w", dispatcher: agent, retry: false });
    const { logger, lines } = recordingLogger();
    try {
      assert.equal(await claimOrder(client, logger), "fifo");
      assert.equal(lines.length, 1);
      assert.equal(lines[0]?.claimOrder, "fifo");
      assert.match(String(lines[0]?.msg), /FIFO/);
    } finally {
      await client.close();
      await agent.close();
    }
  });

  it("throws what is not the hosted service's answer: a refused key stops the start", async () => {
    const client = new TaskManagerClient({ baseUrl: server.url, apiKey: "wrong-key-0123456789", workerId: "w", retry: false });
    try {
      await assert.rejects(claimOrder(client, recordingLogger().logger), (err: Error & { code?: string }) => err.code === "TM_ERR_AUTH");
    } finally {
      await client.close();
    }
  });
});
