import { readFile } from "node:fs/promises";
import { yaml as loadYaml } from "./lazy.js";
import { z } from "zod";
import { checkSchedule, type ScheduleSpec } from "./schedules.js";

/** A bad sources file: `problems` names each bad entry and field. */
export class SourcesError extends Error {
  readonly code = "KIT_ERR_SOURCES";
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
    this.name = "SourcesError";
  }
}

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `"90s"`, `"10m"`, `"2h"`, `"1d"` or a number of seconds, in ms; `null` when it is none of these. */
export function durationMs(v: string | number): number | null {
  if (typeof v === "number") return Number.isFinite(v) && v > 0 ? Math.round(v * 1000) : null;
  const m = DURATION.exec(v.trim());
  return m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : null;
}

/** When a source runs, as written in a sources file. */
export interface WhenFields {
  every?: string | number;
  cron?: string;
  time_zone?: string;
}

/**
 * The schedule of source `id` from its `every` or `cron` (default: every
 * `defaultEveryMs`). Problems are pushed to `problems`, prefixed with `where`.
 */
export function scheduleOf(id: string, when: WhenFields, where: string, problems: string[], defaultEveryMs = 15 * 60_000): ScheduleSpec {
  if (when.every !== undefined && when.cron !== undefined) problems.push(`${where}: give every or cron, not both`);
  let spec: ScheduleSpec;
  if (when.cron !== undefined && when.every === undefined) spec = { id, pattern: when.cron, timeZone: when.time_zone };
  else {
    const every = when.every === undefined ? defaultEveryMs : durationMs(when.every);
    if (every === null) problems.push(`${where}.every: must be like "90s", "10m", "2h", "1d" or a number of seconds`);
    else if (every < 1_000) problems.push(`${where}.every: must be at least 1s`);
    spec = { id, everyMs: every ?? defaultEveryMs };
  }
  try {
    checkSchedule(spec);
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`);
  }
  return spec;
}

/** Reads a config document: `.yaml`/`.yml` as YAML, anything else as JSON. Throws {@link SourcesError}. */
export async function readDocument(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new SourcesError(`${what}: cannot read ${path}: ${(err as Error).message}`, [`${path}: unreadable`]);
  }
  const yaml = /\.ya?ml$/i.test(path);
  try {
    return yaml ? loadYaml().parse(text) : JSON.parse(text);
  } catch (err) {
    throw new SourcesError(`${what}: ${path} is not valid ${yaml ? "YAML" : "JSON"}: ${(err as Error).message}`, [`${path}: syntax`]);
  }
}

/** Throws one {@link SourcesError} listing `problems`, when there are any. */
export function throwIfProblems(what: string, problems: string[]): void {
  if (problems.length) throw new SourcesError(`${what}: ${problems.length} problem(s):\n  - ${problems.join("\n  - ")}`, problems);
}

/** The fields every source entry may carry (id, schedule, priority), for an app's entry schemas. */
export const sourceWhen = {
  id: z.string().regex(/^[A-Za-z0-9_.:@-]{1,100}$/, "must be 1-100 of letters, digits and _.:@-").optional(),
  priority: z.number().int("must be an integer").optional(),
  every: z.union([z.string(), z.number()]).optional(),
  cron: z.string().optional(),
  time_zone: z.string().optional(),
};

/** A name part for a default source id: runs of other characters become `_`. */
export const sourceSlug = (s: string): string => s.replace(/[^A-Za-z0-9_.:@-]+/g, "_").slice(0, 80);

/** ` (got "x")` for a bad scalar value at `path` of an entry, clipped; "" when there is none to show. */
function given(raw: unknown, path: PropertyKey[]): string {
  let v: unknown = raw;
  for (const key of path) v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") return "";
  const text = JSON.stringify(v);
  return ` (got ${text.length > 60 ? `${text.slice(0, 57)}...` : text})`;
}

/**
 * Parses a sources document `{ sources: [...] }`: each entry is checked with
 * `entry`, then turned into a source by `build` (which may throw an error with
 * `details`, such as a task type's params error), then scheduled. Ids must be
 * unique. One {@link SourcesError} names every problem, so a bad file starts
 * nothing. An entry's `priority` (an integer, higher claimed first where the
 * server supports it) is kept on its source; without one the source has none.
 */
export function parseSourceList<E extends WhenFields & { priority?: number }, S extends { id: string }>(
  what: string,
  doc: unknown,
  entry: z.ZodType<E>,
  build: (e: E) => S,
): Array<S & { schedule: ScheduleSpec; priority?: number }> {
  const top = z.strictObject({ sources: z.array(z.unknown()) }).safeParse(doc);
  if (!top.success) throwIfProblems(what, ["sources: the file must be an object with a `sources` list"]);
  const problems: string[] = [];
  const out: Array<S & { schedule: ScheduleSpec; priority?: number }> = [];
  const ids = new Set<string>();
  (top.data?.sources ?? []).forEach((raw, i) => {
    const where = `sources[${i}]`;
    const r = entry.safeParse(raw);
    if (!r.success) {
      for (const issue of r.error.issues) problems.push(`${where}${issue.path.length ? `.${issue.path.join(".")}` : ""}: ${issue.message}${given(raw, issue.path)}`);
      return;
    }
    try {
      const source = build(r.data);
      if (ids.has(source.id)) problems.push(`${where}: id "${source.id}" is used twice`);
      ids.add(source.id);
      const schedule = scheduleOf(source.id, r.data, where, problems);
      out.push(r.data.priority === undefined ? { ...source, schedule } : { ...source, schedule, priority: r.data.priority });
    } catch (err) {
      for (const d of (err as { details?: string[] }).details ?? [err instanceof Error ? err.message : String(err)]) problems.push(`${where}: ${d}`);
    }
  });
  throwIfProblems(what, problems);
  return out;
}
