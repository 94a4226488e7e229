import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { API_KEY, api, backends, call, newType, start } from "./helpers.js";

/** The samples of `name` in Prometheus text, as "labels value" strings without the service-independent noise. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(name.length, at), Number(line.slice(at + 1)));
  }
  return out;
}

for (const backend of backends()) {
  describe(`GET /metrics (${backend.name})`, () => {
    after(() => backend.cleanup());

    it("requires a valid API key: 401 without one, Prometheus text with any valid one", async () => {
      const server = await start(backend.storage(), { apiKeys: [API_KEY, "second-key-0123456789"] });
      try {
        const origin = new URL(server.url).origin;
        assert.equal((await call(origin, "GET", "/metrics", undefined, {})).status, 401);
        assert.equal((await call(origin, "GET", "/metrics", undefined, { "X-API-Key": "wrong-key-0123456789" })).status, 401);
        for (const key of [API_KEY, "second-key-0123456789"]) {
          const r = await call(origin, "GET", "/metrics", undefined, { "X-API-Key": key });
          assert.equal(r.status, 200);
          assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
          assert.match(r.text, /^# HELP prismq_taskmanager_tasks /m);
          // Node's default metrics under their standard names.
          assert.match(r.text, /^process_cpu_user_seconds_total \d/m);
          assert.doesNotMatch(r.text, /^prismq_process_/m);
        }
      } finally {
        await server.close();
      }
    });

    it("counts tasks by type and status at scrape time, claims, completions, failures and claim-timeout takeovers, and times requests", async () => {
      let clock = Date.now();
      const server = await start(backend.storage(), { claimTimeoutSeconds: 60, maxAttempts: 5, now: () => clock });
      try {
        const tm = api(server.url);
        const origin = new URL(server.url).origin;
        const scrape = async () => (await call(origin, "GET", "/metrics")).text;
        const { name, id } = await newType(server.url);
        for (let n = 0; n < 5; n++) assert.equal((await tm.post("/tasks", { type: name, params: { n } })).status, 200);
        const claim = async (worker: string) => (await tm.post("/tasks/claim", { task_type_id: id, worker_id: worker })).json.data.id as number;
        const complete = (task: number, worker: string, success: boolean, retryable?: boolean) =>
          tm.post(`/tasks/${task}/complete`, { worker_id: worker, success, ...(success ? { result: { ok: 1 } } : { error: "boom" }), ...(retryable === undefined ? {} : { retryable }) });

        const a = await claim("w-a");
        assert.equal((await complete(a, "w-a", true)).status, 200);
        const b = await claim("w-a");
        assert.equal((await complete(b, "w-a", false)).status, 200); // retried: back to pending
        // The retried task comes back to the next claim: a re-claim after a failure, not a takeover.
        const again = await claim("w-a");
        assert.equal(again, b);
        assert.equal((await complete(again, "w-a", false, false)).status, 200); // final
        const c = await claim("w-a");
        assert.equal((await complete(c, "w-a", true)).status, 200);
        // A worker vanishes with a claim; after the timeout another takes the task over.
        const stuck = await claim("w-gone");
        clock += 61_000;
        assert.equal(await claim("w-b"), stuck);

        const text = await scrape();
        const tasks = samples(text, "prismq_taskmanager_tasks");
        assert.equal(tasks.get(`{type="${name}",status="completed"}`), 2);
        assert.equal(tasks.get(`{type="${name}",status="failed"}`), 1);
        assert.equal(tasks.get(`{type="${name}",status="claimed"}`), 1);
        assert.equal(tasks.get(`{type="${name}",status="pending"}`), 1);
        assert.equal(samples(text, "prismq_taskmanager_claims_total").get(`{type="${name}"}`), 6);
        assert.equal(samples(text, "prismq_taskmanager_claim_takeovers_total").get(`{type="${name}"}`), 1);
        assert.equal(samples(text, "prismq_taskmanager_completions_total").get(""), 2);
        const failures = samples(text, "prismq_taskmanager_failures_total");
        assert.equal(failures.get('{final="true"}'), 1);
        assert.equal(failures.get('{final="false"}'), 1);
        const timed = samples(text, "prismq_taskmanager_http_request_duration_seconds_count");
        assert.equal(timed.get('{method="POST",route="/api/tasks/claim",status_code="200"}'), 6);
        assert.equal(timed.get('{method="POST",route="/api/tasks/:id/complete",status_code="200"}'), 4);
        assert.equal(timed.get('{method="POST",route="/api/tasks",status_code="200"}'), 5);
      } finally {
        await server.close();
      }
    });
  });
}
