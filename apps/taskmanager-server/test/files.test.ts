import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SqliteStore } from "../src/store/sqlite.js";

const mode = (path: string) => statSync(path).mode & 0o777;

describe("files the SQLite store creates", () => {
  const root = mkdtempSync(join(tmpdir(), "tm-files-"));
  let umask: number;
  before(() => {
    // The usual umask, which alone would give 0755 directories and 0644 files.
    umask = process.umask(0o022);
  });
  after(() => {
    process.umask(umask);
    rmSync(root, { recursive: true, force: true });
  });

  it("creates its directories 0700 and the database, -wal and -shm files 0600", async () => {
    const dir = join(root, "new", "data");
    const path = join(dir, "tasks.sqlite");
    const store = new SqliteStore(path);
    try {
      await store.registerTaskType({ name: "Files.Mode", version: "1", paramSchema: '{"type":"object"}', now: Date.now() });
      assert.equal(mode(join(root, "new")), 0o700);
      assert.equal(mode(dir), 0o700);
      for (const file of [path, `${path}-wal`, `${path}-shm`]) assert.equal(mode(file), 0o600, file);
    } finally {
      await store.close();
    }
  });

  it("leaves an existing directory and database file as they are", async () => {
    const dir = join(root, "existing");
    mkdirSync(dir, { mode: 0o750 });
    chmodSync(dir, 0o750);
    const path = join(dir, "tasks.sqlite");
    writeFileSync(path, "");
    chmodSync(path, 0o640);
    const store = new SqliteStore(path);
    await store.close();
    assert.equal(mode(dir), 0o750);
    assert.equal(mode(path), 0o640);
  });
});
