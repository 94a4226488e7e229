import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { RunningServer } from "../src/server.js";
import { anySchema, api, backends, newType, pool, start, uid } from "./helpers.js";

/** Code point (UTF-8 byte) order: how both stores break ties between worker ids. */
const byCodePoint = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

for (const backend of backends()) {
  describe(`bounded answers on ${backend.name}`, () => {
    const servers: RunningServer[] = [];
    after(async () => {
      await Promise.all(servers.map((s) => s.close()));
      await backend.cleanup();
    });
    const open = async (options: Parameters<typeof start>[1] = {}) => {
      const s = await start(backend.storage(), options);
      servers.push(s);
      return s;
    };

    it("pages GET /task-types by name: 50 by default, limit up to 1000, offset, active_only kept", async () => {
      const s = await open();
      const tm = api(s.url);
      const prefix = `Page.T${uid()}`;
      const names = Array.from({ length: 60 }, (_, i) => `${prefix}.${String(i).padStart(2, "0")}`);
      await pool(names, 8, async (name) => {
        const r = await tm.post("/task-types/register", { name, version: "1", param_schema: anySchema });
        assert.equal(r.status, 200, r.text);
      });
      const first = (await tm.get("/task-types")).json.data;
      assert.equal(first.count, 50);
      assert.deepEqual(first.items.map((t: { name: string }) => t.name), names.slice(0, 50));
      const rest = (await tm.get("/task-types?limit=20&offset=50")).json.data;
      assert.deepEqual(rest, { items: rest.items, count: 10 });
      assert.deepEqual(rest.items.map((t: { name: string }) => t.name), names.slice(50));
      const all = (await tm.get("/task-types?limit=1000&active_only=true")).json.data;
      assert.equal(all.count, 60);
      assert.deepEqual(Object.keys(all.items[0]).sort(), ["created_at", "id", "is_active", "name", "param_schema", "updated_at", "version"]);
      assert.deepEqual((await tm.get("/task-types?active_only=1&limit=2&offset=59")).json.data.count, 1);
      for (const q of ["limit=0", "limit=1001", "limit=x", "offset=-1", "offset=1.5", "active_only=maybe"]) {
        const r = await tm.get(`/task-types?${q}`);
        assert.equal(r.status, 400, q);
        assert.equal(r.json.error, "Validation failed", q);
      }
    });

    it("matches a GET /tasks pattern over every type name, however many (matched in slices)", async () => {
      const s = await open();
      const tm = api(s.url);
      const prefix = `Many.T${uid()}`;
      const names = Array.from({ length: 150 }, (_, i) => `${prefix}.${String(i).padStart(3, "0")}`);
      await pool(names, 8, async (name) => {
        assert.equal((await tm.post("/task-types/register", { name, version: "1", param_schema: anySchema })).status, 200);
        assert.equal((await tm.post("/tasks", { type: name, params: { n: 1 } })).status, 200);
      });
      const endsIn7 = (await tm.get(`/tasks?type=${encodeURIComponent(`${prefix.toLowerCase()}.%7`)}&limit=1000`)).json.data;
      assert.deepEqual(
        endsIn7.items.map((t: { type: string }) => t.type).sort(),
        names.filter((n) => n.endsWith("7")),
      );
      assert.equal((await tm.get(`/tasks?type=${encodeURIComponent(`${prefix}.%`)}&limit=1000`)).json.data.count, 150);
      assert.equal((await tm.get(`/tasks?type=${encodeURIComponent(`${prefix}.1_9`)}&limit=1000`)).json.data.count, 0, "no %: an exact name");
      assert.equal((await tm.get(`/tasks?type=${encodeURIComponent(`${prefix}.1_9%`)}&limit=1000`)).json.data.count, 5);
    });

    it("keeps /stats small with 3,000+ workers holding claims: the top 50 workers and 20 failures, with totals", { timeout: 300_000 }, async () => {
      const s = await open({ maxAttempts: 1 });
      const tm = api(s.url);
      const type = await newType(s.url, anySchema);
      // 3,100 workers holding one task each, a few of them with ids that sort differently by locale
      // than by code point; one worker holding 30 tasks and one holding 2.
      const oddIds = ["A-upper", "Z-upper", "a-lower", "z-lower", "\u00e4-umlaut", "\u00c4-Umlaut", "w-\ud83d\ude00"];
      const workers = [...Array.from({ length: 3_093 }, (_, i) => `w-${String(i).padStart(4, "0")}`), ...oddIds];
      const holders = [...workers, ...Array(30).fill("busy-worker"), "pair-worker", "pair-worker"];
      const ids = await pool(holders, 16, async (_w) => (await tm.post("/tasks", { type: type.name, params: { k: uid() } })).json.data.id as number);
      const claimedBy = new Map<string, number[]>();
      await pool(holders, 16, async (w) => {
        const r = await tm.post("/tasks/claim", { worker_id: w, task_type_id: type.id });
        assert.equal(r.status, 200, r.text);
        claimedBy.set(w, [...(claimedBy.get(w) ?? []), r.json.data.id as number]);
      });
      assert.equal(claimedBy.size, 3_102);
      // 25 final failures (one attempt each): more than the 20 listed.
      const failType = await newType(s.url, anySchema);
      for (let i = 0; i < 25; i++) {
        await tm.post("/tasks", { type: failType.name, params: { i } });
        const c = await tm.post("/tasks/claim", { worker_id: "failing-worker", task_type_id: failType.id });
        const f = await tm.post(`/tasks/${c.json.data.id}/complete`, { worker_id: "failing-worker", success: false, error: `failure ${i}` });
        assert.equal(f.json.data.status, "failed");
      }

      const r = await tm.get("/stats");
      assert.equal(r.status, 200);
      const data = r.json.data;
      assert.ok(Buffer.byteLength(r.text) < 16 * 1024, `the answer is ${Buffer.byteLength(r.text)} bytes`);
      assert.equal(data.workersTotal, 3_102);
      assert.equal(data.workers.length, 50);
      assert.equal(data.failuresTotal, 25);
      assert.equal(data.recentFailures.length, 20);
      assert.equal(data.tasks.total, ids.length + 25);
      const sorted = (list: number[]) => [...list].sort((a, b) => a - b);
      assert.deepEqual(data.workers[0], { worker_id: "busy-worker", claimed: 30, task_ids: sorted(claimedBy.get("busy-worker") ?? []).slice(0, 20) });
      assert.deepEqual(data.workers[1], { worker_id: "pair-worker", claimed: 2, task_ids: sorted(claimedBy.get("pair-worker") ?? []) });
      const ones = [...workers].sort(byCodePoint).slice(0, 48);
      assert.deepEqual(ones.slice(0, 4), ["A-upper", "Z-upper", "a-lower", "w-0000"]);
      assert.deepEqual(
        data.workers.slice(2),
        ones.map((w) => ({ worker_id: w, claimed: 1, task_ids: claimedBy.get(w) })),
      );
      assert.deepEqual(data.recentFailures.map((f: { error_message: string }) => f.error_message), Array.from({ length: 20 }, (_, i) => `failure ${24 - i}`));
    });
  });
}
