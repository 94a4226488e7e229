import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { testSchemas } from "@prismq/sql-migrations/testing";
import { IdeaStoreError, openIdeaStore, type IdeaInput, type IdeaStore, type OpenIdeaStoreOptions } from "../src/index.js";

export const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A unique suffix for schema, file and source names, so tests never share state. */
export const uid = () => randomBytes(6).toString("hex");

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Backend {
  name: "sqlite" | "postgres";
  /** Options for fresh, isolated storage: its own SQLite file, or its own PostgreSQL schema. */
  options(): OpenIdeaStoreOptions;
  /** Opens a store (fresh storage unless `options` are given); it is closed by `cleanup`. */
  open(options?: OpenIdeaStoreOptions): Promise<IdeaStore>;
  /** Closes every store `open` made and removes every file or schema `options` made. */
  cleanup(): Promise<void>;
}

function tracked(name: Backend["name"], options: () => OpenIdeaStoreOptions, remove: () => Promise<void>): Backend {
  const stores: IdeaStore[] = [];
  return {
    name,
    options,
    async open(opts = options()) {
      const store = await openIdeaStore(opts);
      stores.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      await remove();
    },
  };
}

/** SQLite: one temporary directory per suite, one file per `options()` call. */
export function sqliteBackend(): Backend {
  let dir: string | undefined;
  return tracked(
    "sqlite",
    () => {
      dir ??= mkdtempSync(join(tmpdir(), "idea-store-test-"));
      return { url: `sqlite:${join(dir, `ideas-${uid()}.sqlite`)}` };
    },
    async () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    },
  );
}

/** PostgreSQL: one unique schema per `options()` call, all dropped by `cleanup`. */
export function postgresBackend(): Backend {
  const schemas = testSchemas("idea_test_", () => new pg.Client({ connectionString: PG_URL }));
  return tracked("postgres", () => ({ url: PG_URL, schema: schemas.next(), poolSize: 4 }), () => schemas.drop());
}

export const backends = (): Backend[] => [sqliteBackend(), postgresBackend()];

/** A valid idea with a unique source id; `overrides` win. */
export function idea(overrides: Partial<IdeaInput> = {}): IdeaInput {
  return { title: "An idea", sourceId: `src-${uid()}`, sourcePlatform: "youtube", ...overrides };
}

/** Awaits `promise`, asserts it fails with an `IdeaStoreError` of `code`, and returns the error. */
export async function rejectsWith(promise: Promise<unknown>, code: IdeaStoreError["code"]): Promise<IdeaStoreError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof IdeaStoreError, `expected IdeaStoreError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

/** Everything stored, in a fixed order, for before/after comparisons. */
export async function snapshot(store: IdeaStore) {
  return { count: await store.count(), rows: await store.query({ limit: 1000, orderBy: "created" }) };
}
