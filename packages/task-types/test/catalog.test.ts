import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CATALOG,
  DISCOVERY_TYPES,
  ITEM_TYPES,
  MAX_HOPS,
  Reddit,
  YouTube,
  defineTaskType,
  typeByName,
  typesFor,
  type ParamSchema,
} from "../src/index.js";

// Written here, not imported from src, so the test does not trust the code it checks.
const ALLOWED = new Set(["type", "required", "properties", "additionalProperties", "items", "minLength", "maxLength", "pattern", "minimum", "maximum", "minItems", "maxItems", "enum"]);
const TYPES = new Set(["object", "array", "string", "integer", "boolean", "null"]);

function walk(schema: unknown, at: string, problems: string[]): void {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) {
    problems.push(`${at}: not a schema object`);
    return;
  }
  const s = schema as Record<string, unknown>;
  for (const key of Object.keys(s)) if (!ALLOWED.has(key)) problems.push(`${at}: keyword ${key} is not in the hosted subset`);
  if (typeof s.type !== "string") problems.push(`${at}: type must be one string`);
  else if (!TYPES.has(s.type)) problems.push(`${at}: type ${s.type} is not allowed`);
  if (s.type === "object") {
    if (s.additionalProperties !== false) problems.push(`${at}: additionalProperties must be false`);
    const props = s.properties as Record<string, unknown> | undefined;
    if (props === undefined || typeof props !== "object") problems.push(`${at}: an object needs properties`);
    for (const name of (s.required ?? []) as unknown[]) {
      if (typeof name !== "string" || !props || !Object.hasOwn(props, name)) problems.push(`${at}: required ${String(name)} is not a property`);
    }
    for (const [name, sub] of Object.entries(props ?? {})) walk(sub, `${at}.properties.${name}`, problems);
  } else if (s.properties !== undefined || s.required !== undefined || s.additionalProperties !== undefined) {
    problems.push(`${at}: object keywords on a ${String(s.type)}`);
  }
  if (s.type === "array") walk(s.items, `${at}.items`, problems);
  if (s.enum !== undefined && (!Array.isArray(s.enum) || s.enum.length === 0)) problems.push(`${at}: enum must be a non-empty list`);
  if (s.pattern !== undefined) {
    if (typeof s.pattern !== "string" || !s.pattern.startsWith("^") || !s.pattern.endsWith("$")) problems.push(`${at}: pattern must be anchored`);
    else new RegExp(s.pattern, "u");
  }
}

describe("the catalog", () => {
  it("keeps every schema to the hosted subset: allowed keywords, one type string, never number, closed objects, required names exist", () => {
    for (const def of CATALOG) {
      const problems: string[] = [];
      walk(def.schema, def.name, problems);
      assert.deepEqual(problems, []);
      assert.ok(!JSON.stringify(def.schema).includes('"number"'), `${def.name} uses the number type`);
    }
  });

  it("the subset walker itself catches what it must", () => {
    const problems: string[] = [];
    walk({ type: "object", required: ["a", "x"], properties: { a: { type: ["string", "null"] }, b: { type: "number" }, c: { type: "string", format: "date-time" }, d: { type: "object", properties: {} } } }, "s", problems);
    assert.equal(problems.length, 6, problems.join("\n"));
  });

  it("names every type PrismQ.IdeaInspiration.<Platform>.<What>, once each, with a semver version", () => {
    const names = CATALOG.map((d) => d.name);
    for (const def of CATALOG) {
      assert.match(def.name, /^PrismQ\.IdeaInspiration\.(YouTube|Reddit)\.[A-Za-z]+$/);
      assert.match(def.version, /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/);
      assert.equal(def.name.split(".")[2]?.toLowerCase(), def.platform);
    }
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(names, [
      "PrismQ.IdeaInspiration.YouTube.Video",
      "PrismQ.IdeaInspiration.YouTube.Channel",
      "PrismQ.IdeaInspiration.YouTube.Search",
      "PrismQ.IdeaInspiration.YouTube.MostPopular",
      "PrismQ.IdeaInspiration.Reddit.Post",
      "PrismQ.IdeaInspiration.Reddit.Subreddit",
      "PrismQ.IdeaInspiration.Reddit.Search",
    ]);
  });

  it("groups the types by platform, each under its short name", () => {
    for (const [short, def] of Object.entries(YouTube)) assert.equal(def.name, `PrismQ.IdeaInspiration.YouTube.${short}`);
    for (const [short, def] of Object.entries(Reddit)) assert.equal(def.name, `PrismQ.IdeaInspiration.Reddit.${short}`);
    assert.deepEqual(CATALOG, [...Object.values(YouTube), ...Object.values(Reddit)]);
  });

  it("gives every type an optional integer hops of 0..MAX_HOPS", () => {
    assert.equal(MAX_HOPS, 2);
    for (const def of CATALOG) {
      assert.deepEqual(def.schema.properties?.hops, { type: "integer", minimum: 0, maximum: MAX_HOPS }, def.name);
      assert.ok(!def.schema.required?.includes("hops"), def.name);
    }
  });

  it("finds a type by name, and answers undefined for an unknown name", () => {
    for (const def of CATALOG) assert.equal(typeByName(def.name), def);
    assert.equal(typeByName("PrismQ.IdeaInspiration.YouTube.Nope"), undefined);
  });

  it("lists item and discovery types per platform, with the app that claims them", () => {
    assert.deepEqual(ITEM_TYPES.youtube, [YouTube.Video]);
    assert.deepEqual(ITEM_TYPES.reddit, [Reddit.Post]);
    assert.deepEqual(DISCOVERY_TYPES.youtube, [YouTube.Channel, YouTube.Search, YouTube.MostPopular]);
    assert.deepEqual(DISCOVERY_TYPES.reddit, [Reddit.Subreddit, Reddit.Search]);
    assert.deepEqual(typesFor("youtube", "discovery"), DISCOVERY_TYPES.youtube);
    assert.deepEqual(typesFor("reddit", "item"), ITEM_TYPES.reddit);
    assert.equal(YouTube.Video.claimedBy, "youtube-processor");
    assert.equal(Reddit.Post.claimedBy, "reddit-processor");
    for (const def of DISCOVERY_TYPES.youtube) assert.equal(def.claimedBy, "youtube-discovery");
    for (const def of DISCOVERY_TYPES.reddit) assert.equal(def.claimedBy, "reddit-discovery");
  });

  it("freezes schemas, so no app can change a type for everyone", () => {
    for (const def of CATALOG) {
      assert.ok(Object.isFrozen(def.schema) && Object.isFrozen(def.schema.properties), def.name);
      assert.throws(() => {
        (def.schema as { type: string }).type = "array";
      }, TypeError);
    }
  });
});

