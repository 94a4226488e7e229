// The operator's view of the running system: every metric the Grafana dashboard and the
// Prometheus alert rules in deploy/ name is served by the processes that run (the server and
// an app of each kind, started against the sandbox), so none of their panels or rules watches
// a series that never exists.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { APPS, System, root } from "./system.js";

/** Metric names in a PromQL-bearing file: our own, and Node's default process metrics. */
function referenced(text: string): Set<string> {
  return new Set([...text.matchAll(/\b((?:prismq|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1] as string));
}

/** Names a /metrics answer serves: every `# TYPE` line, with a histogram's `_bucket`, `_sum` and `_count` series. */
function served(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name as string);
    if (type === "histogram" || type === "summary") for (const s of ["_bucket", "_sum", "_count"]) names.add(`${name}${s}`);
  }
  return names;
}

describe("deploy/: dashboard and alert rules against the running system", () => {
  it("every metric the Grafana dashboard and the alert rules reference is served by the server or an app", { timeout: 180_000 }, async () => {
    const files = ["deploy/grafana/prismq-workers.json", "deploy/prometheus/alerts.yaml"];
    const wanted = new Map<string, Set<string>>(files.map((f) => [f, referenced(readFileSync(join(root, f), "utf8"))]));
    for (const [file, names] of wanted) assert.ok(names.size >= 10, `${file} references metrics (${names.size})`);

    const sys = await System.start({ mode: "direct" });
    try {
      await sys.midRun(10);
      // Both processors have worked (and so spent budget and timed their calls) before the scrape.
      await sys.until(async () => (await sys.metric("youtube-processor", "prismq_youtube_quota_units_spent_total")) > 0, "youtube-processor spent quota units");
      await sys.until(async () => (await sys.metric("reddit-processor", "prismq_reddit_requests_spent_total")) > 0, "reddit-processor spent requests");
      const origin = new URL(sys.tmUrl).origin;
      const unauthorized = await fetch(`${origin}/metrics`);
      assert.equal(unauthorized.status, 401, "the server's /metrics needs a key");
      const server = await fetch(`${origin}/metrics`, { headers: { "X-API-Key": sys.key } });
      assert.equal(server.status, 200);
      const texts: Record<string, string> = { "taskmanager-server": await server.text() };
      for (const app of APPS) {
        texts[app] = await sys.metrics(app);
        assert.match(texts[app] ?? "", /^# TYPE prismq_tasks_claimed_total counter$/m, `${app} serves its metrics`);
      }
      const all = new Set(Object.values(texts).flatMap((t) => [...served(t)]));
      for (const [file, names] of wanted) {
        const missing = [...names].filter((n) => !all.has(n)).sort();
        assert.deepEqual(missing, [], `${file} references metrics no process serves`);
      }
      // The budget metrics are per unit, and each platform's processes serve their own with samples.
      assert.match(texts["youtube-processor"] ?? "", /^prismq_youtube_quota_units_spent_total\{service="youtube-processor"\} [1-9]/m);
      assert.match(texts["reddit-processor"] ?? "", /^prismq_reddit_requests_spent_total\{service="reddit-processor"\} [1-9]/m);
      // Every external call is timed: the APIs and the TaskManager.
      for (const [app, api] of [["youtube-processor", "youtube"], ["reddit-processor", "reddit"], ["youtube-processor", "taskmanager"]] as const) {
        assert.match(texts[app] ?? "", new RegExp(`^prismq_external_request_duration_seconds_count\\{[^}]*\\bapi="${api}"[^}]*\\} [1-9]`, "m"), `${app} times ${api} calls`);
      }
    } finally {
      await sys.close();
    }
  });
});
