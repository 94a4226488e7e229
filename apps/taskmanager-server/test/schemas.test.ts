import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { RE2JS } from "re2js";
import { MAX_PARAM_ARRAY_ITEMS, SCHEMA_LIMITS, SchemaCache, estimatePatternProgram } from "../src/schemas.js";
import { openStore, type RunningServer } from "../src/server.js";
import { api, backends, start, uid } from "./helpers.js";

/** The probes of the schema table: each would crash, stall or grow the server before. */
const asyncSchema = { $async: true, type: "object", properties: { a: { type: "string", maxLength: 3 } } };
const nestedAsyncSchema = { type: "object", properties: { a: { $async: true, type: "string" } } };
const backrefSchema = { type: "object", properties: { s: { type: "string", pattern: "^(a)\\1$" } } };

/** `dN: {allOf:[{$ref:dN+1},{$ref:dN+1}]}`, `depth` levels: the expansion doubles per level. */
function refChain(depth: number): object {
  const defs: Record<string, object> = {};
  for (let n = 0; n < depth; n++) defs[`d${n}`] = { allOf: [{ $ref: `#/$defs/d${n + 1}` }, { $ref: `#/$defs/d${n + 1}` }] };
  defs[`d${depth}`] = { type: "integer" };
  return { type: "object", $defs: defs, properties: { n: { $ref: "#/$defs/d0" } } };
}

/** A schema of `count` pattern properties, about 34 bytes each. */
function manyPatterns(count: number): object {
  const properties: Record<string, object> = {};
  for (let k = 0; k < count; k++) properties[`p${k}`] = { pattern: `^[a-z]+${k}$` };
  return { type: "object", properties };
}

describe("schema cache (white box)", () => {
  it("keeps ajv's caches bounded after many rejected and many evicted compiles", () => {
    const capacity = 8;
    const cache = new SchemaCache(capacity);
    const valid = (k: number) => JSON.stringify({ type: "object", properties: { [`a${k}`]: { type: "string", maxLength: k + 1 } } });
    // Passes the meta-schema and the bounds, then fails ajv's strict compile: each one builds and drops an ajv.
    const rejected = (k: number) => ({ type: "object", properties: { a: { type: "string" } }, [`unknownKeyword${k}`]: 1 });
    cache.check(JSON.parse(valid(0)));
    const first = cache.stats();
    for (let k = 0; k < 60; k++) {
      assert.throws(() => cache.check(rejected(k)), /Invalid param_schema: strict mode: unknown keyword/);
      cache.validate(valid(k), { [`a${k}`]: "x" });
    }
    for (let k = 0; k < 60; k++) assert.throws(() => cache.check({ type: "object", $async: true, title: `t${k}` }), /\$async/);
    const stats = cache.stats();
    assert.ok(stats.entries <= capacity, JSON.stringify(stats));
    assert.ok(stats.ajvInstances <= capacity + 1, JSON.stringify(stats));
    // The meta-schema checker keeps only the meta-schemas; each live compiler keeps at most its one schema.
    assert.ok(stats.ajvCachedSchemas <= first.ajvCachedSchemas + capacity, `${JSON.stringify(first)} -> ${JSON.stringify(stats)}`);
    // Rejected schemas of any size leave nothing behind either.
    const big = manyPatterns(8000);
    const before = cache.stats();
    for (let k = 0; k < 20; k++) assert.throws(() => cache.check({ ...big, title: `t${k}` }), /bytes of JSON, at most 65536/);
    const afterBig = cache.stats();
    assert.ok(afterBig.ajvCachedSchemas <= before.ajvCachedSchemas, `${JSON.stringify(before)} -> ${JSON.stringify(afterBig)}`);
    assert.ok(afterBig.entries <= capacity);
  });

  it("runs patterns on RE2: ASCII \\s, no backtracking", () => {
    const cache = new SchemaCache();
    const text = cache.check({ type: "object", properties: { s: { type: "string", pattern: "^\\s$" }, r: { type: "string", pattern: "^(a+)+$" } } });
    cache.validate(text, { s: " " });
    // The JavaScript engine counts a no-break space as \s; RE2 does not.
    assert.throws(() => cache.validate(text, { s: "\u00a0" }), /params\.s must match pattern/);
    assert.throws(() => cache.validate(text, { r: `${"a".repeat(5000)}!` }), /params\.r must match pattern/);
  });

  it("estimates an RE2 program size at or above the real one", () => {
    const patterns = ["^[a-z]{1,255}$", "(ab|cd)*x{3,7}", "^(?P<n>\\d{4})-\\x{00e9}$", "(?i)[[:alpha:]]+", "a{2,}b", "((a|b){3}c){5}", "[^\\]x]{20}", "\\p{L}{2,9}", "(?:x?y*)+z{0,40}"];
    for (const p of patterns) {
      const real = RE2JS.compile(p).programSize();
      assert.ok(estimatePatternProgram(p) >= real, `${p}: estimate ${estimatePatternProgram(p)} below ${real}`);
    }
    assert.ok(estimatePatternProgram("a{1000}".repeat(3)) > SCHEMA_LIMITS.maxPatternProgram);
  });
});

