// listTasks against the hosted service's ordering: `GET /tasks` sorted only by created_at (one
// second resolution, no tie-break) and paged by offset. MySQL returns rows of the same second in
// an order that depends on the query plan, so on the same data each page may order a second's rows
// differently; this replays that (a tie order that changes with offset and limit) and checks that
// every task comes exactly once, also while tasks are created and leave the filter. Our own
// server is checked beside it.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { MockAgent } from "undici";
import { startServer, type RunningServer } from "../src/server.js";
import { TaskManagerClient, type ListTasksFilter, type TaskStatus } from "@prismq/taskmanager-client";

const ORIGIN = "https://tm-listing.example.test";

interface Row {
  id: number;
  second: number;
  status: TaskStatus;
}

const stamp = (second: number): string => new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString().replace("T", " ").slice(0, 19);

/** Stands in for the hosted list endpoint, with its ordering; `onPage` runs after each page is answered. */
class HostedList {
  readonly rows: Row[] = [];
  readonly pages: Array<{ offset: number; limit: number }> = [];
  onPage: (page: number) => void = () => {};
  private nextId = 1;
  readonly agent = new MockAgent();

  constructor() {
    this.agent.disableNetConnect();
    this.agent
      .get(ORIGIN)
      .intercept({ path: (p: string) => p.startsWith("/api/tasks?"), method: "GET" })
      .reply((req) => {
        const q = new URL(String(req.path), ORIGIN).searchParams;
        const offset = Number(q.get("offset") ?? 0);
        const limit = Number(q.get("limit") ?? 50);
        const status = q.get("status");
        // Ties in an order that depends on the query (offset and limit), as the plan's would.
        const tie = (id: number) => createHash("sha256").update(`${id}:${offset}:${limit}`).digest("hex");
        const items = this.rows
          .filter((r) => status === null || r.status === status)
          .sort((a, b) => b.second - a.second || (tie(a.id) < tie(b.id) ? -1 : 1))
          .slice(offset, offset + limit)
          .map((r) => ({ id: String(r.id), type: "Hosted.List", status: r.status, priority: 0, progress: 0, attempts: 0, claimed_by: null, created_at: stamp(r.second), completed_at: null }));
        this.pages.push({ offset, limit });
        this.onPage(this.pages.length);
        return { statusCode: 200, data: { success: true, message: "Success", data: { items, count: items.length }, timestamp: 1 }, responseOptions: { headers: { "content-type": "application/json" } } };
      })
      .persist();
  }

  /** `count` tasks created in `second`. */
  add(second: number, count: number, status: TaskStatus = "pending"): number[] {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(this.nextId);
      this.rows.push({ id: this.nextId++, second, status });
    }
    return ids;
  }

  client(): TaskManagerClient {
    return new TaskManagerClient({ baseUrl: `${ORIGIN}/api`, apiKey: "k", workerId: "listing-test", dispatcher: this.agent, retry: false });
  }
}

async function list(client: TaskManagerClient, filter: ListTasksFilter, yielded: number[] = []): Promise<number[]> {
  for await (const t of client.listTasks(filter)) yielded.push(t.id);
  return yielded;
}

function assertEachOnce(got: number[], expected: number[]): void {
  const repeated = got.filter((id, i) => got.indexOf(id) !== i);
  const missing = expected.filter((id) => !got.includes(id));
  assert.deepEqual({ repeated, missing }, { repeated: [], missing: [] });
}

describe("listTasks on the hosted ordering (created_at only, ties in another order per page)", () => {
  let hosted: HostedList;
  let client: TaskManagerClient;
  const setUp = () => {
    hosted = new HostedList();
    client = hosted.client();
  };
  afterEach(async () => {
    await client.close();
    await hosted.agent.close();
  });

  it("returns every task exactly once when many tasks share a second", async () => {
    setUp();
    const ids = [1, 2, 3, 4, 5, 6].flatMap((s) => hosted.add(s, 10));
    assertEachOnce(await list(client, { pageSize: 7 }), ids);
  });

  it("grows the page when one second holds more tasks than a page", async () => {
    setUp();
    const ids = [...hosted.add(1, 3), ...hosted.add(2, 25), ...hosted.add(3, 4)];
    assertEachOnce(await list(client, { pageSize: 5 }), ids);
    assert.ok(hosted.pages.some((p) => p.limit > 25), JSON.stringify(hosted.pages));
  });

  it("repeats no task when tasks are created at the newest end while it pages", async () => {
    setUp();
    const ids = [1, 2, 3, 4, 5].flatMap((s) => hosted.add(s, 8));
    let second = 100;
    hosted.onPage = () => hosted.add(second++, 3);
    const got = await list(client, { pageSize: 6 });
    assertEachOnce(got, ids);
    assert.equal(new Set(got).size, got.length, "no task twice, new ones included");
  });

  it("skips no task when tasks already listed leave the status filter while it pages", async () => {
    setUp();
    const ids = [1, 2, 3, 4, 5, 6].flatMap((s) => hosted.add(s, 9));
    const yielded: number[] = [];
    // After each page, two tasks already listed are claimed: every row behind them moves up two places.
    hosted.onPage = () => {
      for (const id of yielded.filter((i) => hosted.rows.find((r) => r.id === i)?.status === "pending").slice(0, 2)) {
        (hosted.rows.find((r) => r.id === id) as Row).status = "claimed";
      }
    };
    assertEachOnce(await list(client, { status: "pending", pageSize: 6 }, yielded), ids);
  });
});

describe("listTasks on our server", () => {
  const KEY = "listing-test-key-0123456789";
  let server: RunningServer;
  let client: TaskManagerClient;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tm-listing-"));
    server = await startServer({ storage: { kind: "sqlite", path: join(dir, "t.sqlite") }, apiKeys: [KEY] });
    client = new TaskManagerClient({ baseUrl: server.url, apiKey: KEY, workerId: "listing-test", retry: false });
  });
  after(async () => {
    await client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("returns every task of a type exactly once, newest first, with tasks created while it pages", async () => {
    const type = `Client.List_${randomBytes(5).toString("hex")}`;
    await client.registerTaskType({ name: type, version: "1.0.0", paramSchema: { type: "object" } });
    const ids: number[] = [];
    for (let n = 0; n < 40; n++) ids.push((await client.createTask(type, { n })).id);
    const got: number[] = [];
    let n = 1000;
    for await (const t of client.listTasks({ type, pageSize: 6 })) {
      got.push(t.id);
      if (got.length % 6 === 0) await client.createTask(type, { n: n++ });
    }
    assertEachOnce(got, ids);
    assert.equal(new Set(got).size, got.length);
    const old = got.filter((id) => ids.includes(id));
    assert.deepEqual(old, [...ids].reverse(), "newest first");
  });
});
