import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { PostgresStore, SqliteStore } from "../src/server.js";
import { CLAIMABLE, STATS_BY_TYPE_STATUS, STATS_FAILURES, STATS_MINUTES, STATS_WORKERS, SWEEP_LIMIT, TIMED_OUT_WHERE } from "../src/store/sql.js";
import { PG_URL, uid } from "./helpers.js";

/**
 * The queries that run on every dashboard poll (stats) and in every claim (the sweep of timed-out
 * last claims) read indexes, never a whole table: checked in the plans each database makes for them.
 * PostgreSQL prefers scanning a small table to any index, so there the check is that an index is
 * usable at all: the plan with sequential scans priced out must name the expected index.
 */
const queries = (collate: string) => [
  { what: "tasks by type and status", sql: STATS_BY_TYPE_STATUS, index: "tasks_by_type_status" },
  { what: "the top workers and their totals", sql: STATS_WORKERS("50", "20", collate), index: "tasks_claimed_by" },
  { what: "the newest failures", sql: STATS_FAILURES("20"), index: "tasks_failed_recent" },
  { what: "throughput by minute", sql: STATS_MINUTES("0"), index: "task_history_recent" },
  { what: "the sweep of timed-out last claims", sql: `SELECT id FROM tasks WHERE ${TIMED_OUT_WHERE("1", "2", "3")} LIMIT ${SWEEP_LIMIT}`, index: "tasks_claim_expiry" },
  { what: "the claim's pick", sql: `SELECT id FROM tasks WHERE type_id = 1 AND ${CLAIMABLE("5", "3")} ORDER BY created_at, id LIMIT 1`, index: "tasks_claim_created" },
];

describe("query plans", () => {
  const dirs: string[] = [];
  const schemas: string[] = [];
  after(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await client.end();
  });

  it("SQLite reads the stats, sweep and claim rows through their indexes, scanning no table", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tm-plans-"));
    dirs.push(dir);
    const path = join(dir, "t.sqlite");
    await new SqliteStore(path).close(); // creates the tables and indexes
    const db = new Database(path, { readonly: true });
    try {
      for (const q of queries("")) {
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all() as Array<{ detail: string }>).map((r) => r.detail);
        assert.ok(plan.some((d) => d.includes(q.index)), `${q.what}: ${plan.join(" | ")}`);
        const scans = plan.filter((d) => /^SCAN (tasks|task_history)\b/.test(d) && !/USING (COVERING )?INDEX/.test(d));
        assert.deepEqual(scans, [], `${q.what} scans a table: ${plan.join(" | ")}`);
      }
    } finally {
      db.close();
    }
  });

  it("SQLite keeps the temporary table each claim's sweep builds in memory, not in a file", async () => {
    // `id IN (SELECT … LIMIT n)` materialises its list; with temp_store at its default (a file) that
    // was a file opened and removed in every claim, about 150 µs of it (see bench:server).
    const store = new SqliteStore(":memory:");
    try {
      const db = (store as unknown as { db: Database.Database }).db;
      assert.equal(db.pragma("temp_store", { simple: true }), 2, "PRAGMA temp_store = MEMORY (2)");
    } finally {
      await store.close();
    }
  });

  it("PostgreSQL can answer each of them from its index", async () => {
    const schema = `tm_test_${uid()}`;
    schemas.push(schema);
    await (await PostgresStore.open({ connectionString: PG_URL, schema })).close();
    const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      await client.query("SET enable_seqscan = off");
      for (const q of queries(' COLLATE "C"')) {
        const { rows } = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN ${q.sql}`);
        const plan = rows.map((r) => r["QUERY PLAN"]).join("\n");
        assert.match(plan, new RegExp(`(Index (Only )?Scan( Backward)? using|Bitmap Index Scan on) ${q.index}\\b`), `${q.what}:\n${plan}`);
        assert.doesNotMatch(plan, /Seq Scan on (tasks|task_history)\b/, `${q.what}:\n${plan}`);
      }
    } finally {
      await client.end();
    }
  });
});