/** About 340 KB of plain string properties. */
function props340(): Record<string, object> {
  const out: Record<string, object> = {};
  for (let k = 0; k < 10_000; k++) out[`property_${k}`] = { type: "string" };
  return out;
}

for (const backend of backends()) {
  describe(`schema probes on ${backend.name}`, () => {
    let server: RunningServer;
    let tm: ReturnType<typeof api>;

    before(async () => {
      server = await start(backend.storage(), { bodyLimitBytes: 1024 * 1024 });
      tm = api(server.url);
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    const register = (param_schema: unknown, name = `Test.Schema_${uid()}`) => tm.post("/task-types/register", { name, version: "1.0.0", param_schema });

    async function refused(param_schema: unknown, error: RegExp) {
      const name = `Test.Refused_${uid()}`;
      const r = await register(param_schema, name);
      assert.equal(r.status, 400, r.text.slice(0, 300));
      assert.match(r.json.error, /^Invalid param_schema: /);
      assert.match(r.json.error, error);
      assert.equal((await tm.get(`/task-types/${name}`)).status, 404, "nothing stored");
    }

    it("refuses $async at register, naming the keyword and the path", async () => {
      await refused(asyncSchema, /\$async at #: asynchronous validation is not supported/);
      await refused(nestedAsyncSchema, /\$async at #\/properties\/a:/);
      assert.equal((await tm.get("/health")).status, 200);
    });

    it("refuses patterns RE2 cannot run (backreference, lookaround), naming the keyword and the path", async () => {
      await refused(backrefSchema, /pattern at #\/properties\/s\/pattern: not a regular expression RE2 can run/);
      await refused({ type: "object", properties: { s: { type: "string", pattern: "^(?=a)a$" } } }, /pattern at #\/properties\/s\/pattern:/);
      await refused({ type: "object", patternProperties: { "^(?!x)": { type: "string" } } }, /patternProperties at #\/patternProperties\/\^\(\?!x\):/);
      await refused({ type: "object", properties: { s: { type: "string", pattern: "a{1000}".repeat(3) } } }, /pattern at #\/properties\/s\/pattern: regular expression too complex/);
      // Three patterns of about 400 RE2 instructions over the same string are too much; over three strings they are fine.
      const p = "^[a-z]{1,200}$";
      await refused(
        { type: "object", properties: { s: { type: "string", allOf: [{ pattern: p }, { pattern: p }, { pattern: p }] } } },
        /allOf at #\/properties\/s: regular expressions of more than 1000 RE2 instructions in all could run over one string/,
      );
      assert.equal((await register({ type: "object", properties: { a: { pattern: p }, b: { pattern: p }, c: { pattern: p } } })).status, 200);
    });

    it("answers the backtracking pattern probe on a linear-time engine", async () => {
      const r = await register({ type: "object", properties: { s: { type: "string", pattern: "^(a+)+$" }, w: { type: "string", pattern: "^\\s$" } } });
      assert.equal(r.status, 200);
      const name = r.json.data.name as string;
      const bad = await tm.post("/tasks", { type: name, params: { s: `${"a".repeat(29)}!` } });
      assert.equal(bad.status, 400);
      assert.match(bad.json.error, /params\.s must match pattern/);
      // The engine is RE2, not the backtracking one: its \s is ASCII, so a no-break space does not match.
      const nbsp = await tm.post("/tasks", { type: name, params: { w: "\u00a0" } });
      assert.equal(nbsp.status, 400);
      assert.match(nbsp.json.error, /params\.w must match pattern/);
      assert.equal((await tm.post("/tasks", { type: name, params: { s: "aaa" } })).status, 200);
      assert.equal((await tm.get(`/tasks?type=${name}`)).json.data.count, 1);
    });

    it("refuses exponential and recursive $ref graphs, and takes a bounded one", async () => {
      await refused(refChain(29), /(\$ref|allOf) at #\/\$defs\/d\d+: more than 5000 subschemas once \$ref references are expanded/);
      await refused({ type: "object", properties: { self: { $ref: "#" } } }, /\$ref at #\/properties\/self: recursive reference \(through #\)/);
      await refused({ type: "object", $defs: { a: { $ref: "#/$defs/b" }, b: { $ref: "#/$defs/a" } }, properties: { x: { $ref: "#/$defs/a" } } }, /\$ref at #\/\$defs\/[ab]: recursive reference/);
      await refused({ type: "object", properties: { x: { $ref: "https://example.invalid/s.json" } } }, /\$ref at #\/properties\/x: only local references/);
      const ok = await register(refChain(8));
      assert.equal(ok.status, 200, ok.text);
      const created = await tm.post("/tasks", { type: ok.json.data.name, params: { n: 1 } });
      assert.equal(created.status, 200);
    });

    it("caps params size and array length before schema validation", async () => {
      const r = await register({ type: "object", properties: { a: { type: "array", uniqueItems: true } } });
      const name = r.json.data.name as string;
      // 40k items with a duplicate at the end (where ajv looks first): the size cap answers, not the validator.
      const items = Array.from({ length: 40_000 }, (_, k) => k);
      items.push(1);
      const big = await tm.post("/tasks", { type: name, params: { a: items } });
      assert.equal(big.status, 400);
      assert.match(big.json.error, /^params is too large: at most 65536 bytes of JSON/);
      const long = await tm.post("/tasks", { type: name, params: { a: Array.from({ length: MAX_PARAM_ARRAY_ITEMS + 500 }, (_, k) => k) } });
      assert.equal(long.status, 400);
      assert.equal(long.json.error, `params is too large: params.a has ${MAX_PARAM_ARRAY_ITEMS + 500} items, at most ${MAX_PARAM_ARRAY_ITEMS} per array`);
      const nested = await tm.post("/tasks", { type: name, params: { a: [[...Array(MAX_PARAM_ARRAY_ITEMS + 1).keys()]] } });
      assert.match(nested.json.error, /params\.a\.0 has 1001 items/);
      const fine = await tm.post("/tasks", { type: name, params: { a: Array.from({ length: MAX_PARAM_ARRAY_ITEMS }, (_, k) => k) } });
      assert.equal(fine.status, 200);
      assert.equal((await tm.get(`/tasks?type=${name}`)).json.data.count, 1);
    });

    it("refuses schemas over the size limit or with too many patterns, before compiling", async () => {
      // The 340 KB probe, which ajv itself rejected (after caching it), and the 997 KB probe (24k pattern properties):
      // no register body that large can hold a schema of 64 KiB, so both are refused from Content-Length, unread.
      const rejectedByAjv = { type: "object", properties: props340(), requried: ["a"] };
      for (const schema of [...[0, 1, 2, 3, 4].map((k) => ({ ...rejectedByAjv, title: `t${k}` })), manyPatterns(24_000)]) {
        const name = `Test.Refused_${uid()}`;
        const r = await register(schema, name);
        assert.equal(r.status, 413, r.text.slice(0, 300));
        assert.equal(r.json.message, "Request body exceeds 262144 bytes");
        assert.equal((await tm.get(`/task-types/${name}`)).status, 404, "nothing stored");
      }
      // A body within the route's cap whose schema is over 64 KiB: a 400 naming the size, every time.
      const over64k = { type: "object", properties: Object.fromEntries(Object.entries(props340()).slice(0, 3000)), requried: ["a"] };
      for (let k = 0; k < 3; k++) await refused({ ...over64k, title: `t${k}` }, /^Invalid param_schema: schema at #: \d+ bytes of JSON, at most 65536$/);
      await refused(manyPatterns(4_000), /^Invalid param_schema: schema at #: \d+ bytes of JSON, at most 65536$/);
      await refused(manyPatterns(SCHEMA_LIMITS.maxPatterns + 1), /pattern at #\/properties\/p\d+\/pattern: more than 64 regular expressions in one schema/);
      const props: Record<string, object> = {};
      for (let k = 0; k < SCHEMA_LIMITS.maxSubschemas + 1; k++) props[`p${k}`] = {};
      await refused({ type: "object", properties: props }, /schema at #\/properties\/p\d+: more than 300 subschemas/);
      const costly = Array.from({ length: 6 }, (_, k) => [`p${k}`, { pattern: `^[a-z]{1,200}${k}$` }]);
      await refused({ type: "object", properties: Object.fromEntries(costly) }, /pattern at #\/properties\/p\d\/pattern: regular expressions of more than 2000 RE2 instructions in all in one schema/);
      assert.equal((await register(manyPatterns(SCHEMA_LIMITS.maxPatterns))).status, 200);
    });
  });

  describe(`types stored by an older server on ${backend.name}`, () => {
    let server: RunningServer;
    const lines: string[] = [];
    const names = { async: `Test.OldAsync_${uid()}`, nested: `Test.OldNested_${uid()}`, backref: `Test.OldBackref_${uid()}`, fine: `Test.OldFine_${uid()}` };

    before(async () => {
      const storage = backend.storage();
      // What an older server stored without complaint.
      const store = await openStore(storage);
      const put = (name: string, schema: object) => store.registerTaskType({ name, version: "1.0.0", paramSchema: JSON.stringify(schema), now: Date.now() });
      await put(names.async, asyncSchema);
      await put(names.nested, nestedAsyncSchema);
      await put(names.backref, backrefSchema);
      await put(names.fine, { type: "object", properties: { a: { type: "string" } } });
      await store.close();
      const logger = pino({ level: "warn" }, { write: (l: string) => void lines.push(l) });
      server = await start(storage, { logger });
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    it("lists them in one warning at start", () => {
      const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string; refusedTaskTypes?: Array<{ name: string; reason: string }> }).filter((l) => l.refusedTaskTypes);
      assert.equal(warnings.length, 1, lines.join("\n"));
      const w = warnings[0]!;
      const types = w.refusedTaskTypes ?? [];
      assert.equal(w.level, 40);
      assert.match(w.msg, /^3 stored task type\(s\) have a param_schema this server refuses/);
      assert.deepEqual(types.map((t) => t.name).sort(), [names.async, names.backref, names.nested].sort());
      assert.match(types.find((t) => t.name === names.nested)?.reason ?? "", /^\$async at #\/properties\/a:/);
    });

    it("keeps them, answers a create with a clear 400, and keeps serving", async () => {
      const tm = api(server.url);
      for (const name of [names.async, names.nested, names.async, names.backref]) {
        const r = await tm.post("/tasks", { type: name, params: { a: "much too long", s: "aa" } });
        assert.equal(r.status, 400, r.text);
        assert.match(r.json.error, /^Task type has a param_schema this server refuses \(Invalid param_schema: (\$async|pattern) at #/);
        assert.equal((await tm.get("/health")).status, 200);
      }
      for (const name of [names.async, names.nested, names.backref]) {
        const t = await tm.get(`/task-types/${name}`);
        assert.equal(t.status, 200);
        assert.equal((await tm.get(`/tasks?type=${name}`)).json.data.count, 0);
      }
      assert.deepEqual((await tm.get(`/task-types/${names.async}`)).json.data.items[0].param_schema, asyncSchema);
      assert.equal((await tm.post("/tasks", { type: names.fine, params: { a: "x" } })).status, 200);
      // Registering it again with a supported schema makes it usable.
      const again = await tm.post("/task-types/register", { name: names.async, version: "1.0.1", param_schema: { type: "object", properties: { a: { type: "string", maxLength: 3 } } } });
      assert.equal(again.status, 200);
      const r = await tm.post("/tasks", { type: names.async, params: { a: "much too long" } });
      assert.match(r.json.error, /^Parameter validation failed: params\.a must NOT have more than 3 characters/);
    });
  });
}