describe("defineTaskType", () => {
  const spec = { name: "PrismQ.IdeaInspiration.YouTube.Test", version: "1.0.0", platform: "youtube", role: "item", claimedBy: "x" } as const;
  const closed = (properties: Record<string, unknown>) => ({ type: "object", properties, additionalProperties: false }) as ParamSchema;

  it("refuses a schema outside the hosted subset", () => {
    assert.throws(() => defineTaskType({ ...spec, schema: closed({ n: { type: "number" } }) }), /hosted subset.*type/);
    assert.throws(() => defineTaskType({ ...spec, schema: closed({ n: { type: "string", format: "uri" } }) }), /format is outside/);
    assert.throws(() => defineTaskType({ ...spec, schema: closed({ n: { oneOf: [] } }) }), /oneOf is outside/);
    assert.throws(() => defineTaskType({ ...spec, schema: { type: "object", properties: {} } }), /additionalProperties must be false/);
    assert.throws(() => defineTaskType({ ...spec, schema: { ...closed({}), required: ["a"] } }), /required names a/);
  });

  it("refuses the number type anywhere in a schema, naming the path and the fix", () => {
    const why = 'which the hosted service refuses for whole numbers \\(they count as integer\\): use "integer"';
    assert.throws(() => defineTaskType({ ...spec, schema: closed({ n: { type: "number" } }) }), new RegExp(`schema\\.properties\\.n\\.type is "number", ${why}`));
    const list = closed({ list: { type: "array", items: { type: "object", properties: { x: { type: "number" } }, additionalProperties: false } } });
    assert.throws(() => defineTaskType({ ...spec, schema: list }), new RegExp(`schema\\.properties\\.list\\.items\\.properties\\.x\\.type is "number"`));
    // Beside a type that has no properties of its own, it is still found.
    const hidden = closed({ s: { type: "string", properties: { y: { type: "number" } } } as unknown as ParamSchema });
    assert.throws(() => defineTaskType({ ...spec, schema: hidden }), /schema\.properties\.s\.properties\.y\.type is "number"/);
  });

  it("refuses a version that is not semver and a name the hosted service cannot fetch", () => {
    assert.throws(() => defineTaskType({ ...spec, version: "1.0", schema: closed({}) }), /semver/);
    assert.throws(() => defineTaskType({ ...spec, name: "Has Space", schema: closed({}) }), /name/);
  });

  it("copies the schema, so changing the spec afterwards changes nothing", () => {
    const schema = { type: "object", properties: { a: { type: "string" } }, additionalProperties: false } as { type: "object"; properties: Record<string, ParamSchema>; additionalProperties: false };
    const def = defineTaskType<{ a?: string }>({ ...spec, schema });
    schema.properties.a = { type: "integer" };
    assert.deepEqual(def.params({ a: "x" }), { a: "x" });
  });
});
