/**
 * A throwaway TaskManager for other packages' tests, exported by `@prismq/taskmanager-server/testing`:
 * apps and packages take the server as a devDependency only, so no runtime dependency graph reaches it.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskManagerClient, type RetryOptions, type Task, type TaskStatus, type TaskSummary } from "@prismq/taskmanager-client";
import { startServer, type RunningServer } from "./server.js";

export interface TestTaskManagerOptions {
  /** The first client's worker id. Default `test-<random>`. */
  workerId?: string;
  /**
   * Called with the first client before the server is handed out, e.g. `registerAll` of
   * `@prismq/task-types` to register the whole catalog. Default: nothing is registered.
   */
  register?: (client: TaskManagerClient) => Promise<unknown>;
  /** The clients' retries (false: none, so a test sees every failure at once). Default: the client's own. */
  retry?: RetryOptions | false;
  /**
   * The server's refusal budget: refused POSTs per second a key may have before its POSTs get 429.
   * Default 0, off: tests send refused requests on purpose, one key for all; the server's own tests
   * cover the budget, and the e2e system runs the server with its production default.
   * @defaultValue 0
   */
  refusedPerSecond?: number;
}

/** Our real TaskManager server on a temp SQLite file with a key of its own, and clients of it. */
export interface TestTaskManager {
  server: RunningServer;
  key: string;
  client: TaskManagerClient;
  /** Another client on the same server, as another app would have; closed with the rest. */
  newClient(workerId?: string): TaskManagerClient;
  /** Every task, all pages; only of `type` and `status` when given. */
  tasks(type?: string, status?: TaskStatus): Promise<TaskSummary[]>;
  /** A task that must exist. */
  task(id: number): Promise<Task>;
  /** The params of every task of `type`. */
  params<P>(type: string): Promise<P[]>;
  /** Closes the clients and the server and removes its file. */
  close(): Promise<void>;
}

const uid = (): string => randomBytes(6).toString("hex");

/** Starts our server on a temp SQLite file (removed by `close()`) with a random key, and runs `register` with its first client. */
export async function startTestTaskManager(options: TestTaskManagerOptions = {}): Promise<TestTaskManager> {
  const dir = mkdtempSync(join(tmpdir(), "test-tm-"));
  const key = `test-tm-${uid()}`;
  const server = await startServer({ storage: { kind: "sqlite", path: join(dir, "tm.sqlite") }, apiKeys: [key], refusedPerSecond: options.refusedPerSecond ?? 0 });
  const clients: TaskManagerClient[] = [];
  const newClient = (workerId = `test-${uid()}`) => {
    const c = new TaskManagerClient({ baseUrl: server.url, apiKey: key, workerId, ...(options.retry === undefined ? {} : { retry: options.retry }) });
    clients.push(c);
    return c;
  };
  const client = newClient(options.workerId);
  if (options.register) await options.register(client);
  const tasks = async (type?: string, status?: TaskStatus) => {
    const all: TaskSummary[] = [];
    for await (const t of client.listTasks({ pageSize: 1000, ...(type ? { type } : {}), ...(status ? { status } : {}) })) all.push(t);
    return all;
  };
  const task = async (id: number) => {
    const t = await client.getTask(id);
    if (!t) throw new Error(`no task ${id}`);
    return t;
  };
  return {
    server,
    key,
    client,
    newClient,
    tasks,
    task,
    params: async <P>(type: string) => Promise.all((await tasks(type)).map(async (s) => (await task(s.id)).params as unknown as P)),
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
