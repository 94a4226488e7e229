import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { TaskManagerClient } from "@prismq/taskmanager-client";
import { NO_OPERATOR_ENDPOINTS } from "../src/errors.js";
import { KEY, TestServer, fakeHostedService, hasOperatorEndpoints, httpServer, tm, tmJson, uid } from "./helpers.js";

describe("requeue, fail and stats on a TaskManager without operator endpoints (the hosted service)", () => {
  let hosted: Awaited<ReturnType<typeof fakeHostedService>>;
  before(async () => {
    hosted = await fakeHostedService();
  });
  after(async () => {
    await hosted.close();
  });

  test("each exits 4 with the clear message, after one call with the key", async () => {
    const cases: Array<[string[], string]> = [
      [["requeue", "7", "--reason", "retry it"], "POST /api/tasks/7/requeue"],
      [["fail", "7", "--error", "give up"], "POST /api/tasks/7/fail"],
      [["stats"], "GET /api/stats"],
    ];
    for (const [argv, endpoint] of cases) {
      hosted.requests.length = 0;
      const r = await tm(argv, { env: hosted.env });
      assert.equal(r.code, 4, argv.join(" "));
      assert.equal(r.out, "");
      assert.equal(r.err, `tm ${argv[0]}: ${NO_OPERATOR_ENDPOINTS}\n  - ${endpoint} answered 404 Endpoint not found\n`);
      assert.deepEqual(hosted.requests, [endpoint]);
    }
    assert.equal(NO_OPERATOR_ENDPOINTS, "this TaskManager has no operator endpoints (our server has them; the hosted service does not)");
  });

  test("with --json the exit-4 error is one JSON document on stderr", async () => {
    const r = await tm(["stats", "--json"], { env: hosted.env });
    assert.equal(r.code, 4);
    assert.equal(r.out, "");
    assert.deepEqual(JSON.parse(r.err), {
      error: { exitCode: 4, code: "TM_CLI_UNSUPPORTED", message: NO_OPERATOR_ENDPOINTS, details: ["GET /api/stats answered 404 Endpoint not found"] },
    });
  });

  test("a wrong key is still a refusal (exit 1), not 'unsupported'", async () => {
    const r = await tm(["requeue", "7"], { env: { ...hosted.env, TASKMANAGER_API_KEY: "not-the-key-000000" } });
    assert.equal(r.code, 1);
    assert.match(r.err, /Unauthorized/);
  });

  test("health checks the key there: a wrong key exits 1 (it said healthy before), the right one says so", async () => {
    const wrong = await tm(["health"], { env: { ...hosted.env, TASKMANAGER_API_KEY: "not-the-key-000000" } });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.out, "");
    assert.match(wrong.err, /Unauthorized/);
    assert.match(wrong.err, /hint: check TASKMANAGER_API_KEY/);
    const right = await tm(["health"], { env: hosted.env });
    assert.equal(right.code, 0, right.err);
    assert.match(right.out, /^healthy {2}database connected {2}key accepted {2}/);
  });

  test("create --priority warns that the priority was not stored (human: stderr; --json: a warning field)", async () => {
    const r = await tm(["create", "Hosted.Type", '{"a":1}', "--priority", "5"], { env: hosted.env });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^created task 7/);
    assert.equal(
      r.err,
      "tm create: warning: --priority 5 was not stored (the task has priority 0): this TaskManager cannot set a priority (the hosted service cannot; our server can)\n",
    );
    const j = await tmJson<{ id: number; warning?: string }>(["create", "Hosted.Type", '{"a":1}', "--priority", "5"], hosted.env);
    assert.equal(j.id, 7);
    assert.match(j.warning ?? "", /--priority 5 was not stored/);
    const plain = await tm(["create", "Hosted.Type", '{"a":1}'], { env: hosted.env });
    assert.equal(plain.err, "", "no --priority, no warning and no read-back");
  });

  test("show works there and says the history is not available", async () => {
    const r = await tm(["show", "7"], { env: hosted.env });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /status:\s+failed\n/);
    assert.match(r.out, /error:\s+boom\n/);
    assert.match(r.out, /history: not available \(this TaskManager has no endpoint to read it; the hosted service keeps one without an endpoint\)\n$/);
    const j = await tmJson<{ task: { id: number }; history: null }>(["show", "7"], hosted.env);
    assert.equal(j.task.id, 7);
    assert.equal(j.history, null);
  });
});

