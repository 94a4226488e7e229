import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { MAX_HOPS, YouTube, defineEdge, defineTaskType, type HopParams } from "@prismq/task-types";
import { LocalBudget, definePlatform, platformSet, platformTaskTypes, type PlatformPorts } from "../src/index.js";

interface LeafParams extends HopParams {
  leaf_id: string;
}
const HOPS = { type: "integer", minimum: 0, maximum: MAX_HOPS } as const;
const Leaf = defineTaskType<LeafParams>({
  name: "PrismQ.Test.PlatformKit.Leaf",
  version: "1.0.0",
  platform: "kit-leaves",
  role: "item",
  claimedBy: "kit-leaves-processor",
  schema: { type: "object", required: ["leaf_id"], properties: { leaf_id: { type: "string", pattern: "^[a-z]{1,8}$" }, hops: HOPS }, additionalProperties: false },
});
const Grove = defineTaskType<HopParams & { grove: string }>({
  name: "PrismQ.Test.PlatformKit.Grove",
  version: "1.0.0",
  platform: "kit-leaves",
  role: "discovery",
  claimedBy: "kit-leaves-discovery",
  schema: { type: "object", required: ["grove"], properties: { grove: { type: "string", maxLength: 20 }, hops: HOPS }, additionalProperties: false },
});

const leaves = definePlatform({
  name: "kit-leaves",
  taskTypes: [Leaf, Grove],
  config: { LEAVES_PER_MINUTE: z.coerce.number().int().default(60) },
  budget: (c: { LEAVES_PER_MINUTE: number }) => ({ name: "kit-leaves", limit: c.LEAVES_PER_MINUTE, window: { kind: "fixed", ms: 60_000 } }),
  createApi: async (c: { LEAVES_PER_MINUTE: number }, ports: PlatformPorts) => ({ perMinute: c.LEAVES_PER_MINUTE, budget: ports.budget }),
  toIdea: (item: { id: string }, related: readonly string[], now: number) => ({ sourceId: item.id, related: related.length, at: now }),
  edges: [
    defineEdge({ from: "kit-leaves", to: YouTube.Video, targets: (s) => s.texts.filter((t) => /^[A-Za-z0-9_-]{11}$/.test(t)).map((video_id) => ({ video_id })) }),
    defineEdge({ from: "kit-leaves", to: Leaf, hop: "same-platform", targets: () => [] }),
  ],
});

const tube = definePlatform({
  name: "youtube",
  taskTypes: Object.values(YouTube),
  config: {},
  budget: () => ({ name: "kit-tube", limit: 1, window: { kind: "fixed", ms: 1_000 } }),
  createApi: async () => ({}),
  toIdea: () => ({}),
  edges: [defineEdge({ from: "youtube", to: Leaf, targets: (s) => s.keywords.map((leaf_id) => ({ leaf_id })) })],
});

describe("platformSet", () => {
  it("builds one catalog, the cross-module graph and the app list from the descriptors", () => {
    const set = platformSet([leaves, tube]);
    assert.deepEqual(
      set.catalog.types.map((d) => d.name),
      [Leaf.name, Grove.name, ...Object.values(YouTube).map((d) => d.name)],
    );
    assert.deepEqual(set.catalog.itemTypes["kit-leaves"], [Leaf]);
    assert.deepEqual(set.graph, [
      { from: "kit-leaves", to: YouTube.Video.name, toPlatform: "youtube", hop: "cross-platform" },
      { from: "kit-leaves", to: Leaf.name, toPlatform: "kit-leaves", hop: "same-platform" },
      { from: "youtube", to: Leaf.name, toPlatform: "kit-leaves", hop: "cross-platform" },
    ]);
    assert.deepEqual(set.apps, ["kit-leaves-processor", "kit-leaves-discovery", "youtube-processor", "youtube-discovery"]);
    assert.equal(set.platform("youtube"), tube);
    assert.equal(set.platform("reddit"), undefined);
  });

  it("leaves out the edges into a platform that is not listed", () => {
    const set = platformSet([leaves]);
    assert.deepEqual(set.graph, [{ from: "kit-leaves", to: Leaf.name, toPlatform: "kit-leaves", hop: "same-platform" }]);
  });

  it("refuses a platform listed twice, and a type defined twice", () => {
    assert.throws(() => platformSet([leaves, leaves]), /listed twice/);
    const twin = definePlatform({ ...tube, name: "kit-twin", taskTypes: [defineTaskType({ ...Leaf, platform: "kit-twin", schema: structuredClone(Leaf.schema) as typeof Leaf.schema })], edges: [] });
    assert.throws(() => platformSet([leaves, twin]), /defined twice/);
  });

  it("the descriptor's budget and API factory make a working client from parsed config", async () => {
    const config = z.object(leaves.config).parse({ LEAVES_PER_MINUTE: "3" }) as { LEAVES_PER_MINUTE: number };
    const budget = new LocalBudget(leaves.budget(config));
    const api = await leaves.createApi(config, { budget, logger: undefined as never });
    assert.equal(api.perMinute, 3);
    assert.equal((await api.budget.trySpend(3)).ok, true);
    assert.equal((await api.budget.trySpend(1)).ok, false);
    assert.deepEqual(leaves.toIdea({ id: "a" }, ["x", "y"], 5), { sourceId: "a", related: 2, at: 5 });
  });
});

describe("platformTaskTypes", () => {
  it("answers the platform's own types, then the types its edges spawn elsewhere, each once", () => {
    assert.deepEqual(
      platformTaskTypes(leaves).map((d) => d.name),
      [Leaf.name, Grove.name, YouTube.Video.name],
    );
    assert.deepEqual(
      platformTaskTypes(tube).map((d) => d.name),
      [...Object.values(YouTube).map((d) => d.name), Leaf.name],
    );
  });
});

describe("definePlatform", () => {
  it("refuses a bad name, a type of another platform and an edge leaving another platform", () => {
    assert.throws(() => definePlatform({ ...leaves, name: "Kit Leaves" }), /the name must be/);
    assert.throws(() => definePlatform({ ...leaves, name: "kit-other", edges: [] }), /belongs to kit-leaves/);
    assert.throws(() => definePlatform({ ...tube, edges: leaves.edges }), /leaves kit-leaves/);
  });
});
