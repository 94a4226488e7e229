import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { IdeaStoreError, type IdeaFilter, type IdeaInput, type IdeaStore } from "../src/index.js";
import { backends, idea, rejectsWith, snapshot } from "./helpers.js";

/** The stored idea every bad write targets: had anything been written, this row would change. */
const SEED = { title: "Seed", sourceId: "seed", sourcePlatform: "youtube", score: 50, category: "tech" } satisfies IdeaInput;

/** A bad variant of the seed; `field` is what the error must name. */
const BAD_IDEAS: Array<{ name: string; field: string; input: unknown }> = [
  { name: "missing title", field: "title", input: { ...SEED, title: undefined } },
  { name: "empty title", field: "title", input: { ...SEED, title: "" } },
  { name: "blank title", field: "title", input: { ...SEED, title: "   " } },
  { name: "title over 1000 characters", field: "title", input: { ...SEED, title: "x".repeat(1001) } },
  { name: "title that is not a string", field: "title", input: { ...SEED, title: 42 } },
  { name: "empty sourceId", field: "sourceId", input: { ...SEED, sourceId: "" } },
  { name: "missing sourceId", field: "sourceId", input: { ...SEED, sourceId: undefined } },
  { name: "sourceId over 255 characters", field: "sourceId", input: { ...SEED, sourceId: "s".repeat(256) } },
  { name: "unknown sourceType", field: "sourceType", input: { ...SEED, sourceType: "podcast" } },
  { name: "score 101", field: "score", input: { ...SEED, score: 101 } },
  { name: "score -1", field: "score", input: { ...SEED, score: -1 } },
  { name: "score NaN", field: "score", input: { ...SEED, score: Number.NaN } },
  { name: "score Infinity", field: "score", input: { ...SEED, score: Number.POSITIVE_INFINITY } },
  { name: "score as a string", field: "score", input: { ...SEED, score: "50" } },
  { name: "platform with capitals", field: "sourcePlatform", input: { ...SEED, sourcePlatform: "YouTube" } },
  { name: "platform with a space", field: "sourcePlatform", input: { ...SEED, sourcePlatform: "you tube" } },
  { name: "empty platform", field: "sourcePlatform", input: { ...SEED, sourcePlatform: "" } },
  { name: "platform over 64 characters", field: "sourcePlatform", input: { ...SEED, sourcePlatform: "p".repeat(65) } },
  { name: "metadata as an array", field: "metadata", input: { ...SEED, metadata: ["a"] } },
  { name: "metadata as a string", field: "metadata", input: { ...SEED, metadata: "{}" } },
  { name: "metadata null", field: "metadata", input: { ...SEED, metadata: null } },
  { name: "metadata holding a function", field: "metadata", input: { ...SEED, metadata: { f: () => 1 } } },
  { name: "keywords with a number", field: "keywords", input: { ...SEED, keywords: ["ok", 1] } },
  { name: "sourceUrl that is not a URL", field: "sourceUrl", input: { ...SEED, sourceUrl: "not a url" } },
  { name: "sourceUrl with a javascript: scheme", field: "sourceUrl", input: { ...SEED, sourceUrl: "javascript:alert(1)" } },
  { name: "sourceCreatedAt in words", field: "sourceCreatedAt", input: { ...SEED, sourceCreatedAt: "yesterday" } },
  { name: "sourceCreatedAt without a zone", field: "sourceCreatedAt", input: { ...SEED, sourceCreatedAt: "2024-01-01T10:00:00" } },
  { name: "sourceCreatedAt an invalid Date", field: "sourceCreatedAt", input: { ...SEED, sourceCreatedAt: new Date("nope") } },
  { name: "empty category", field: "category", input: { ...SEED, category: "" } },
  { name: "subcategoryRelevance with a string value", field: "subcategoryRelevance", input: { ...SEED, subcategoryRelevance: { a: "high" } } },
  { name: "contextualCategoryScores as an array", field: "contextualCategoryScores", input: { ...SEED, contextualCategoryScores: [1] } },
  { name: "a NUL character in content", field: "content", input: { ...SEED, content: "a\u0000b" } },
  { name: "a misspelt field", field: "catgory", input: { ...SEED, catgory: "tech" } },
  { name: "null instead of an idea", field: "idea", input: null },
];

const BAD_FILTERS: Array<{ name: string; field: string; filter: unknown }> = [
  { name: "limit 0", field: "filter.limit", filter: { limit: 0 } },
  { name: "limit 1001", field: "filter.limit", filter: { limit: 1001 } },
  { name: "fractional limit", field: "filter.limit", filter: { limit: 2.5 } },
  { name: "negative offset", field: "filter.offset", filter: { offset: -1 } },
  { name: "orderBy outside the whitelist", field: "filter.orderBy", filter: { orderBy: "title; DROP TABLE idea_inspirations" } },
  { name: "timeField outside the whitelist", field: "filter.timeField", filter: { timeField: "id" } },
  { name: "since that is not a date", field: "filter.since", filter: { since: "last week" } },
  { name: "minScore NaN", field: "filter.minScore", filter: { minScore: Number.NaN } },
  { name: "a misspelt filter field", field: "filter.platfrom", filter: { platfrom: "youtube" } },
];

