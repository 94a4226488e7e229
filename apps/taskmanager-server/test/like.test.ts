import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import { compileLike, likeMatch, likeProblem } from "../src/like.js";

/** The textbook O(n·m) dynamic program over the same semantics: the reference the matcher must agree with. */
function reference(pattern: string, text: string): boolean {
  const items: Array<{ kind: "any" | "one" | "char"; ch?: string }> = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "\\") items.push({ kind: "char", ch: (pattern[++i] as string).toLowerCase() });
    else if (ch === "%") items.push({ kind: "any" });
    else if (ch === "_") items.push({ kind: "one" });
    else items.push({ kind: "char", ch: ch.toLowerCase() });
  }
  const t = text.toLowerCase();
  // row[j]: the first i items match the first j characters.
  let row = Array.from({ length: t.length + 1 }, (_, j) => j === 0);
  for (const item of items) {
    const next = new Array<boolean>(t.length + 1).fill(false);
    for (let j = 0; j <= t.length; j++) {
      if (item.kind === "any") next[j] = (row[j] as boolean) || (j > 0 && (next[j - 1] as boolean));
      else if (j > 0 && row[j - 1]) next[j] = item.kind === "one" || item.ch === t[j - 1];
    }
    row = next;
  }
  return row[t.length] as boolean;
}

/** A small deterministic PRNG, so that a failure names a case that can be run again. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe("LIKE matching of type names", () => {
  it("treats % and _ as LIKE wildcards, case-insensitively, and \\ as an escape", () => {
    assert.ok(likeMatch("PrismQ.%", "prismq.IdeaInspiration.YouTube.Video"));
    assert.ok(likeMatch("a_c", "abc"));
    assert.ok(!likeMatch("a\\_c", "abc"));
    assert.ok(likeMatch("a\\_c", "a_c"));
    assert.ok(!likeMatch("Other.%", "PrismQ.X"));
    assert.ok(likeMatch("x.y", "x.y"));
    assert.ok(!likeMatch("x.y", "xzy"));
    assert.ok(likeMatch("%", ""));
    assert.ok(likeMatch("%%", "abc"));
    assert.ok(!likeMatch("_", ""));
    assert.ok(likeMatch("a%\\%", "abc%"));
    assert.ok(!likeMatch("a%\\%", "abc"));
    assert.ok(likeMatch("a\\\\b", "a\\b"));
    assert.ok(likeMatch("%.Video", "PrismQ.IdeaInspiration.YouTube.VIDEO"));
    assert.ok(!likeMatch("ab%ba", "aba"), "the anchored first and last segments may not overlap");
  });

  it("agrees with the textbook dynamic program on 20,000 generated patterns and names", () => {
    const rand = prng(20260412);
    const pick = (s: string) => s[Math.floor(rand() * s.length)] as string;
    for (let n = 0; n < 20_000; n++) {
      let pattern = "";
      for (let i = Math.floor(rand() * 9); i > 0; i--) {
        const c = pick("aAb%%__\\.");
        pattern += c === "\\" ? `\\${pick("a%_\\")}` : c;
      }
      let text = "";
      for (let i = Math.floor(rand() * 9); i > 0; i--) text += pick("aAbB%_.\\");
      assert.equal(likeMatch(pattern, text), reference(pattern, text), `pattern ${JSON.stringify(pattern)} on ${JSON.stringify(text)}`);
    }
  });

  it("refuses a pattern that ends in a lone escape, and names why", () => {
    for (const bad of ["\\", "a\\", "%\\", "a\\\\\\"]) {
      assert.match(likeProblem(bad) ?? "", /must not end with a lone escape character/, bad);
      assert.throws(() => compileLike(bad), RangeError);
    }
    for (const good of ["a\\\\", "\\%", "a%", "a\\_"]) assert.equal(likeProblem(good), undefined, good);
  });

  it("answers a claim with a hostile type_pattern (120 '%_' pairs and more) without blocking: 404 No available tasks", async () => {
    // Each of these made the old RegExp-based matcher backtrack for longer than the age of the
    // universe. The claims run in a worker thread with a generous deadline, so a blocking matcher
    // fails this test instead of hanging it; the deadline is a hang guard, not a speed target.
    const name = `Like.Victim_${"a".repeat(200)}`;
    const patterns = [`${"%_".repeat(120)}X`, `${"%a".repeat(127)}X`, `${"_%".repeat(127)}`.slice(0, 254) + "X", `%${"a%".repeat(126)}X`];
    for (const p of patterns) assert.ok(p.length <= 255, `${p.length}`);
    // tsx's loader is registered inside the worker: Node 20 does not pass `--import` hooks on to workers.
    const entry = new URL("./hostile-claim.worker.ts", import.meta.url).href;
    const boot = `import("tsx/esm/api").then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`;
    const worker = new Worker(boot, { eval: true, workerData: { name, patterns } });
    const answers: Array<{ pattern: string; status: number; error: string | null }> = [];
    const done = new Promise<void>((resolve, reject) => {
      worker.on("message", (m: (typeof answers)[number]) => answers.push(m));
      worker.on("error", reject);
      worker.on("exit", () => resolve());
    });
    const deadline = new Promise<"deadline">((resolve) => setTimeout(() => resolve("deadline"), 60_000).unref());
    const outcome = await Promise.race([done.then(() => "done" as const), deadline]);
    if (outcome === "deadline") await worker.terminate();
    assert.equal(outcome, "done", `blocked: only ${answers.length} of ${patterns.length} claims answered before the deadline`);
    assert.deepEqual(
      answers,
      patterns.map((pattern) => ({ pattern, status: 404, error: "No available tasks" })),
    );
  });
});
