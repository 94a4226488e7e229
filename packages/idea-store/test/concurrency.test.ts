import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { resolveStorage, type IdeaStore, type OpenIdeaStoreOptions } from "../src/index.js";
import { backends, idea, sleep } from "./helpers.js";
import { ITEMS, PLATFORM, ROUNDS, ideaFor, runWriter, type Written } from "./fixtures/rounds.js";

const WRITERS = 4;
const fixture = fileURLToPath(new URL("./fixtures/writer.ts", import.meta.url));
const holdLock = fileURLToPath(new URL("./fixtures/hold-lock.ts", import.meta.url));

/**
 * Another writer holding the row (PostgreSQL) or the file (SQLite) while `during` runs; it stamps the
 * row's updated_at 150 ms later, commits, and answers that stamp.
 */
async function whileAnotherWriterHoldsTheRow(options: OpenIdeaStoreOptions, platform: string, sourceId: string, during: () => Promise<void>): Promise<string> {
  const storage = resolveStorage(options);
  if (storage.kind === "postgres") {
    const client = new pg.Client({ connectionString: storage.url, options: `-c search_path=${options.schema}` });
    await client.connect();
    try {
      await client.query("BEGIN");
      await client.query("UPDATE idea_inspirations SET title = title WHERE source_platform = $1 AND source_id = $2", [platform, sourceId]);
      const waiting = during();
      await sleep(150);
      const { rows } = await client.query<{ stamp: Date }>(
        "UPDATE idea_inspirations SET updated_at = clock_timestamp() WHERE source_platform = $1 AND source_id = $2 RETURNING updated_at AS stamp",
        [platform, sourceId],
      );
      await client.query("COMMIT");
      await waiting;
      return (rows[0] as { stamp: Date }).stamp.toISOString();
    } finally {
      await client.end();
    }
  }
  const child = spawn(process.execPath, ["--import", "tsx", holdLock, storage.path, platform, sourceId], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve, reject) => child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`lock holder exited ${code}`)))));
  while (!out.startsWith("locked\n")) {
    if (child.exitCode !== null) throw new Error(`lock holder exited early: ${out}`);
    await sleep(5);
  }
  await during();
  await exited;
  return new Date(Number(out.split("\n")[1])).toISOString();
}

/** Starts one writer process and resolves once it has opened the store. */
function launch(options: OpenIdeaStoreOptions, writer: number) {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, JSON.stringify({ options, writer })], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve, reject) =>
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`writer ${writer} exited ${code}: ${err}`)))),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.startsWith("ready\n")) resolve();
    });
    exited.catch(reject);
  });
  const result = exited.then(() => {
    const line = out.split("\n").find((l) => l.startsWith("{"));
    if (!line) throw new Error(`writer ${writer} printed no result: ${out} ${err}`);
    return (JSON.parse(line) as { written: Written[] }).written;
  });
  // Awaited later; until then a failure must not count as an unhandled rejection.
  result.catch(() => {});
  return { ready, go: () => child.stdin.end("go\n"), result, kill: () => child.exitCode === null && child.kill() };
}

/**
 * One row per item; each row is exactly one writer's last round (no field from another write);
 * every item was reported created exactly once; every writer saw the same id for an item.
 */
async function assertConsistent(store: IdeaStore, perWriter: Written[][]): Promise<void> {
  assert.equal(await store.count(), ITEMS);
  assert.equal(await store.count({ platform: PLATFORM }), ITEMS);
  const rows = await store.query({ limit: 1000 });
  assert.equal(rows.length, ITEMS);
  for (const row of rows) {
    const writer = row.metadata.writer as number;
    assert.equal(row.metadata.round, ROUNDS - 1, `${row.sourceId} holds round ${String(row.metadata.round)}, not the last`);
    const item = Number(row.sourceId.replace("item-", ""));
    const { sourceCreatedAt, ...expected } = ideaFor(item, writer, ROUNDS - 1);
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(row[key as keyof typeof row], value, `${row.sourceId}.${key} is not from writer ${writer}`);
    }
    assert.equal(row.sourceCreatedAt, (sourceCreatedAt as Date).toISOString());
    assert.ok(row.updatedAt >= row.createdAt);
  }
  const all = perWriter.flat();
  assert.equal(all.length, WRITERS * ITEMS * ROUNDS);
  for (let item = 0; item < ITEMS; item++) {
    const writes = all.filter((w) => w.item === item);
    assert.equal(writes.filter((w) => w.created).length, 1, `item ${item} reported created ${writes.filter((w) => w.created).length} times`);
    assert.equal(new Set(writes.map((w) => w.id)).size, 1, `item ${item} got several ids`);
  }
}

for (const backend of backends()) {
  describe(`concurrent writers on ${backend.name}`, () => {
    after(() => backend.cleanup());

    it("an update that had to wait for another writer is stamped after that writer: updatedAt never moves backwards", async () => {
      const options = backend.options();
      const store = await backend.open(options);
      const first = await store.upsert(idea({ sourceId: "waited" }));
      let second: Awaited<ReturnType<IdeaStore["upsert"]>> | undefined;
      const other = await whileAnotherWriterHoldsTheRow(options, "youtube", "waited", async () => {
        second = await store.upsert(idea({ sourceId: "waited", title: "after the wait" }));
      });
      assert.ok(second);
      assert.equal(second.created, false);
      assert.equal(second.idea.createdAt, first.idea.createdAt);
      assert.ok(second.idea.updatedAt >= other, `updatedAt ${second.idea.updatedAt} is before the other writer's ${other}`);
      assert.deepEqual(await store.get("youtube", "waited"), second.idea);
    });

    it(`${WRITERS} separate stores upserting the same ${ITEMS} items at once keep one row per item with one writer's latest values`, async () => {
      const options = backend.options();
      const stores = await Promise.all(Array.from({ length: WRITERS }, () => backend.open(options)));
      const perWriter = await Promise.all(stores.map((s, w) => runWriter(s, w)));
      await assertConsistent(stores[0] as IdeaStore, perWriter);
    });

    it(`${WRITERS} processes opening one new ${backend.name === "sqlite" ? "file" : "schema"} and upserting the same ${ITEMS} items at once keep one row per item with one writer's latest values`, async () => {
      const options = backend.options();
      const writers = Array.from({ length: WRITERS }, (_, w) => launch(options, w));
      let perWriter: Written[][];
      try {
        await Promise.all(writers.map((w) => w.ready));
        for (const w of writers) w.go();
        perWriter = await Promise.all(writers.map((w) => w.result));
      } finally {
        for (const w of writers) w.kill();
      }
      await assertConsistent(await backend.open(options), perWriter);
    });
  });
}