for (const backend of backends()) {
  describe(`bad input on ${backend.name}`, () => {
    let store: IdeaStore;
    const fresh = async () => {
      store = await backend.open();
      await store.upsert(SEED);
      await store.upsert(idea({ sourceId: "other", sourcePlatform: "reddit" }));
      return snapshot(store);
    };
    after(() => backend.cleanup());

    it("rejects each bad idea with IDEA_ERR_INVALID naming the field, and leaves the stored data unchanged", async () => {
      const before = await fresh();
      for (const c of BAD_IDEAS) {
        const err = await rejectsWith(store.upsert(c.input as IdeaInput), "IDEA_ERR_INVALID");
        assert.ok(err instanceof Error && err.name === "IdeaStoreError", c.name);
        assert.match(err.message, new RegExp(`(^|[ ;:])${c.field.replace(/\./g, "\\.")}\\b`), `${c.name}: ${err.message}`);
        assert.ok(
          err.details.some((d) => d.startsWith(`${c.field}:`) || d.startsWith(`${c.field}[`) || d.startsWith(`${c.field}.`)),
          `${c.name}: ${JSON.stringify(err.details)}`,
        );
        assert.deepEqual(await snapshot(store), before, `${c.name} changed the stored data`);
      }
    });

    it("names every bad field of one idea at once", async () => {
      await fresh();
      const err = await rejectsWith(
        store.upsert({ ...SEED, title: "", score: 101, sourcePlatform: "Bad Platform" } as IdeaInput),
        "IDEA_ERR_INVALID",
      );
      assert.deepEqual(
        err.details.map((d) => d.split(":")[0]),
        ["title", "sourcePlatform", "score"],
      );
    });

    it("upsertMany with one bad idea writes nothing and names the index and the field", async () => {
      const before = await fresh();
      const err = await rejectsWith(
        store.upsertMany([
          idea({ sourceId: "new-1" }),
          { ...SEED, title: "Seed changed" },
          { ...SEED, sourceId: "new-2", score: 101 },
          idea({ sourceId: "new-3" }),
        ]),
        "IDEA_ERR_INVALID",
      );
      assert.match(err.message, /ideas\[2\]\.score/);
      assert.deepEqual(err.details, ["ideas[2].score: must be between 0 and 100"]);
      assert.deepEqual(await snapshot(store), before);
      assert.equal(await store.get("youtube", "new-1"), null);
    });

    it("upsertMany names every bad idea, and refuses something that is not an array", async () => {
      const before = await fresh();
      const err = await rejectsWith(
        store.upsertMany([{ ...SEED, sourceType: "podcast" }, idea(), { ...SEED, title: "" }] as IdeaInput[]),
        "IDEA_ERR_INVALID",
      );
      assert.deepEqual(
        err.details.map((d) => d.split(":")[0]),
        ["ideas[0].sourceType", "ideas[2].title"],
      );
      await rejectsWith(store.upsertMany(SEED as unknown as IdeaInput[]), "IDEA_ERR_INVALID");
      assert.deepEqual(await snapshot(store), before);
    });

    it("rejects bad filters with IDEA_ERR_INVALID naming the field, in query and in count", async () => {
      await fresh();
      for (const c of BAD_FILTERS) {
        for (const call of [store.query(c.filter as IdeaFilter), store.count(c.filter as IdeaFilter)]) {
          const err = await rejectsWith(call, "IDEA_ERR_INVALID");
          assert.ok(err.details.some((d) => d.startsWith(`${c.field}:`)), `${c.name}: ${JSON.stringify(err.details)}`);
        }
      }
      assert.equal(await store.count(), 2, "the table is still there");
    });

    it("rejects bad lookup arguments and countBy fields with IDEA_ERR_INVALID", async () => {
      await fresh();
      const byField = await rejectsWith(store.countBy("title" as "platform"), "IDEA_ERR_INVALID");
      assert.match(byField.message, /field/);
      await rejectsWith(store.countBy("source_platform; DROP TABLE x" as "platform"), "IDEA_ERR_INVALID");
      await rejectsWith(store.getById("1" as unknown as number), "IDEA_ERR_INVALID");
      await rejectsWith(store.getById(1.5), "IDEA_ERR_INVALID");
      await rejectsWith(store.get("youtube", 7 as unknown as string), "IDEA_ERR_INVALID");
    });

    it("IdeaStoreError is an Error with a stable code and details", async () => {
      await fresh();
      const err = await rejectsWith(store.upsert({ ...SEED, score: 101 }), "IDEA_ERR_INVALID");
      assert.ok(err instanceof IdeaStoreError);
      assert.ok(err instanceof Error);
      assert.equal(err.message, "invalid idea: score: must be between 0 and 100");
      assert.deepEqual(err.details, ["score: must be between 0 and 100"]);
    });
  });
}
