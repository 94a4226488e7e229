import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { openIdeaStore, resolveStorage, type OpenIdeaStoreOptions } from "../src/index.js";
import { PG_URL, backends, idea, rejectsWith } from "./helpers.js";

/** The rows of idea_store_migrations, read straight from the database. */
async function migrationVersions(options: OpenIdeaStoreOptions): Promise<number[]> {
  const storage = resolveStorage(options);
  if (storage.kind === "postgres") {
    const client = new pg.Client({ connectionString: storage.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number }>(
        `SELECT version FROM ${options.schema ?? "public"}.idea_store_migrations ORDER BY version`,
      );
      return rows.map((r) => r.version);
    } finally {
      await client.end();
    }
  }
  const db = new Database(storage.path, { readonly: true });
  try {
    const rows = db.prepare("SELECT version FROM idea_store_migrations ORDER BY version").all() as Array<{ version: number }>;
    return rows.map((r) => r.version);
  } finally {
    db.close();
  }
}

describe("choosing the backend", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), "idea-store-open-"));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("resolves postgres:// and postgresql:// to PostgreSQL, sqlite: and plain paths to SQLite files", () => {
    assert.deepEqual(resolveStorage({ url: "postgres://u@h/db" }), { kind: "postgres", url: "postgres://u@h/db" });
    assert.deepEqual(resolveStorage({ url: "postgresql://u@h/db" }), { kind: "postgres", url: "postgresql://u@h/db" });
    assert.deepEqual(resolveStorage({ url: "sqlite:/tmp/x/ideas.db" }), { kind: "sqlite", path: "/tmp/x/ideas.db" });
    assert.deepEqual(resolveStorage({ url: "sqlite:///tmp/x/ideas.db" }), { kind: "sqlite", path: "/tmp/x/ideas.db" });
    assert.deepEqual(resolveStorage({ url: "sqlite:rel/ideas.db" }), { kind: "sqlite", path: resolve("rel/ideas.db") });
    assert.deepEqual(resolveStorage({ url: "/var/lib/ideas.sqlite" }), { kind: "sqlite", path: "/var/lib/ideas.sqlite" });
    assert.deepEqual(resolveStorage({ url: "sqlite::memory:" }), { kind: "sqlite", path: ":memory:" });
  });

  it("defaults to ideas.sqlite under ./data, or under dataDir, also when url is empty", () => {
    assert.deepEqual(resolveStorage({}), { kind: "sqlite", path: resolve("data", "ideas.sqlite") });
    assert.deepEqual(resolveStorage({ url: "" }), { kind: "sqlite", path: resolve("data", "ideas.sqlite") });
    assert.deepEqual(resolveStorage({ dataDir: "/srv/prismq" }), { kind: "sqlite", path: "/srv/prismq/ideas.sqlite" });
  });

  it("opens SQLite at <dataDir>/ideas.sqlite when no url is given, creating the directory", async () => {
    const dataDir = join(tempDir(), "nested", "data");
    const store = await openIdeaStore({ dataDir });
    try {
      assert.equal(store.kind, "sqlite");
      assert.equal(store.location, join(dataDir, "ideas.sqlite"));
      await store.upsert(idea({ sourceId: "persisted" }));
    } finally {
      await store.close();
    }
    assert.ok(existsSync(join(dataDir, "ideas.sqlite")));
    const again = await openIdeaStore({ dataDir });
    try {
      assert.equal((await again.get("youtube", "persisted"))?.sourceId, "persisted");
    } finally {
      await again.close();
    }
  });

  it("uses WAL and a busy timeout on SQLite files", async () => {
    const path = join(tempDir(), "wal.sqlite");
    const store = await openIdeaStore({ url: path });
    try {
      const db = new Database(path);
      try {
        assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      } finally {
        db.close();
      }
    } finally {
      await store.close();
    }
  });

  it("refuses a URL with another scheme with IDEA_ERR_CONFIG, without echoing its credentials or creating a file", async () => {
    for (const url of ["mysql://user:s3cret@db/ideas", "http://example.com/db", "redis://127.0.0.1:6379", "sqlite:", "sqlite://"]) {
      const err = await rejectsWith(openIdeaStore({ url }), "IDEA_ERR_CONFIG");
      assert.doesNotMatch(err.message, /s3cret/);
    }
    // Read as file paths, these URLs would have made these directories.
    for (const made of ["mysql:", "http:", "redis:", "data"]) assert.equal(existsSync(made), false, made);
  });

  it("refuses a bad PostgreSQL schema name or pool size with IDEA_ERR_CONFIG", async () => {
    await rejectsWith(openIdeaStore({ url: PG_URL, schema: "Bad-Name" }), "IDEA_ERR_CONFIG");
    await rejectsWith(openIdeaStore({ url: PG_URL, schema: "x; DROP SCHEMA public" }), "IDEA_ERR_CONFIG");
    await rejectsWith(openIdeaStore({ url: PG_URL, poolSize: 0 }), "IDEA_ERR_CONFIG");
  });

  it("answers IDEA_ERR_STORAGE, with the driver error as cause, when PostgreSQL cannot be reached", async () => {
    const err = await rejectsWith(openIdeaStore({ url: "postgres://postgres@127.0.0.1:1/none", schema: "x" }), "IDEA_ERR_STORAGE");
    assert.ok(err.cause instanceof Error);
  });
});

for (const backend of backends()) {
  describe(`opening on ${backend.name}`, () => {
    after(() => backend.cleanup());

    it("opening the same storage twice applies the migrations once and shares the data", async () => {
      const options = backend.options();
      const first = await backend.open(options);
      await first.upsert(idea({ sourceId: "kept" }));
      const second = await backend.open(options);
      assert.equal((await second.get("youtube", "kept"))?.sourceId, "kept");
      await second.upsert(idea({ sourceId: "from-second" }));
      assert.equal(await first.count(), 2);
      assert.deepEqual(await migrationVersions(options), [1]);
    });

    it("several stores opening new storage at once all succeed", async () => {
      const options = backend.options();
      const stores = await Promise.all(Array.from({ length: 6 }, () => backend.open(options)));
      await Promise.all(stores.map((s, i) => s.upsert(idea({ sourceId: `s-${i}` }))));
      assert.equal(await (stores[0] as (typeof stores)[number]).count(), 6);
      assert.deepEqual(await migrationVersions(options), [1]);
    });

    it("close can be called twice, and calls after close fail with IDEA_ERR_STORAGE", async () => {
      const store = await openIdeaStore(backend.options());
      await store.close();
      await store.close();
      await rejectsWith(store.count(), "IDEA_ERR_STORAGE");
      await rejectsWith(store.upsert(idea()), "IDEA_ERR_STORAGE");
    });

    if (backend.name === "postgres") {
      it("creates a missing schema and keeps its tables there, not in public", async () => {
        const options = backend.options();
        const store = await backend.open(options);
        assert.equal(store.location, `${new URL(PG_URL).host}${new URL(PG_URL).pathname} schema=${options.schema}`);
        assert.doesNotMatch(store.location, /@/);
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        try {
          const { rows } = await client.query<{ table_schema: string; table_name: string }>(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name IN ('idea_inspirations', 'idea_store_migrations') AND table_schema = $1 ORDER BY table_name",
            [options.schema],
          );
          assert.deepEqual(
            rows.map((r) => r.table_name),
            ["idea_inspirations", "idea_store_migrations"],
          );
        } finally {
          await client.end();
        }
      });
    }
  });
}
