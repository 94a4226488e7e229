import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { SourcesError, parseSourceList, sourceWhen } from "../src/index.js";

const entry = z.strictObject({ kind: z.literal("feed"), name: z.string(), ...sourceWhen });
const parse = (sources: unknown[]) => parseSourceList("Test sources", { sources }, entry, (e) => ({ id: e.id ?? `feed:${e.name}`, name: e.name }));

describe("parseSourceList: priority per source", () => {
  it("keeps an entry's priority on its source and gives none to an entry without one", () => {
    const [high, plain, low] = parse([
      { kind: "feed", name: "a", priority: 30 },
      { kind: "feed", name: "b" },
      { kind: "feed", name: "c", priority: -5, every: "1h" },
    ]);
    assert.equal(high?.priority, 30);
    assert.equal(plain && "priority" in plain, false);
    assert.equal(low?.priority, -5);
    assert.equal(low?.schedule.everyMs, 3_600_000);
  });

  it("refuses a priority that is not an integer, naming the entry and the value", () => {
    assert.throws(
      () => parse([{ kind: "feed", name: "a", priority: 1.5 }, { kind: "feed", name: "b", priority: "high" }]),
      (err: unknown) => {
        assert.ok(err instanceof SourcesError);
        assert.equal(err.problems.length, 2);
        assert.match(err.problems[0] ?? "", /^sources\[0\]\.priority: .*\(got 1\.5\)/);
        assert.match(err.problems[1] ?? "", /^sources\[1\]\.priority: .*\(got "high"\)/);
        return true;
      },
    );
  });
});
