/**
 * For other packages' tests (`@prismq/taskmanager-server/testing`): a real server on a
 * temporary SQLite file, restartable on the same port and file. Never used by the server.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, type RunningServer } from "./server.js";

export { startTestTaskManager, type TestTaskManager, type TestTaskManagerOptions } from "./test-taskmanager.js";

export interface TestServerOptions {
  /** The one API key the server accepts. */
  apiKey: string;
  /** Prefix of the temporary folder's name, e.g. `wk-`. */
  dirPrefix: string;
  /** The server's claim timeout in seconds. @defaultValue the server's default */
  claimTimeoutSeconds?: number;
}

/** A real TaskManager server on a temporary SQLite file; `stop()` and `start()` again keep its port and data. */
export class TestServer {
  readonly dir: string;
  port = 0;
  private running: RunningServer | undefined;

  constructor(protected readonly options: TestServerOptions) {
    this.dir = mkdtempSync(join(tmpdir(), options.dirPrefix));
  }

  async start(): Promise<this> {
    const { apiKey, claimTimeoutSeconds } = this.options;
    this.running = await startServer({
      storage: { kind: "sqlite", path: join(this.dir, "tm.sqlite") },
      apiKeys: [apiKey],
      port: this.port,
      ...(claimTimeoutSeconds === undefined ? {} : { claimTimeoutSeconds }),
    });
    this.port = this.running.port;
    return this;
  }

  /** `http://127.0.0.1:<port>/api`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  async stop(): Promise<void> {
    await this.running?.close();
    this.running = undefined;
  }

  /** Stops the server and removes its folder. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
