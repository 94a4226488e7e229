/**
 * Schema bounds benchmark: what the schema probes cost now, and the worst schema and
 * params we could build that still pass the bounds, beside a plain schema (the reference), all
 * in one run with the server's own `SchemaCache` (in process: the compile and validate are
 * synchronous, so their time is the time the event loop is blocked). One cache, warmed up once
 * (the meta-schema); every round registers a new copy of the schema (its `title` differs), so
 * nothing is answered from the cache. Prints a Markdown table.
 *
 *   pnpm bench:schemas        (or: pnpm build && pnpm exec tsx bench/schema-limits.ts)
 */
import { SCHEMA_LIMITS, SchemaCache } from "@prismq/taskmanager-server";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

interface Case {
  what: string;
  schema: object;
  params?: object;
}

const chain = (depth: number) => {
  const defs: Record<string, object> = {};
  for (let n = 0; n < depth; n++) defs[`d${n}`] = { allOf: [{ $ref: `#/$defs/d${n + 1}` }, { $ref: `#/$defs/d${n + 1}` }] };
  defs[`d${depth}`] = { type: "integer" };
  return { type: "object", $defs: defs, properties: { n: { $ref: "#/$defs/d0" } } };
};
const props = (count: number, make: (k: number) => object) => Object.fromEntries(Array.from({ length: count }, (_, k) => [`p${k}`, make(k)]));
/** The most params text that fits under the 64 KiB cap in one string. */
const longString = (unit: string) => unit.repeat(Math.floor((64 * 1024 - 32) / unit.length));

const cases: Case[] = [
  { what: "reference: 2 properties, tiny params", schema: { type: "object", properties: { n: { type: "integer" }, tag: { type: "string", maxLength: 50 } } }, params: { n: 1, tag: "x" } },
  { what: "probe: $async schema", schema: { $async: true, type: "object", properties: { a: { type: "string", maxLength: 3 } } } },
  { what: "probe: pattern ^(a+)+$, 29 a + !", schema: { type: "object", properties: { s: { type: "string", pattern: "^(a+)+$" } } }, params: { s: `${"a".repeat(29)}!` } },
  { what: "pattern ^(a+)+$, 64 KiB of a + !", schema: { type: "object", properties: { s: { type: "string", pattern: "^(a+)+$" } } }, params: { s: `${longString("a")}!` } },
  { what: "probe: $defs chain 29 deep", schema: chain(29), params: { n: 1 } },
  { what: "$defs chain 10 deep (accepted, near the expansion bound)", schema: chain(10), params: { n: 1 } },
  { what: "probe: 24k pattern properties", schema: { type: "object", properties: props(24_000, (k) => ({ pattern: `^[a-z]+${k}$` })) } },
  {
    what: `${SCHEMA_LIMITS.maxPatterns} patterns, ${SCHEMA_LIMITS.maxSubschemas} subschemas (accepted)`,
    schema: { type: "object", properties: props(SCHEMA_LIMITS.maxSubschemas - 1, (k) => (k < SCHEMA_LIMITS.maxPatterns ? { type: "string", pattern: `^[a-z]{1,4}${k}$` } : { type: "integer" })) },
    params: { p0: "abc0" },
  },
  {
    what: "worst regex within bounds: 64 KiB string",
    schema: { type: "object", properties: { s: { type: "string", pattern: `[ab]*a[ab]{${Math.floor((SCHEMA_LIMITS.maxPatternProgram - 20) / 3)}}$` } } },
    params: { s: longString("ab") },
  },
  {
    what: "uniqueItems over 1,000 objects (array cap)",
    schema: { type: "object", properties: { a: { type: "array", uniqueItems: true } } },
    params: { a: Array.from({ length: 1000 }, (_, k) => ({ k: "x".repeat(40), n: k })) },
  },
];

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const cache = new SchemaCache();
cache.check({ type: "object", title: "warm-up" });
const rows: string[] = [];
let reference = 0;
for (const c of cases) {
  const checks: number[] = [];
  const validations: number[] = [];
  let outcome = "";
  for (let r = 0; r < ROUNDS; r++) {
    let text = "";
    const schema = { ...c.schema, title: `round ${r} of ${c.what}` };
    checks.push(
      time(() => {
        try {
          text = cache.check(schema);
          outcome = "accepted";
        } catch (err) {
          outcome = `refused: ${(err as Error).message.replace(/^Invalid param_schema: /, "").slice(0, 70)}`;
        }
      }),
    );
    if (text && c.params) {
      validations.push(
        time(() => {
          try {
            cache.validate(text, c.params);
          } catch {
            // A 400 is as good an answer as a 200 here; only its cost is measured.
          }
        }),
      );
    }
  }
  const v = validations.length ? median(validations) : undefined;
  if (rows.length === 0) reference = v ?? 0;
  const ratio = v === undefined || reference === 0 ? "" : `${Math.round(v / reference)}x`;
  rows.push(`| ${c.what} | ${(JSON.stringify(c.schema).length / 1024).toFixed(1)} | ${median(checks).toFixed(2)} | ${v === undefined ? "-" : v.toFixed(3)} | ${ratio} | ${outcome.replace(/\|/g, "\\|")} |`);
}

console.log(`\n### Schema bounds (${ROUNDS} rounds, medians)\n`);
console.log("| case | schema KiB | register check ms | validate params ms | validate vs reference | outcome |");
console.log("|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