describe("stats output", () => {
  test("renders the documented shape: type x status table, workers, failures, throughput sums, ideas", async () => {
    const data = {
      tasks: {
        total: 9,
        byTypeStatus: [
          { type: "B.Type", status: "completed", count: 4 },
          { type: "A.Type", status: "pending", count: 2 },
          { type: "A.Type", status: "failed", count: 1 },
          { type: "B.Type", status: "claimed", count: 2 },
        ],
      },
      workers: [{ worker_id: "w-1", claimed: 2, task_ids: [5, 6] }],
      recentFailures: [{ id: 3, type: "A.Type", error_message: `x${"y".repeat(200)}`, attempts: 3, completed_at: "2025-01-01 00:00:00" }],
      throughput: Array.from({ length: 60 }, (_, i) => ({ minute: `2025-01-01 00:${String(i).padStart(2, "0")}`, created: i === 59 ? 9 : 0, completed: i === 59 ? 4 : 0, failed: i === 58 ? 1 : 0 })),
      ideas: { total: 4, byPlatform: { youtube: 3, reddit: 1 }, byCategory: { tech: 4 } },
    };
    let answer: object = data;
    const withData = async <T>(d: object, run: () => Promise<T>): Promise<T> => {
      answer = d;
      try {
        return await run();
      } finally {
        answer = data;
      }
    };
    const stub = await httpServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ success: true, message: "Success", data: answer, timestamp: 1 }));
    });
    try {
      const env = { TASKMANAGER_API_URL: stub.url, TASKMANAGER_API_KEY: KEY };
      const r = await tm(["stats"], { env });
      assert.equal(r.code, 0, r.err);
      const lines = r.out.split("\n");
      assert.equal(lines[0], "Tasks: 9");
      assert.match(lines[1] ?? "", /^type\s+pending\s+claimed\s+completed\s+failed\s+total$/);
      assert.match(lines[2] ?? "", /^A\.Type\s+2\s+0\s+0\s+1\s+3$/);
      assert.match(lines[3] ?? "", /^B\.Type\s+0\s+2\s+4\s+0\s+6$/);
      assert.match(lines[4] ?? "", /^total\s+2\s+2\s+4\s+1\s+9$/);
      assert.match(r.out, /Workers holding tasks: 1\nworker_id\s+claimed\s+task_ids\nw-1\s+2\s+5,6\n/);
      assert.match(r.out, /Recent failures: 1\n\s*id\s+type\s+error_message\s+attempts\s+completed_at\n/);
      assert.match(r.out, /xy+…/);
      assert.match(r.out, /Throughput, last 60 minutes: created 9, completed 4, failed 1\n/);
      assert.match(r.out, /Ideas: 4\n {2}by platform: youtube 3, reddit 1\n {2}by category: tech 4\n$/);

      const j = await tmJson(["stats"], env);
      assert.deepEqual(j, data);

      // Capped lists: the totals are shown beside what is listed.
      const capped = await withData({ ...data, workersTotal: 3000, failuresTotal: 25 }, () => tm(["stats"], { env }));
      assert.match(capped.out, /Workers holding tasks: 3000 \(listed: the 1 holding the most\)\nworker_id\s+claimed\s+task_ids\nw-1\s+2\s+5,6\n/);
      assert.match(capped.out, /Recent failures: 1 \(of 25 failed tasks\)\n\s*id\s+type/);
      const uncapped = await withData({ ...data, workersTotal: 1, failuresTotal: 1 }, () => tm(["stats"], { env }));
      assert.match(uncapped.out, /Workers holding tasks: 1\nworker_id/);
      assert.match(uncapped.out, /Recent failures: 1\n/);

      data.ideas = null as unknown as typeof data.ideas;
      data.workers = [];
      const bare = await tm(["stats"], { env });
      assert.match(bare.out, /Workers holding tasks: 0\n/);
      assert.match(bare.out, /Ideas: not available \(no idea store on this server\)\n$/);
    } finally {
      await stub.close();
    }
  });
});

