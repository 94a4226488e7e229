import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { openIdeaStore, resolveStorage, type IdeaInput } from "../src/index.js";
import { MIGRATIONS as PG_MIGRATIONS } from "../src/postgres.js";
import { IDEA_COLUMNS } from "../src/sql.js";
import { MIGRATIONS as SQLITE_MIGRATIONS } from "../src/sqlite.js";
import { PG_URL, backends, postgresBackend, sqliteBackend, uid } from "./helpers.js";

/** Every field a value no other field holds, so a value written to the wrong column cannot go unnoticed. */
const distinct = (sourceId: string): Required<Omit<IdeaInput, "id" | "createdAt" | "updatedAt">> => ({
  title: "value-of-title",
  description: "value-of-description",
  content: "value-of-content",
  keywords: ["value-of-keywords"],
  sourceType: "audio",
  metadata: { field: "value-of-metadata" },
  sourceId,
  sourceUrl: "https://example.com/value-of-sourceUrl",
  sourcePlatform: "value-of-platform",
  sourceCreatedBy: "value-of-sourceCreatedBy",
  sourceCreatedAt: "2001-02-03T04:05:06.789Z",
  score: 42.25,
  category: "value-of-category",
  subcategoryRelevance: { "value-of-subcategoryRelevance": 0.5 },
  contextualCategoryScores: { "value-of-contextualCategoryScores": 7 },
});

/** The same idea as each column should hold it, by SQL name, written out by hand (not from the column table). */
const byColumn = (i: ReturnType<typeof distinct>, json: (v: unknown) => unknown, instant: (iso: string) => unknown) => ({
  title: i.title,
  description: i.description,
  content: i.content,
  keywords: json(i.keywords),
  source_type: i.sourceType,
  metadata: json(i.metadata),
  source_id: i.sourceId,
  source_url: i.sourceUrl,
  source_platform: i.sourcePlatform,
  source_created_by: i.sourceCreatedBy,
  source_created_at: instant(i.sourceCreatedAt as string),
  score: i.score,
  category: i.category,
  subcategory_relevance: json(i.subcategoryRelevance),
  contextual_category_scores: json(i.contextualCategoryScores),
});

async function pgRows(schema: string, sql: string, args: unknown[] = []) {
  const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return (await client.query(sql, args)).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}

for (const backend of backends()) {
  describe(`the idea record's columns on ${backend.name}`, () => {
    after(() => backend.cleanup());

    it("round-trips every field with distinct values, each in its own column", async () => {
      const options = backend.options();
      const store = await backend.open(options);
      const input = distinct(`src-${uid()}`);
      const { id, idea } = await store.upsert(input);
      const expected = { ...input, id, sourceCreatedAt: input.sourceCreatedAt, createdAt: idea.createdAt, updatedAt: idea.updatedAt };
      assert.deepEqual(idea, expected);
      assert.deepEqual(await store.get(input.sourcePlatform, input.sourceId), expected);
      assert.deepEqual(await store.getById(id), expected);
      assert.deepEqual(await store.query({ platform: input.sourcePlatform }), [expected]);
      // The same again after an update through the conflict branch, with every value changed.
      const changed = { ...distinct(input.sourceId), title: "changed-title", score: 1.5, keywords: ["changed"], metadata: { changed: true } };
      assert.deepEqual((await store.upsert(changed)).idea, { ...expected, ...changed, updatedAt: (await store.getById(id))?.updatedAt });

      const names = Object.keys(byColumn(changed, (v) => v, (v) => v)).join(", ");
      const storage = resolveStorage(options);
      if (storage.kind === "sqlite") {
        const db = new Database(storage.path, { readonly: true });
        const row = db.prepare(`SELECT ${names} FROM idea_inspirations WHERE id = ?`).get(id);
        db.close();
        assert.deepEqual(row, byColumn(changed, (v) => JSON.stringify(v), (iso) => Date.parse(iso)));
      } else {
        const [row] = await pgRows(options.schema as string, `SELECT ${names} FROM idea_inspirations WHERE id = $1`, [id]);
        assert.deepEqual(row, byColumn(changed, (v) => v, (iso) => new Date(iso)));
      }
    });

    it("declares exactly the columns the migrations create", async () => {
      const options = backend.options();
      await backend.open(options);
      const storage = resolveStorage(options);
      let columns: string[];
      if (storage.kind === "sqlite") {
        const db = new Database(storage.path, { readonly: true });
        columns = (db.prepare("PRAGMA table_info(idea_inspirations)").all() as Array<{ name: string }>).map((r) => r.name);
        db.close();
      } else {
        const rows = await pgRows(
          options.schema as string,
          "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'idea_inspirations' ORDER BY ordinal_position",
          [options.schema],
        );
        columns = rows.map((r) => r.column_name as string);
      }
      assert.deepEqual(columns, Object.values(IDEA_COLUMNS).map((c) => c.name));
    });
  });
}

