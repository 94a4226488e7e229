/**
 * The rig the platform benchmarks share: a temporary folder, our server on
 * SQLite, a platform sandbox, a client with the catalog registered and an idea
 * store, all closed (and the folder removed) by `close()`; and the processor's
 * worker loop as the benchmarks run it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openIdeaStore, type IdeaStore } from "@prismq/idea-store";
import { TaskManagerClient } from "@prismq/taskmanager-client";
import { startServer } from "@prismq/taskmanager-server";
import { registerAll } from "@prismq/task-types";
import { WorkerLoop, createLogger, type Logger, type SettledTask, type WorkerLoopOptions } from "@prismq/worker-kit";

export const KEY = "bench-key-0123456789abcdef";
export const logger: Logger = createLogger({ service: "bench", level: "silent" });

export interface Rig<S> {
  dir: string;
  sandbox: S;
  client: TaskManagerClient;
  ideas: IdeaStore;
  close(): Promise<void>;
}

/** Starts the rig; `prefix` names the temporary folder, `startSandbox` starts the platform's sandbox. */
export async function openRig<S extends { close(): Promise<void> }>(prefix: string, startSandbox: () => Promise<S>): Promise<Rig<S>> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const server = await startServer({ storage: { kind: "sqlite", path: join(dir, "tm.sqlite") }, apiKeys: [KEY] });
  const sandbox = await startSandbox();
  const client = new TaskManagerClient({ baseUrl: server.url, apiKey: KEY, workerId: "bench" });
  await registerAll(client);
  const ideas = await openIdeaStore({ dataDir: join(dir, "ideas") });
  return {
    dir,
    sandbox,
    client,
    ideas,
    async close() {
      await ideas.close();
      await client.close();
      await sandbox.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The processor's worker loop on the rig's client, as worker `bench`. */
export function benchWorker<T extends SettledTask>(
  r: Rig<unknown>,
  options: Pick<WorkerLoopOptions<T>, "outbox" | "claim" | "handle" | "batchSize">,
): WorkerLoop<T> {
  return new WorkerLoop({ name: "bench", client: r.client, workerId: "bench", ...options });
}
