import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { paramsJson } from "@prismq/taskmanager-client";
import { CATALOG, Reddit, TaskParamsError, YouTube, type AnyTaskTypeDef } from "../src/index.js";
import { BAD, GOOD } from "./fixtures.js";

function paramsError(def: AnyTaskTypeDef, input: unknown): TaskParamsError {
  try {
    def.params(input as object);
  } catch (err) {
    assert.ok(err instanceof TaskParamsError, String(err));
    return err;
  }
  assert.fail(`${def.name} accepted ${JSON.stringify(input)}`);
}

describe("params()", () => {
  it("drops undefined fields, omits hops 0, and sorts keys", () => {
    const out = Reddit.Subreddit.params({ sort: "top", time_filter: undefined, subreddit: "AskReddit", limit: undefined, hops: 0 });
    assert.deepEqual(out, { sort: "top", subreddit: "AskReddit" });
    assert.equal(paramsJson(out), '{"sort":"top","subreddit":"AskReddit"}');
    assert.ok(!("hops" in out) && !("time_filter" in out));
  });

  it("gives the same target the same params however it was written", () => {
    const a = YouTube.Search.params({ query: "lo-fi", max_results: 10, hops: 0 });
    const b = YouTube.Search.params({ hops: undefined, max_results: 10, published_after: undefined, query: "lo-fi" });
    const c = YouTube.Search.params({ max_results: 10, query: "lo-fi" });
    assert.deepEqual(a, b);
    assert.deepEqual(b, c);
    assert.equal(paramsJson(a), paramsJson(b));
    assert.equal(paramsJson(b), paramsJson(c));
  });

  it("keeps a hop count above 0, as part of the target", () => {
    assert.deepEqual(YouTube.Video.params({ video_id: "dQw4w9WgXcQ", hops: 1 }), { hops: 1, video_id: "dQw4w9WgXcQ" });
    assert.notDeepEqual(YouTube.Video.params({ video_id: "dQw4w9WgXcQ", hops: 1 }), YouTube.Video.params({ video_id: "dQw4w9WgXcQ" }));
  });

  it("returns a new object and leaves the input alone", () => {
    const input = { video_id: "dQw4w9WgXcQ", hops: 0 };
    const out = YouTube.Video.params(input);
    assert.notEqual(out, input);
    assert.deepEqual(input, { video_id: "dQw4w9WgXcQ", hops: 0 });
  });

  it("accepts fully filled valid params of every type unchanged", () => {
    const covered = new Set<string>();
    for (const { def, params } of GOOD) {
      assert.deepEqual(def.params(params), params, def.name);
      covered.add(def.name);
    }
    assert.deepEqual([...covered].sort(), CATALOG.map((d) => d.name).sort());
  });

  for (const { def, params, field, why } of BAD) {
    it(`refuses ${def.name.split(".").slice(2).join(".")} with ${field} ${why}, naming ${field}`, () => {
      const err = paramsError(def, params);
      assert.equal(err.code, "TASK_ERR_PARAMS");
      assert.equal(err.taskType, def.name);
      assert.deepEqual(err.fields, [field]);
      assert.ok(err.details.length >= 1);
      for (const line of err.details) assert.ok(line.startsWith(`${field} `), line);
      assert.match(err.message, new RegExp(`^Invalid params for ${def.name.replace(/\./g, "\\.")}: ${field} `));
    });
  }

  it("covers every type in the table of bad params", () => {
    assert.deepEqual([...new Set(BAD.map((b) => b.def.name))].sort(), CATALOG.map((d) => d.name).sort());
  });

  it("names every bad field at once, not only the first", () => {
    const err = paramsError(Reddit.Subreddit, { subreddit: "x", sort: "best", limit: 0, extra: true });
    assert.deepEqual([...err.fields].sort(), ["extra", "limit", "sort", "subreddit"]);
    assert.equal(err.details.length, 4);
  });

  it("treats __proto__ and constructor keys as fields: refused by name, never inherited as a field's value", () => {
    // As `tm create` reads them: JSON text, where "__proto__" is an ordinary key.
    const inherited = paramsError(YouTube.Video, JSON.parse('{"__proto__":{"video_id":"dQw4w9WgXcQ"}}'));
    assert.deepEqual([...inherited.fields].sort(), ["__proto__", "video_id"]);
    assert.deepEqual(paramsError(YouTube.Video, JSON.parse('{"video_id":"dQw4w9WgXcQ","__proto__":{"x":1}}')).fields, ["__proto__"]);
    assert.deepEqual(paramsError(YouTube.Video, JSON.parse('{"constructor":{"y":2},"video_id":"dQw4w9WgXcQ"}')).fields, ["constructor"]);
    assert.equal(({} as { video_id?: unknown }).video_id, undefined);
  });

  it("refuses a value that is not an object", () => {
    for (const input of [null, [], "dQw4w9WgXcQ", 1]) {
      assert.deepEqual(paramsError(YouTube.Video, input).fields, ["params"]);
    }
  });
});

describe("parse()", () => {
  it("types valid claimed params and returns them as they are", () => {
    const raw: unknown = { hops: 0, video_id: "dQw4w9WgXcQ" };
    const r = YouTube.Video.parse(raw);
    assert.ok(r.ok);
    const id: string = r.params.video_id;
    assert.equal(id, "dQw4w9WgXcQ");
    assert.equal(r.params, raw);
  });

  it("lists one error per bad field instead of throwing", () => {
    const r = Reddit.Search.parse({ query: "", sort: "rising" });
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.equal(r.errors.length, 2);
    assert.ok(r.errors.some((e) => e.startsWith("query ")));
    assert.ok(r.errors.some((e) => e.startsWith("sort must be one of")));
    assert.deepEqual(YouTube.Video.parse(undefined), { ok: false, errors: ["params must be object (got undefined)"] });
  });
});