/**
 * Stores written before the shared migration runner open unchanged: built here the way the old runners
 * built them (their bookkeeping statements, word for word), with an idea in them.
 */
describe("idea stores from before the shared migration runner", () => {
  const sqlite = sqliteBackend();
  const postgres = postgresBackend();
  after(async () => {
    await sqlite.cleanup();
    await postgres.cleanup();
  });
  const seed = `INSERT INTO idea_inspirations (title, description, content, keywords, source_type, metadata, source_id, source_platform,
    subcategory_relevance, contextual_category_scores, created_at, updated_at)
    VALUES ('Old idea', '', '', '["old"]', 'text', '{}', 'old-1', 'reddit', '{}', '{}', `;

  it("SQLite at the latest version keeps its ideas and its record", async () => {
    const options = sqlite.options();
    const path = (resolveStorage(options) as { path: string }).path;
    const old = new Database(path);
    old.exec("CREATE TABLE IF NOT EXISTS idea_store_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    old.exec(SQLITE_MIGRATIONS[0] as string);
    old.prepare("INSERT INTO idea_store_migrations (version, applied_at) VALUES (?, ?)").run(1, 1_700_000_000_000);
    old.exec(`${seed} 1700000000000, 1700000000000)`);
    old.close();
    const store = await sqlite.open(options);
    assert.deepEqual((await store.get("reddit", "old-1"))?.keywords, ["old"]);
    assert.equal((await store.upsert({ title: "New", sourceId: "new-1", sourcePlatform: "reddit" })).created, true);
    const db = new Database(path, { readonly: true });
    assert.deepEqual(db.prepare("SELECT version, applied_at FROM idea_store_migrations").all(), [{ version: 1, applied_at: 1_700_000_000_000 }]);
    db.close();
  });

  it("PostgreSQL at the latest version keeps its ideas and its record", async () => {
    const options = postgres.options();
    const schema = options.schema as string;
    const old = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
    await old.connect();
    try {
      await old.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await old.query("CREATE TABLE IF NOT EXISTS idea_store_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
      await old.query(PG_MIGRATIONS[0] as string);
      await old.query("INSERT INTO idea_store_migrations (version) VALUES ($1)", [1]);
      await old.query(`${seed} now(), now())`);
    } finally {
      await old.end();
    }
    const before = await pgRows(schema, "SELECT version, applied_at FROM idea_store_migrations");
    const store = await postgres.open(options);
    assert.deepEqual((await store.get("reddit", "old-1"))?.keywords, ["old"]);
    assert.equal((await store.upsert({ title: "New", sourceId: "new-1", sourcePlatform: "reddit" })).created, true);
    assert.deepEqual(await pgRows(schema, "SELECT version, applied_at FROM idea_store_migrations"), before);
  });

  it("a new store on PostgreSQL records its version with a TIMESTAMPTZ as before", async () => {
    const options = postgres.options();
    await openIdeaStore(options).then((s) => s.close());
    const [row] = await pgRows(options.schema as string, "SELECT version, applied_at FROM idea_store_migrations");
    assert.equal(row?.version, 1);
    assert.ok(row?.applied_at instanceof Date);
  });
});
