import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pg from "pg";
import { testSchemas } from "../src/testing.js";

const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const admin = () => new pg.Client({ connectionString: PG_URL });

async function existing(names: string[]): Promise<string[]> {
  const client = admin();
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname = ANY($1) ORDER BY nspname", [names]);
    return rows.map((r) => r.nspname);
  } finally {
    await client.end();
  }
}

describe("testSchemas", () => {
  it("names unique schemas with the prefix, and drop removes every one named since the last drop", async () => {
    const schemas = testSchemas("tsch_test_", admin);
    const names = [schemas.next(), schemas.next(), schemas.next()];
    for (const n of names) assert.match(n, /^tsch_test_[0-9a-f]{12}$/);
    assert.equal(new Set(names).size, 3);
    const client = admin();
    await client.connect();
    try {
      for (const n of names) await client.query(`CREATE SCHEMA ${n}; CREATE TABLE ${n}.t (id INTEGER)`);
    } finally {
      await client.end();
    }
    assert.deepEqual(await existing(names), [...names].sort());
    await schemas.drop();
    assert.deepEqual(await existing(names), []);
    // Nothing named since: no client is even made.
    await testSchemas("tsch_test_", () => assert.fail("no schema to drop, so no client")).drop();
  });

  it("refuses a prefix that is not a plain lowercase identifier (it is written into SQL)", () => {
    for (const bad of ["", "Upper_", "x; DROP SCHEMA public; --", "1abc_", "a-b"]) assert.throws(() => testSchemas(bad, admin), /invalid schema prefix/);
  });
});
