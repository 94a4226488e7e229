import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { IdeaFilter, IdeaInspiration, IdeaStore } from "../src/index.js";
import { backends, idea, sleep } from "./helpers.js";

const day = (d: number) => `2024-01-0${d}T00:00:00.000Z`;

/**
 * Two waves inserted 20 ms apart (so created_at separates them), then y2 updated 20 ms later.
 * Newest first by creation: r3 y3 r2 | r1 y2 y1.
 */
const WAVE_1 = [
  { name: "y1", platform: "youtube", category: "tech", score: 90, day: 5 },
  { name: "y2", platform: "youtube", category: "music", score: 40, day: 3 },
  { name: "r1", platform: "reddit", category: "tech", score: 75, day: 4 },
];
const WAVE_2 = [
  { name: "r2", platform: "reddit", category: null, score: null, day: null },
  { name: "y3", platform: "youtube", category: "tech", score: 100, day: 1 },
  { name: "r3", platform: "reddit", category: "music", score: 0, day: 2 },
];

const names = (ideas: IdeaInspiration[]) => ideas.map((i) => i.title);

for (const backend of backends()) {
  describe(`query, count and countBy on ${backend.name}`, () => {
    let store: IdeaStore;
    const seeded = new Map<string, IdeaInspiration>();
    const q = async (filter: IdeaFilter = {}) => names(await store.query(filter));

    before(async () => {
      store = await backend.open();
      for (const wave of [WAVE_1, WAVE_2]) {
        for (const s of wave) {
          const r = await store.upsert(
            idea({
              title: s.name,
              sourceId: s.name,
              sourcePlatform: s.platform,
              category: s.category,
              score: s.score,
              sourceCreatedAt: s.day === null ? null : day(s.day),
            }),
          );
          seeded.set(s.name, r.idea);
        }
        await sleep(20);
      }
      const y2 = seeded.get("y2") as IdeaInspiration;
      const updated = await store.upsert({ ...y2, score: 55 });
      seeded.set("y2", updated.idea);
    });
    after(() => backend.cleanup());

    const at = (name: string) => seeded.get(name) as IdeaInspiration;

    it("answers everything newest-created first by default", async () => {
      assert.deepEqual(await q(), ["r3", "y3", "r2", "r1", "y2", "y1"]);
    });

    it("filters by platform", async () => {
      assert.deepEqual(await q({ platform: "youtube" }), ["y3", "y2", "y1"]);
      assert.deepEqual(await q({ platform: "reddit" }), ["r3", "r2", "r1"]);
      assert.deepEqual(await q({ platform: "tiktok" }), []);
    });

    it("filters by category, and by a missing category with null", async () => {
      assert.deepEqual(await q({ category: "tech" }), ["y3", "r1", "y1"]);
      assert.deepEqual(await q({ category: "music" }), ["r3", "y2"]);
      assert.deepEqual(await q({ category: null }), ["r2"]);
    });

    it("filters by an inclusive score range and leaves unscored ideas out", async () => {
      assert.deepEqual(await q({ minScore: 55, maxScore: 90 }), ["r1", "y2", "y1"]);
      assert.deepEqual(await q({ minScore: 0 }), ["r3", "y3", "r1", "y2", "y1"]);
      assert.deepEqual(await q({ maxScore: 0 }), ["r3"]);
      assert.deepEqual(await q({ minScore: 100 }), ["y3"]);
    });

    it("filters a created_at window: since inclusive, until exclusive", async () => {
      const wave2 = at("r2").createdAt;
      assert.deepEqual(await q({ since: wave2 }), ["r3", "y3", "r2"]);
      assert.deepEqual(await q({ until: wave2 }), ["r1", "y2", "y1"]);
      assert.deepEqual(await q({ since: new Date(at("y1").createdAt), until: wave2 }), ["r1", "y2", "y1"]);
      assert.deepEqual(await q({ since: "2000-01-01T00:00:00Z", until: "2000-01-02T00:00:00Z" }), []);
    });

    it("filters on updated_at or source_created_at when timeField says so", async () => {
      assert.deepEqual(await q({ timeField: "updated", since: at("y2").updatedAt }), ["y2"]);
      assert.deepEqual(await q({ timeField: "source_created", since: day(2), until: day(4) }), ["r3", "y2"]);
      assert.deepEqual(await q({ timeField: "source_created", since: new Date(day(5)) }), ["y1"]);
    });

    it("orders by score, source_created or updated, descending with nulls last", async () => {
      assert.deepEqual(await q({ orderBy: "score" }), ["y3", "y1", "r1", "y2", "r3", "r2"]);
      assert.deepEqual(await q({ orderBy: "source_created" }), ["y1", "r1", "y2", "r3", "y3", "r2"]);
      assert.deepEqual(await q({ orderBy: "updated" }), ["y2", "r3", "y3", "r2", "r1", "y1"]);
      assert.deepEqual(await q({ orderBy: "created" }), ["r3", "y3", "r2", "r1", "y2", "y1"]);
    });

    it("combines filters with AND", async () => {
      assert.deepEqual(await q({ platform: "youtube", category: "tech", minScore: 95 }), ["y3"]);
      assert.deepEqual(await q({ platform: "reddit", category: "tech", until: at("r2").createdAt }), ["r1"]);
      assert.deepEqual(await q({ platform: "reddit", orderBy: "score", limit: 2 }), ["r1", "r3"]);
    });

    it("pages with limit and offset without gaps or overlaps", async () => {
      const pages: string[][] = [];
      for (let offset = 0; offset < 8; offset += 2) pages.push(await q({ limit: 2, offset }));
      assert.deepEqual(pages, [["r3", "y3"], ["r2", "r1"], ["y2", "y1"], []]);
      assert.deepEqual(await q({ orderBy: "score", limit: 3, offset: 1 }), ["y1", "r1", "y2"]);
    });

    it("counts with the same filters and ignores paging", async () => {
      assert.equal(await store.count(), 6);
      assert.equal(await store.count({ platform: "reddit" }), 3);
      assert.equal(await store.count({ category: null }), 1);
      assert.equal(await store.count({ minScore: 55, maxScore: 90 }), 3);
      assert.equal(await store.count({ since: at("r2").createdAt }), 3);
      assert.equal(await store.count({ limit: 1, offset: 5, orderBy: "score" }), 6);
      assert.equal(await store.count({ platform: "tiktok" }), 0);
    });

    it("countBy groups by platform and by category, a missing category as uncategorized", async () => {
      assert.deepEqual(await store.countBy("platform"), { reddit: 3, youtube: 3 });
      assert.deepEqual(await store.countBy("category"), { music: 2, tech: 3, uncategorized: 1 });
    });

    it("answers at most 100 ideas by default and up to 1000 when asked", async () => {
      const big = await backend.open();
      await big.upsertMany(Array.from({ length: 150 }, (_, i) => idea({ sourceId: `bulk-${String(i).padStart(3, "0")}`, title: `bulk ${i}` })));
      const page = await big.query();
      assert.equal(page.length, 100);
      // One batch: equal created_at, so the highest id comes first; a batch is written in key order.
      assert.equal(page[0]?.title, "bulk 149");
      assert.equal((await big.query({ limit: 1000 })).length, 150);
      assert.equal(await big.count(), 150);
      assert.deepEqual(await big.countBy("category"), { uncategorized: 150 });
    });
  });
}
