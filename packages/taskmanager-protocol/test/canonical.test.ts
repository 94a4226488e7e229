import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { canonicalize, dedupeKey, dedupeKeyOfJson, paramsJson } from "../src/index.js";

const HOSTILE = '{"__proto__":{"x":1},"b":1,"constructor":{"y":2}}';

/** Keys that name things on Object.prototype, array-index keys, and any other string. */
const key = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "0", "9", "10", "-1", "a", "b"),
  fc.string({ maxLength: 6 }),
);

/** Any JSON value; objects are built with Object.fromEntries, which defines every key as data. */
const { json } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 8 }),
    fc.array(tie("json"), { maxLength: 4 }),
    tie("object"),
  ),
  object: fc.array(fc.tuple(key, tie("json")), { maxLength: 6 }).map((entries) => Object.fromEntries(entries)),
}));

/** The input as it arrives over the wire: parsed from its JSON text (so -0 is 0, and so on). */
const wire = json.map((v) => JSON.parse(JSON.stringify(v)) as unknown);

/** Every object in the value has Object.prototype as its prototype and its own keys sorted. */
function plainAndSorted(value: unknown, path = "$"): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => plainAndSorted(v, `${path}[${i}]`));
    return;
  }
  if (value === null || typeof value !== "object") return;
  assert.equal(Object.getPrototypeOf(value), Object.prototype, `${path} has a foreign prototype`);
  const keys = Object.keys(value);
  const indices = keys.filter((k) => /^(0|[1-9][0-9]*)$/.test(k) && Number(k) < 2 ** 32 - 1);
  const rest = keys.filter((k) => !indices.includes(k));
  assert.deepEqual(rest, [...rest].sort(), `${path}: keys out of order`);
  assert.deepEqual(indices, [...indices].sort((a, b) => Number(a) - Number(b)), `${path}: index keys out of order`);
  for (const k of keys) plainAndSorted((value as Record<string, unknown>)[k], `${path}.${k}`);
}

describe("canonicalize keeps every key as data", () => {
  it("keeps __proto__ and constructor as keys, and pollutes no prototype", () => {
    const input = JSON.parse(HOSTILE) as Record<string, unknown>;
    const out = canonicalize(input);
    assert.deepEqual(Object.keys(out), ["__proto__", "b", "constructor"]);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal((out as { x?: unknown }).x, undefined, "the __proto__ key did not become the prototype");
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, "__proto__")?.value, { x: 1 });
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, "constructor")?.value, { y: 2 });
    assert.equal(({} as { x?: unknown }).x, undefined, "Object.prototype is untouched");
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "x"), false);
    assert.equal(JSON.stringify(out), HOSTILE);
    assert.deepEqual(JSON.parse(paramsJson(out)), input);
  });

  it("keeps them at every depth, inside arrays too", () => {
    const input = JSON.parse('{"z":[{"__proto__":{"polluted":true},"a":1}],"a":{"constructor":{"prototype":{"p":1}},"__proto__":null}}') as object;
    const out = canonicalize(input);
    assert.equal(JSON.stringify(out), '{"a":{"__proto__":null,"constructor":{"prototype":{"p":1}}},"z":[{"__proto__":{"polluted":true},"a":1}]}');
    plainAndSorted(out);
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
  });

  it("has one dedupe key for both key orders of params holding __proto__", () => {
    const a = JSON.parse('{"b":1,"__proto__":{"x":1}}') as object;
    const b = JSON.parse('{"__proto__":{"x":1},"b":1}') as object;
    assert.equal(dedupeKey("T", a), dedupeKey("T", b));
    assert.notEqual(dedupeKey("T", a), dedupeKey("T", { b: 1 }), "the __proto__ key is part of the key");
  });

  it("is idempotent, and JSON.parse of its JSON deep-equals the input, for any JSON (property)", () => {
    fc.assert(
      fc.property(wire, (input) => {
        const once = canonicalize(input);
        const twice = canonicalize(once);
        assert.equal(paramsJson(twice), paramsJson(once));
        assert.deepStrictEqual(twice, once);
        assert.deepStrictEqual(JSON.parse(paramsJson(once)), input);
        plainAndSorted(once);
        assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "x"), false);
      }),
      { numRuns: 500 },
    );
  });

  it("gives the same JSON whatever the input's key order (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, json), { maxLength: 8 }), (entries) => {
        const forward = JSON.parse(JSON.stringify(Object.fromEntries(entries))) as object;
        const backward = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(forward).reverse()))) as object;
        assert.equal(paramsJson(canonicalize(backward)), paramsJson(canonicalize(forward)));
        assert.equal(dedupeKey("T", backward), dedupeKey("T", forward));
      }),
      { numRuns: 300 },
    );
  });
});

describe("the dedupe key", () => {
  it("is the hosted formula sha256_hex(type + NUL + json) over the canonical params", () => {
    const params = { b: [1, { d: 1, c: 2 }], a: "x/\u00e9\u2028" };
    const json = paramsJson(canonicalize(params));
    assert.equal(json, '{"a":"x/\u00e9\\u2028","b":[1,{"c":2,"d":1}]}');
    assert.equal(dedupeKey("T.Type", params), dedupeKeyOfJson("T.Type", json));
    // The same formula computed by another implementation (Python hashlib).
    assert.equal(dedupeKeyOfJson("T", '{"a":1}'), "f644c1501a2c2547419b3faccad23cd5a25cf943f8db753a8e705bd35fa651b7");
  });
});
