import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { IdeaInput } from "../src/index.js";
import { backends, idea, sleep, uid } from "./helpers.js";

const full = (sourceId: string): IdeaInput => ({
  title: "Why cats knock things off tables 🐈",
  description: "A short explainer",
  content: "Transcript: line one\nline two — with ünïcödé",
  keywords: ["cats", "behaviour", "science"],
  sourceType: "video",
  metadata: { views: 1200, likes: 80, tags: ["pets", null, true], nested: { a: { b: [1, 2.5, "x"] } } },
  sourceId,
  sourceUrl: `https://www.youtube.com/watch?v=${sourceId}`,
  sourcePlatform: "youtube",
  sourceCreatedBy: "Channel Name",
  sourceCreatedAt: "2024-03-10T12:30:00.250+02:00",
  score: 87.5,
  category: "pets",
  subcategoryRelevance: { cats: 0.9, humour: 0.4 },
  contextualCategoryScores: { education: 62, entertainment: 88.25 },
});

for (const backend of backends()) {
  describe(`upsert on ${backend.name}`, () => {
    after(() => backend.cleanup());

    it("inserts a new idea with created true and every default filled in", async () => {
      const store = await backend.open();
      const r = await store.upsert({ title: "Minimal", sourceId: "abc", sourcePlatform: "reddit" });
      assert.equal(r.created, true);
      assert.equal(r.idea.id, r.id);
      assert.deepEqual(
        { ...r.idea, id: 0, createdAt: "", updatedAt: "" },
        {
          id: 0,
          title: "Minimal",
          description: "",
          content: "",
          keywords: [],
          sourceType: "unknown",
          metadata: {},
          sourceId: "abc",
          sourceUrl: null,
          sourcePlatform: "reddit",
          sourceCreatedBy: null,
          sourceCreatedAt: null,
          score: null,
          category: null,
          subcategoryRelevance: {},
          contextualCategoryScores: {},
          createdAt: "",
          updatedAt: "",
        },
      );
      assert.match(r.idea.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(r.idea.updatedAt, r.idea.createdAt);
      assert.deepEqual(await store.get("reddit", "abc"), r.idea);
      assert.deepEqual(await store.getById(r.id), r.idea);
      assert.equal(await store.count(), 1);
    });

    it("stores every field and reads it back unchanged, with sourceCreatedAt converted to UTC", async () => {
      const store = await backend.open();
      const input = full(`v-${uid()}`);
      const r = await store.upsert(input);
      const expected = { ...input, sourceCreatedAt: "2024-03-10T10:30:00.250Z" };
      const stored = await store.get("youtube", input.sourceId);
      assert.ok(stored);
      const { id, createdAt, updatedAt, ...fields } = stored;
      assert.equal(id, r.id);
      assert.ok(createdAt && updatedAt);
      assert.deepEqual(fields, expected);
      assert.deepEqual(r.idea, stored);
    });

    it("accepts sourceCreatedAt as a Date and as a plain date, both stored as UTC", async () => {
      const store = await backend.open();
      const a = await store.upsert(idea({ sourceCreatedAt: new Date(Date.UTC(2023, 4, 6, 7, 8, 9, 10)) }));
      const b = await store.upsert(idea({ sourceCreatedAt: "2023-05-06" }));
      assert.equal(a.idea.sourceCreatedAt, "2023-05-06T07:08:09.010Z");
      assert.equal(b.idea.sourceCreatedAt, "2023-05-06T00:00:00.000Z");
      assert.equal((await store.getById(a.id))?.sourceCreatedAt, "2023-05-06T07:08:09.010Z");
    });

    it("a second upsert of the same (platform, sourceId) updates fields and metrics in the one row, keeps createdAt and moves updatedAt", async () => {
      const store = await backend.open();
      const sourceId = `v-${uid()}`;
      const first = await store.upsert(full(sourceId));
      await sleep(15);
      const second = await store.upsert({
        ...full(sourceId),
        title: "Updated title",
        metadata: { views: 5000, likes: 300 },
        score: 91,
        keywords: ["cats"],
        contextualCategoryScores: { education: 70 },
      });
      assert.equal(second.created, false);
      assert.equal(second.id, first.id);
      assert.equal(await store.count(), 1);
      const stored = await store.get("youtube", sourceId);
      assert.ok(stored);
      assert.equal(stored.title, "Updated title");
      assert.deepEqual(stored.metadata, { views: 5000, likes: 300 });
      assert.equal(stored.score, 91);
      assert.deepEqual(stored.keywords, ["cats"]);
      assert.deepEqual(stored.contextualCategoryScores, { education: 70 });
      assert.equal(stored.createdAt, first.idea.createdAt);
      assert.ok(stored.updatedAt > first.idea.updatedAt, `${stored.updatedAt} should be after ${first.idea.updatedAt}`);
      assert.deepEqual(second.idea, stored);
    });

    it("an upsert replaces the whole idea: fields left out return to their defaults", async () => {
      const store = await backend.open();
      const sourceId = `v-${uid()}`;
      await store.upsert(full(sourceId));
      await store.upsert({ title: "Bare", sourceId, sourcePlatform: "youtube" });
      const stored = await store.get("youtube", sourceId);
      assert.ok(stored);
      assert.equal(stored.category, null);
      assert.equal(stored.score, null);
      assert.deepEqual(stored.metadata, {});
      assert.equal(stored.sourceType, "unknown");
    });

    it("the same sourceId on two platforms makes two rows", async () => {
      const store = await backend.open();
      const a = await store.upsert(idea({ sourceId: "same-id", sourcePlatform: "youtube", title: "On YouTube" }));
      const b = await store.upsert(idea({ sourceId: "same-id", sourcePlatform: "reddit", title: "On Reddit" }));
      assert.equal(a.created, true);
      assert.equal(b.created, true);
      assert.notEqual(a.id, b.id);
      assert.equal(await store.count(), 2);
      assert.equal((await store.get("youtube", "same-id"))?.title, "On YouTube");
      assert.equal((await store.get("reddit", "same-id"))?.title, "On Reddit");
    });

    it("upsertMany writes a batch and answers created per input, in input order", async () => {
      const store = await backend.open();
      const existing = await store.upsert(idea({ sourceId: "m-2", title: "old" }));
      const results = await store.upsertMany([
        idea({ sourceId: "m-3", title: "three" }),
        idea({ sourceId: "m-2", title: "two, updated", score: 10 }),
        idea({ sourceId: "m-1", title: "one" }),
      ]);
      assert.equal(results.length, 3);
      assert.deepEqual(
        results.map((r) => r.created),
        [true, false, true],
      );
      assert.equal(results[1]?.id, existing.id);
      assert.equal((await store.getById(results[0]?.id ?? -1))?.sourceId, "m-3");
      assert.equal((await store.getById(results[2]?.id ?? -1))?.sourceId, "m-1");
      assert.equal((await store.get("youtube", "m-2"))?.title, "two, updated");
      assert.equal(await store.count(), 3);
    });

    it("upsertMany with the same source item twice keeps one row holding the later values", async () => {
      const store = await backend.open();
      const results = await store.upsertMany([
        idea({ sourceId: "dup", title: "first", score: 1 }),
        idea({ sourceId: "other" }),
        idea({ sourceId: "dup", title: "second", score: 2 }),
      ]);
      assert.deepEqual(
        results.map((r) => r.created),
        [true, true, false],
      );
      assert.equal(results[0]?.id, results[2]?.id);
      assert.equal(await store.count(), 2);
      const stored = await store.get("youtube", "dup");
      assert.equal(stored?.title, "second");
      assert.equal(stored?.score, 2);
    });

    it("upsertMany of an empty array writes nothing and answers []", async () => {
      const store = await backend.open();
      assert.deepEqual(await store.upsertMany([]), []);
      assert.equal(await store.count(), 0);
    });

    it("get and getById answer null for items that are not stored", async () => {
      const store = await backend.open();
      await store.upsert(idea({ sourceId: "here" }));
      assert.equal(await store.get("youtube", "missing"), null);
      assert.equal(await store.get("reddit", "here"), null);
      assert.equal(await store.getById(999_999), null);
    });

    it("a fetched idea can be changed and written back: store-managed fields are ignored", async () => {
      const store = await backend.open();
      const first = await store.upsert(full(`v-${uid()}`));
      const fetched = await store.getById(first.id);
      assert.ok(fetched);
      await sleep(5);
      const again = await store.upsert({ ...fetched, score: 12, createdAt: "1999-01-01T00:00:00.000Z", id: 424242 } as IdeaInput);
      assert.equal(again.created, false);
      assert.equal(again.id, first.id);
      assert.equal(again.idea.score, 12);
      assert.equal(again.idea.createdAt, first.idea.createdAt);
      assert.equal(again.idea.sourceCreatedAt, fetched.sourceCreatedAt);
      assert.equal(await store.count(), 1);
    });

    it("stores SQL-injection-looking strings verbatim and matches them only as values", async () => {
      const store = await backend.open();
      const evil = {
        title: "Robert'); DROP TABLE idea_inspirations; --",
        description: "\" OR \"\"=\"",
        content: "1; DELETE FROM idea_store_migrations; SELECT '",
        keywords: ["' OR 1=1 --", "$1", "?"],
        sourceId: "x' OR '1'='1",
        sourcePlatform: "reddit",
        sourceCreatedBy: "admin'--",
        category: "a' OR 'a'='a",
        metadata: { "key'; DROP TABLE x; --": "v\\' --" },
      } satisfies IdeaInput;
      const other = await store.upsert(idea({ sourceId: "plain", sourcePlatform: "reddit", category: "plain" }));
      const r = await store.upsert(evil);
      const stored = await store.get("reddit", evil.sourceId);
      assert.ok(stored);
      for (const key of ["title", "description", "content", "keywords", "sourceId", "sourceCreatedBy", "category", "metadata"] as const) {
        assert.deepEqual(stored[key], evil[key], key);
      }
      assert.equal(await store.count(), 2);
      assert.deepEqual(
        (await store.query({ category: evil.category })).map((i) => i.id),
        [r.id],
      );
      assert.deepEqual(await store.query({ category: "' OR '1'='1" }), []);
      assert.deepEqual(await store.query({ platform: "reddit' OR '1'='1" }), []);
      assert.equal(await store.get("reddit", "' OR '1'='1"), null);
      assert.equal((await store.get("reddit", "plain"))?.id, other.id);
      assert.deepEqual(await store.countBy("category"), { plain: 1, [evil.category]: 1 });
    });
  });
}
