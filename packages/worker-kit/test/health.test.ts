// startHealthServer (/healthz, /readyz, /metrics, 404, 405, close) and the
// content of WorkerMetrics as Prometheus text.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { WorkerMetrics, readMetric, startHealthServer, type HealthServer, type HealthServerOptions } from "../src/index.js";

const servers: HealthServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** Starts a server on a free port with a fresh registry (unless given), closed after the tests. */
async function start(options: Partial<HealthServerOptions> = {}): Promise<HealthServer> {
  const server = await startHealthServer({ registry: new WorkerMetrics("svc", { defaultMetrics: false }).registry, ...options });
  servers.push(server);
  return server;
}

async function getJson(url: string): Promise<{ status: number; body: unknown; type: string | null }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, type: res.headers.get("content-type"), body: await res.json() };
}

const never = () => new Promise<boolean>(() => undefined);

describe("startHealthServer", () => {
  it("listens on a free port on 127.0.0.1 by default and says where in url", async () => {
    const server = await start();
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
  });

  it("answers /healthz with 200 {status: ok}, as JSON that is not cached", async () => {
    const server = await start({ checks: { down: () => false }, isStopping: () => true });
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.deepEqual(await res.json(), { status: "ok" });
  });

  it("answers /readyz 200 when every check passes, sync or async", async () => {
    const calls: string[] = [];
    const server = await start({
      checks: {
        sync: () => (calls.push("sync"), true),
        async: async () => (calls.push("async"), true),
      },
      isStopping: () => false,
    });
    assert.deepEqual(await getJson(`${server.url}/readyz`), {
      status: 200,
      type: "application/json",
      body: { status: "ready", failing: [] },
    });
    assert.deepEqual(calls.sort(), ["async", "sync"]);
  });

  it("answers /readyz 200 with no checks at all", async () => {
    const server = await start();
    const { status, body } = await getJson(`${server.url}/readyz?probe=1`);
    assert.equal(status, 200);
    assert.deepEqual(body, { status: "ready", failing: [] });
  });

  it("answers /readyz 503 naming the check that returns false", async () => {
    const server = await start({ checks: { taskmanager: () => true, redis: async () => false } });
    assert.deepEqual(await getJson(`${server.url}/readyz`), {
      status: 503,
      type: "application/json",
      body: { status: "not ready", failing: ["redis"] },
    });
  });

  it("answers /readyz 503 naming checks that throw or reject", async () => {
    const server = await start({
      checks: {
        ok: () => true,
        throws: () => {
          throw new Error("sync failure");
        },
        rejects: async () => {
          throw new Error("async failure");
        },
      },
    });
    const { status, body } = await getJson(`${server.url}/readyz`);
    assert.equal(status, 503);
    assert.deepEqual(body, { status: "not ready", failing: ["throws", "rejects"] });
  });

  it("answers /readyz 503 naming a check that hangs, cut off at 2 s", { timeout: 15_000 }, async () => {
    const server = await start({ checks: { quick: () => true, hung: never } });
    const { status, body } = await getJson(`${server.url}/readyz`);
    assert.equal(status, 503);
    assert.deepEqual(body, { status: "not ready", failing: ["hung"] });
  });

  it("answers /readyz 503 'stopping' while isStopping() is true, without running the checks", async () => {
    let stopping = false;
    let calls = 0;
    const server = await start({ checks: { db: () => (calls++, true) }, isStopping: () => stopping });
    assert.equal((await getJson(`${server.url}/readyz`)).status, 200);
    assert.equal(calls, 1);
    stopping = true;
    assert.deepEqual(await getJson(`${server.url}/readyz`), { status: 503, type: "application/json", body: { status: "stopping" } });
    assert.equal(calls, 1);
  });

  it("answers methods other than GET with 405 and unknown paths with 404", async () => {
    const server = await start();
    for (const path of ["/healthz", "/readyz", "/metrics"]) {
      const res = await fetch(`${server.url}${path}`, { method: "POST", body: "x" });
      assert.equal(res.status, 405, `POST ${path}`);
      assert.deepEqual(await res.json(), { error: "method not allowed" });
    }
    assert.equal((await fetch(`${server.url}/healthz`, { method: "DELETE" })).status, 405);
    for (const path of ["/", "/health", "/metrics/extra", "/readyz/"]) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 404, `GET ${path}`);
      assert.deepEqual(await res.json(), { error: "not found" });
    }
  });

  it("frees its port on close(): requests fail and the port can be bound again", async () => {
    const server = await startHealthServer({ registry: new WorkerMetrics("svc", { defaultMetrics: false }).registry });
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    await server.close();
    await assert.rejects(fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5_000) }), (err: Error) => {
      assert.equal(err.name, "TypeError", String(err));
      return true;
    });
    const again = await start({ port: server.port });
    assert.equal(again.port, server.port);
    assert.equal((await fetch(`${again.url}/healthz`)).status, 200);
  });
});

