import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { PostgresStore, SqliteStore } from "../src/server.js";
import { MIGRATIONS as PG_MIGRATIONS } from "../src/store/postgres.js";
import { MIGRATIONS as SQLITE_MIGRATIONS } from "../src/store/sqlite.js";
import type { Store } from "../src/store/types.js";
import { PG_URL, uid } from "./helpers.js";

/**
 * Databases written before the shared migration runner open and migrate unchanged: each is built here
 * the way the stores' own runners built it (the bookkeeping statements below are theirs, word for word),
 * stopped at version 1, 2 or the latest, with a task in it; opening it with today's store brings it to
 * the latest version, keeps the recorded versions and the task, and the store works on it.
 */
const OLD_TIME = 1_700_000_000_000;
const LEGACY = {
  sqliteTable: "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
  postgresTable: "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
  sqliteRecord: "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
  postgresRecord: "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
};
// Valid from version 1 on (no column added later).
const SEED_TYPE = "INSERT INTO task_types (name, version, param_schema, created_at, updated_at) VALUES ('migr-type', '1', '{}', 1, 1)";
const SEED_TASK = `INSERT INTO tasks (type_id, status, params, created_at, updated_at, dedupe_key)
  SELECT id, 'pending', '{"n":1}', 2, 2, 'migr-key' FROM task_types WHERE name = 'migr-type'`;

async function checkUpgraded(store: Store, versions: () => Promise<Array<{ version: number; applied_at: number }>>, builtAt: number) {
  const rows = await versions();
  assert.deepEqual(rows.map((r) => r.version), [1, 2, 3]);
  for (const r of rows.slice(0, builtAt)) assert.equal(Number(r.applied_at), OLD_TIME, `version ${r.version} kept its record`);
  const type = await store.getTaskType("migr-type");
  assert.ok(type, "the task type survived");
  const now = Date.now();
  const claimed = await store.claimTask({
    typeId: type.id, workerId: "w-migr", sortBy: "created_at", sortOrder: "ASC", now, expiredBefore: now - 60_000, maxAttempts: 3,
  });
  assert.deepEqual({ params: claimed?.params, attempts: claimed?.attempts, tookOver: claimed?.tookOver }, { params: '{"n":1}', attempts: 1, tookOver: false });
  const stats = await store.stats({ workers: 5, tasksPerWorker: 5, failures: 5, since: 0 });
  assert.deepEqual(stats.workers, [{ workerId: "w-migr", claimed: 1, taskIds: [claimed?.id] }]);
}

describe("databases from before the shared migration runner", () => {
  const dir = mkdtempSync(join(tmpdir(), "tm-migrations-"));
  const schemas: string[] = [];
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await client.end();
  });

  for (const builtAt of [1, 2, SQLITE_MIGRATIONS.length]) {
    it(`SQLite at version ${builtAt} opens and migrates to the latest`, async () => {
      const path = join(dir, `v${builtAt}-${uid()}.sqlite`);
      const old = new Database(path);
      old.exec(LEGACY.sqliteTable);
      SQLITE_MIGRATIONS.slice(0, builtAt).forEach((sql, i) => {
        old.exec(sql);
        old.prepare(LEGACY.sqliteRecord).run(i + 1, OLD_TIME);
      });
      old.exec(SEED_TYPE);
      old.exec(SEED_TASK);
      old.close();
      const store = new SqliteStore(path);
      try {
        const read = async () => {
          const db = new Database(path, { readonly: true });
          try {
            return db.prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version").all() as Array<{ version: number; applied_at: number }>;
          } finally {
            db.close();
          }
        };
        await checkUpgraded(store, read, builtAt);
      } finally {
        await store.close();
      }
    });

    it(`PostgreSQL at version ${builtAt} opens and migrates to the latest`, async () => {
      const schema = `tm_test_${uid()}`;
      schemas.push(schema);
      const old = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
      await old.connect();
      try {
        await old.query(`CREATE SCHEMA ${schema}`);
        await old.query(LEGACY.postgresTable);
        for (let i = 0; i < builtAt; i++) {
          await old.query(PG_MIGRATIONS[i] as string);
          await old.query(LEGACY.postgresRecord, [i + 1, OLD_TIME]);
        }
        await old.query(SEED_TYPE);
        await old.query(SEED_TASK);
      } finally {
        await old.end();
      }
      const store = await PostgresStore.open({ connectionString: PG_URL, schema, poolSize: 2 });
      try {
        const read = async () => {
          const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
          await client.connect();
          try {
            return (await client.query<{ version: number; applied_at: number }>("SELECT version, applied_at FROM schema_migrations ORDER BY version")).rows;
          } finally {
            await client.end();
          }
        };
        await checkUpgraded(store, read, builtAt);
      } finally {
        await store.close();
      }
    });
  }
});
