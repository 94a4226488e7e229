// Starts our real TaskManager server on its own temp SQLite file, with its own API key.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskManagerClient } from "@prismq/taskmanager-client";
import { startServer, type RunningServer } from "@prismq/taskmanager-server";

export interface TestServer {
  server: RunningServer;
  client: TaskManagerClient;
  /** Another client on the same server, as a second app would have. */
  newClient(workerId?: string): TaskManagerClient;
  close(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "task-types-"));
  const key = `task-types-${randomBytes(12).toString("hex")}`;
  const server = await startServer({ storage: { kind: "sqlite", path: join(dir, "tm.sqlite") }, apiKeys: [key] });
  const clients: TaskManagerClient[] = [];
  const newClient = (workerId = "task-types-test") => {
    const c = new TaskManagerClient({ baseUrl: server.url, apiKey: key, workerId, retry: false });
    clients.push(c);
    return c;
  };
  const client = newClient();
  return {
    server,
    client,
    newClient,
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