describe("/metrics and WorkerMetrics", () => {
  const SERIES = [
    "prismq_tasks_claimed_total",
    "prismq_tasks_completed_total",
    "prismq_tasks_failed_total",
    "prismq_tasks_created_total",
    "prismq_tasks_deduplicated_total",
    "prismq_task_duration_seconds",
    "prismq_api_calls_total",
    "prismq_youtube_quota_units_spent_total",
    "prismq_reddit_requests_spent_total",
    "prismq_external_request_duration_seconds",
    "prismq_budget_remaining",
    "prismq_budget_exhausted_total",
    "prismq_outbox_depth",
    "prismq_outbox_deliveries_total",
    "prismq_schedule_runs_total",
  ];

  async function scrape(server: HealthServer): Promise<{ type: string | null; lines: string[] }> {
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    return { type: res.headers.get("content-type"), lines: (await res.text()).split("\n") };
  }

  it("serves every worker series as Prometheus text", async () => {
    const metrics = new WorkerMetrics("svc", { defaultMetrics: false });
    const server = await start({ registry: metrics.registry });
    const { type, lines } = await scrape(server);
    assert.match(type ?? "", /^text\/plain; version=0\.0\.4/);
    for (const name of SERIES) {
      const kind = name.endsWith("_seconds") ? "histogram" : name.endsWith("_total") ? "counter" : "gauge";
      assert.ok(lines.includes(`# TYPE ${name} ${kind}`), `missing # TYPE ${name} ${kind}`);
      assert.ok(
        lines.some((l) => l.startsWith(`# HELP ${name} `)),
        `missing # HELP ${name}`,
      );
    }
  });

  it("serves exact samples, labelled with service, after counting", async () => {
    const metrics = new WorkerMetrics("svc", { defaultMetrics: false });
    const server = await start({ registry: metrics.registry });
    metrics.tasksCompleted.inc({ type: "T" });
    metrics.tasksCompleted.inc({ type: "T" });
    metrics.youtubeQuotaUnitsSpent.inc(100);
    metrics.redditRequestsSpent.inc(3);
    metrics.tasksClaimed.inc({ type: "PrismQ.YouTube.Video" });
    metrics.tasksFailed.inc({ type: "T", retryable: "true" });
    metrics.budgetRemaining.set({ budget: "youtube-quota" }, 9_900);
    metrics.outboxDepth.set(3);
    const { lines } = await scrape(server);
    for (const want of [
      'prismq_tasks_completed_total{type="T",service="svc"} 2',
      'prismq_youtube_quota_units_spent_total{service="svc"} 100',
      'prismq_reddit_requests_spent_total{service="svc"} 3',
      'prismq_tasks_claimed_total{type="PrismQ.YouTube.Video",service="svc"} 1',
      'prismq_tasks_failed_total{type="T",retryable="true",service="svc"} 1',
      'prismq_budget_remaining{budget="youtube-quota",service="svc"} 9900',
      'prismq_outbox_depth{service="svc"} 3',
    ]) {
      assert.ok(lines.includes(want), `missing sample line: ${want}`);
    }
    // Only what was counted has samples.
    assert.ok(!lines.some((l) => l.startsWith("prismq_tasks_created_total{")));
  });

  it("readMetric reads each sample of one metric back from the text, with its labels and value", async () => {
    const metrics = new WorkerMetrics("svc", { defaultMetrics: false });
    const server = await start({ registry: metrics.registry });
    metrics.apiCalls.inc({ api: "youtube", method: "videos.list", outcome: "ok" }, 4);
    metrics.apiCalls.inc({ api: "reddit", method: 'say "hi"', outcome: "retry" });
    metrics.outboxDepth.set(2);
    const text = (await scrape(server)).lines.join("\n");
    assert.deepEqual(readMetric(text, "prismq_api_calls_total"), [
      { labels: { api: "youtube", method: "videos.list", outcome: "ok", service: "svc" }, value: 4 },
      { labels: { api: "reddit", method: 'say "hi"', outcome: "retry", service: "svc" }, value: 1 },
    ]);
    assert.deepEqual(readMetric(text, "prismq_outbox_depth"), [{ labels: { service: "svc" }, value: 2 }]);
    assert.deepEqual(readMetric(text, "prismq_api_calls"), [], "a name is matched whole, not as a prefix");
  });

  it("keeps two WorkerMetrics apart, each with its own service label", async () => {
    const a = new WorkerMetrics("svc-a", { defaultMetrics: false });
    const b = new WorkerMetrics("svc-b", { defaultMetrics: false });
    a.tasksCompleted.inc({ type: "T" }, 5);
    b.tasksCompleted.inc({ type: "T" }, 7);
    const textA = await a.registry.metrics();
    const textB = await b.registry.metrics();
    assert.ok(textA.includes('prismq_tasks_completed_total{type="T",service="svc-a"} 5'));
    assert.ok(!textA.includes("svc-b"));
    assert.ok(textB.includes('prismq_tasks_completed_total{type="T",service="svc-b"} 7'));
    assert.ok(!textB.includes("svc-a"));
  });

  it("includes Node's default series under their standard names (no project prefix), labelled with service", async () => {
    const metrics = new WorkerMetrics("svc");
    const server = await start({ registry: metrics.registry });
    const { lines } = await scrape(server);
    assert.ok(!lines.some((l) => l.startsWith("prismq_process_") || l.startsWith("prismq_nodejs_")), "no prefixed default series");
    for (const name of ["process_cpu_user_seconds_total", "process_resident_memory_bytes", "nodejs_heap_size_used_bytes", "nodejs_eventloop_lag_seconds"]) {
      assert.ok(
        lines.some((l) => new RegExp(`^${name}\\{service="svc"\\} [\\d.e+-]+$`).test(l)),
        `no ${name} sample labelled with service`,
      );
    }
    // The worker series are there as well.
    assert.ok(lines.includes("# TYPE prismq_tasks_claimed_total counter"));
  });

  it("has no prismq_process_ series with defaultMetrics: false", async () => {
    const metrics = new WorkerMetrics("svc", { defaultMetrics: false });
    const server = await start({ registry: metrics.registry });
    const { lines } = await scrape(server);
    assert.ok(!lines.some((l) => l.includes("prismq_process_") || l.includes("prismq_nodejs_")));
    assert.ok(!lines.some((l) => /^(# (HELP|TYPE) )?(process_|nodejs_)/.test(l)), "no unprefixed default metrics either");
    assert.ok(lines.includes("# TYPE prismq_tasks_claimed_total counter"));
  });
});
