import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { migratePostgres, migrateSqlite } from "../src/index.js";
import { testSchemas } from "../src/testing.js";

const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const uid = () => randomBytes(6).toString("hex");

// Plain CREATE TABLE (no IF NOT EXISTS): applying a version twice fails loudly.
const V1 = "CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT NOT NULL)";
const V2 = "ALTER TABLE things ADD COLUMN size INTEGER NOT NULL DEFAULT 0; CREATE INDEX things_size ON things (size)";
const BROKEN = "CREATE TABLE more (id INTEGER PRIMARY KEY); SELECT * FROM no_such_table";

describe("migrateSqlite", () => {
  const dir = mkdtempSync(join(tmpdir(), "sql-migrations-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const open = () => new Database(join(dir, `m-${uid()}.sqlite`));
  const versions = (db: Database.Database, table: string) =>
    (db.prepare(`SELECT version FROM ${table} ORDER BY version`).all() as Array<{ version: number }>).map((r) => r.version);

  it("applies every version once, in order, and records each", () => {
    const db = open();
    assert.deepEqual(migrateSqlite(db, { table: "m_log", migrations: [V1, V2] }), { from: 0, to: 2 });
    assert.deepEqual(versions(db, "m_log"), [1, 2]);
    db.prepare("INSERT INTO things (id, name, size) VALUES (1, 'a', 3)").run();
    assert.deepEqual(migrateSqlite(db, { table: "m_log", migrations: [V1, V2] }), { from: 2, to: 2 });
    assert.deepEqual(db.prepare("SELECT * FROM things").all(), [{ id: 1, name: "a", size: 3 }]);
    db.close();
  });

  it("continues an older database from its highest version", () => {
    const db = open();
    migrateSqlite(db, { table: "m_log", migrations: [V1] });
    db.prepare("INSERT INTO things (id, name) VALUES (1, 'a')").run();
    assert.deepEqual(migrateSqlite(db, { table: "m_log", migrations: [V1, V2] }), { from: 1, to: 2 });
    assert.deepEqual(db.prepare("SELECT * FROM things").all(), [{ id: 1, name: "a", size: 0 }]);
    db.close();
  });

  it("rolls back every version of a run when one fails", () => {
    const db = open();
    assert.throws(() => migrateSqlite(db, { table: "m_log", migrations: [V1, V2, BROKEN] }), /no_such_table/);
    assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name IN ('things', 'more', 'm_log')").all().length, 0);
    assert.equal(db.inTransaction, false);
    db.close();
  });

  it("refuses a table name that is not a plain identifier", () => {
    const db = open();
    assert.throws(() => migrateSqlite(db, { table: "x; DROP TABLE y", migrations: [V1] }), /invalid table name/);
    db.close();
  });
});

describe("migratePostgres", () => {
  const schemas = testSchemas("mig_test_", () => new pg.Client({ connectionString: PG_URL }));
  const pools: pg.Pool[] = [];
  const fresh = () => schemas.next();
  const poolFor = (schema: string) => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 2, options: `-c search_path=${schema}` });
    pools.push(pool);
    return pool;
  };
  after(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await schemas.drop();
  });
  const rowsOf = async (pool: pg.Pool, sql: string) => (await pool.query(sql)).rows as Array<Record<string, unknown>>;

  it("creates the schema, applies every version once and records each with the time in milliseconds", async () => {
    const schema = fresh();
    const pool = poolFor(schema);
    const before = Date.now();
    const plan = { table: "m_log", migrations: [V1, V2], schema, lockName: "mig-test" };
    assert.deepEqual(await migratePostgres(pool, plan), { from: 0, to: 2 });
    const rows = await rowsOf(pool, "SELECT version, applied_at FROM m_log ORDER BY version");
    assert.deepEqual(rows.map((r) => r.version), [1, 2]);
    for (const r of rows) assert.ok(Number(r.applied_at) >= before - 1000 && Number(r.applied_at) <= Date.now() + 1000);
    assert.deepEqual(await migratePostgres(pool, plan), { from: 2, to: 2 });
  });

  it("stamps a TIMESTAMPTZ bookkeeping table when asked to", async () => {
    const schema = fresh();
    const pool = poolFor(schema);
    await migratePostgres(pool, { table: "m_log", migrations: [V1], schema, lockName: "mig-test", appliedAt: "timestamptz" });
    const [row] = await rowsOf(pool, "SELECT applied_at FROM m_log");
    assert.ok(row?.applied_at instanceof Date);
  });

  it("lets only one of several nodes starting at once apply each version", async () => {
    const schema = fresh();
    const plan = { table: "m_log", migrations: [V1, V2], schema, lockName: "mig-test" };
    const results = await Promise.all([1, 2, 3, 4].map(() => migratePostgres(poolFor(schema), plan)));
    assert.equal(results.filter((r) => r.from === 0).length, 1, JSON.stringify(results));
    assert.deepEqual(
      (await rowsOf(poolFor(schema), "SELECT version FROM m_log ORDER BY version")).map((r) => r.version),
      [1, 2],
    );
  });

  it("rolls back every version of a run when one fails", async () => {
    const schema = fresh();
    const pool = poolFor(schema);
    await assert.rejects(migratePostgres(pool, { table: "m_log", migrations: [V1, V2, BROKEN], schema, lockName: "mig-test" }), /no_such_table/);
    const [exists] = await rowsOf(pool, `SELECT to_regclass('${schema}.things') AS t`);
    assert.equal(exists?.t, null);
  });
});