describe("requeue, fail and stats on our server", () => {
  const server = new TestServer();
  let client: TaskManagerClient;

  before(async () => {
    await server.start();
    client = server.client();
    // Our server has the operator endpoints; a server without them is covered by the stub tests above.
    assert.equal(await hasOperatorEndpoints(server.url), true, "our server answers the operator endpoints");
  });
  after(async () => {
    await client.close();
    await server.destroy();
  });

  /** A registered type of its own with `n` tasks, the first claimed by `worker`. */
  async function setup(n: number, worker: string): Promise<{ type: string; ids: number[] }> {
    const type = `Test.Op.${uid()}`;
    await client.registerTaskType({ name: type, version: "1.0.0", paramSchema: { type: "object", properties: { n: { type: "integer" } } } });
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push((await client.createTask(type, { n: i })).id);
    const w = server.client(worker);
    await w.claimTask({ taskType: type });
    await w.close();
    return { type, ids };
  }

  test("requeue puts a claimed task back to pending, with the reason", async () => {
    const { ids } = await setup(1, "requeue-worker");
    const id = ids[0] as number;
    const r = await tm(["requeue", String(id), "--reason", "worker host replaced"], { env: server.env });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^task ${id}: pending`));
    assert.equal((await client.getTask(id))?.status, "pending");
    const history = await client.getTaskHistory(id);
    assert.ok(history.length >= 3, "requeue is recorded in the history");
    assert.ok(history.some((h) => (h.message ?? "").includes("worker host replaced")), JSON.stringify(history));
  });

  test("requeue --json prints the server's answer", async () => {
    const { ids } = await setup(1, "requeue-json-worker");
    const j = await tmJson<{ id: number; status: string; message: string }>(["requeue", String(ids[0])], server.env);
    assert.equal(j.id, ids[0]);
    assert.equal(j.status, "pending");
    assert.equal(typeof j.message, "string");
  });

  test("fail fails a task for good with the operator's error", async () => {
    const { ids } = await setup(1, "fail-worker");
    const id = ids[0] as number;
    const r = await tm(["fail", String(id), "--error", "operator: bad source"], { env: server.env });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^task ${id}: failed`));
    const task = await client.getTask(id);
    assert.equal(task?.status, "failed");
    assert.equal(task?.errorMessage, "operator: bad source");

    const j = await tmJson<{ id: number; status: string }>(["fail", String(id), "--error", "again"], server.env).catch(() => null);
    // Failing a failed task again may be refused (exit 1) or accepted; either way it stays failed.
    if (j) assert.equal(j.status, "failed");
    assert.equal((await client.getTask(id))?.status, "failed");
  });

  test("requeue and fail of a missing task exit 1 with the server's error", async () => {
    for (const argv of [["requeue", "987654321"], ["fail", "987654321", "--error", "x"]]) {
      const r = await tm(argv, { env: server.env });
      assert.equal(r.code, 1, `${argv.join(" ")}: ${r.err}`);
      assert.match(r.err, /not found/i);
      assert.ok(!r.err.includes("no operator endpoints"));
    }
  });

  test("stats prints tasks by type x status, the workers and the ideas; --json the server's data", async () => {
    const { type, ids } = await setup(3, "stats-worker");
    const r = await tm(["stats"], { env: server.env });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Tasks: \d+\n/);
    assert.match(r.out, /type\s+pending\s+claimed\s+completed\s+failed\s+total\n/);
    assert.match(r.out, new RegExp(`${type.replaceAll(".", "\\.")}\\s+2\\s+1\\s+0\\s+0\\s+3\\n`));
    assert.match(r.out, /Workers holding tasks: \d+\n/);
    assert.match(r.out, /stats-worker\s+1\s+\d+/);
    assert.match(r.out, /Ideas: /);

    const j = await tmJson<{
      tasks: { total: number; byTypeStatus: Array<{ type: string; status: string; count: number }> };
      workers: Array<{ worker_id: string; claimed: number; task_ids: number[] }>;
      ideas: unknown;
    }>(["stats"], server.env);
    assert.ok(j.tasks.total >= 3);
    const mine = j.tasks.byTypeStatus.filter((row) => row.type === type);
    assert.deepEqual(
      Object.fromEntries(mine.map((row) => [row.status, row.count])),
      { pending: 2, claimed: 1 },
    );
    const w = j.workers.find((x) => x.worker_id === "stats-worker");
    assert.equal(w?.claimed, 1);
    assert.deepEqual(w?.task_ids, [ids[0]]);
    assert.ok("ideas" in j);
  });
});
