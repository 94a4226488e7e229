import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestTaskManager, type TestTaskManager } from "@prismq/taskmanager-server/testing";
import {
  HOP_PRIORITY_STEP,
  MAX_HOPS,
  Reddit,
  TaskParamsError,
  YouTube,
  buildCatalog,
  createCrossModule,
  crossModuleTasks,
  defineEdge,
  defineTaskType,
  extractYouTubeIds,
  nextPriority,
  registerAll,
  type HopParams,
} from "../src/index.js";

interface NoteParams extends HopParams {
  note_id: string;
}

// A platform of this test only: the catalog and the edges take any platform name.
const Note = defineTaskType<NoteParams>({
  name: "PrismQ.Test.EdgesNote.Item",
  version: "1.0.0",
  platform: "edges-notes",
  role: "item",
  claimedBy: "edges-notes-processor",
  schema: { type: "object", required: ["note_id"], properties: { note_id: { type: "string", pattern: "^[a-z0-9]{1,12}$" }, hops: { type: "integer", minimum: 0, maximum: MAX_HOPS } }, additionalProperties: false },
});

const toVideos = defineEdge({ from: "edges-notes", to: YouTube.Video, targets: (s) => s.texts.flatMap((t) => extractYouTubeIds(t)).map((video_id) => ({ video_id })) });
const toNotes = defineEdge({ from: "youtube", to: Note, targets: (s) => s.keywords.filter((k) => /^[a-z0-9]{1,12}$/.test(k)).map((note_id) => ({ note_id })) });

describe("nextPriority", () => {
  it("keeps the priority on a same-platform edge and lowers it by the step per cross-platform hop", () => {
    assert.equal(nextPriority(5, "same-platform"), 5);
    assert.equal(nextPriority(5, "cross-platform"), 5 - HOP_PRIORITY_STEP);
    assert.equal(nextPriority(nextPriority(0, "cross-platform"), "cross-platform"), -2 * HOP_PRIORITY_STEP);
    assert.equal(nextPriority(5, "cross-platform", 1), 4);
  });

  it("refuses a priority or step that is not a whole number", () => {
    assert.throws(() => nextPriority(1.5, "cross-platform"), RangeError);
    assert.throws(() => nextPriority(1, "cross-platform", -1), RangeError);
  });
});

describe("buildCatalog", () => {
  it("holds any platform's types with look-ups by name, platform and role", () => {
    const catalog = buildCatalog([...Object.values(YouTube), Note, YouTube.Video]);
    assert.deepEqual(catalog.platforms, ["youtube", "edges-notes"]);
    assert.equal(catalog.types.filter((d) => d === YouTube.Video).length, 1, "the same definition given twice is kept once");
    assert.equal(catalog.byName(Note.name), Note);
    assert.deepEqual(catalog.itemTypes["edges-notes"], [Note]);
    assert.deepEqual(catalog.discoveryTypes["edges-notes"], []);
    assert.deepEqual(catalog.typesFor("reddit", "item"), []);
  });

  it("refuses two different definitions of one name", () => {
    const twin = defineTaskType({ ...Note, schema: structuredClone(Note.schema) as typeof Note.schema });
    assert.throws(() => buildCatalog([Note, twin]), /defined twice/);
  });

  it("refuses a platform name the ideas could not carry", () => {
    assert.throws(() => defineTaskType({ name: "PrismQ.Test.Bad", version: "1.0.0", platform: "Bad Platform", role: "item", claimedBy: "x", schema: Note.schema }), /platform must be/);
  });
});

describe("crossModuleTasks", () => {
  const source = { keywords: ["alpha", "two words", "beta"], texts: ["see https://youtu.be/dQw4w9WgXcQ and youtu.be/dQw4w9WgXcQ", "youtube.com/watch?v=aaaaaaaaaaa"] };

  it("spawns one task per target of the edges leaving the platform, one hop further and one step lower", () => {
    const spawned = crossModuleTasks([toVideos, toNotes], "edges-notes", { params: {}, priority: 30 }, source);
    assert.deepEqual(
      spawned.map(({ type, params, priority }) => ({ type, params, priority })),
      [
        { type: YouTube.Video.name, params: { hops: 1, video_id: "dQw4w9WgXcQ" }, priority: 30 - HOP_PRIORITY_STEP },
        { type: YouTube.Video.name, params: { hops: 1, video_id: "aaaaaaaaaaa" }, priority: 30 - HOP_PRIORITY_STEP },
      ],
    );
    assert.ok(spawned.every((t) => t.edge === toVideos));
    assert.deepEqual(
      crossModuleTasks([toVideos, toNotes], "youtube", { params: { hops: 1 } }, source).map((t) => [t.params, t.priority]),
      [
        [{ hops: 2, note_id: "alpha" }, -HOP_PRIORITY_STEP],
        [{ hops: 2, note_id: "beta" }, -HOP_PRIORITY_STEP],
      ],
    );
  });

  it("spawns nothing past the hop limit, and a lower maxHops stops earlier", () => {
    assert.deepEqual(crossModuleTasks([toVideos], "edges-notes", { params: { hops: MAX_HOPS } }, source), []);
    assert.deepEqual(crossModuleTasks([toVideos], "edges-notes", { params: {} }, source, { maxHops: 0 }), []);
    assert.deepEqual(crossModuleTasks([toVideos], "reddit", { params: {} }, source), [], "no edge leaves reddit here");
  });

  it("throws the type's params error when an edge gives a target the schema refuses", () => {
    const bad = defineEdge({ from: "edges-notes", to: Reddit.Search, targets: () => [{ query: "" }] });
    assert.throws(() => crossModuleTasks([bad], "edges-notes", { params: {} }, source), TaskParamsError);
  });

  it("refuses a cross-platform edge into its own platform", () => {
    assert.throws(() => defineEdge({ from: "youtube", to: YouTube.Video, targets: () => [] }), /another platform/);
    assert.doesNotThrow(() => defineEdge({ from: "youtube", to: YouTube.Video, hop: "same-platform", targets: () => [] }));
  });
});

describe("createCrossModule priority against our server", () => {
  let t: TestTaskManager;
  before(async () => {
    t = await startTestTaskManager({ workerId: "edges-test", retry: false, register: registerAll });
  });
  after(async () => {
    await t.close();
  });

  it("gives a cross-platform task its parent's priority lowered by one step, and a same-platform one the parent's", async () => {
    const search = await createCrossModule(t.client, Reddit.Search, {}, { query: "edges priority one" }, { parentPriority: 50 });
    const post = await createCrossModule(t.client, Reddit.Post, { hops: 1 }, { post_id: "edgep1" }, { edge: "same-platform", parentPriority: 40 });
    const given = await createCrossModule(t.client, Reddit.Post, {}, { post_id: "edgep2" }, { edge: "same-platform", priority: 7 });
    assert.ok(search && post && given);
    assert.equal((await t.task(search.id)).priority, 50 - HOP_PRIORITY_STEP);
    assert.equal((await t.task(post.id)).priority, 40);
    assert.equal((await t.task(given.id)).priority, 7);
  });
});
