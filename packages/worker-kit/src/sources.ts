import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
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
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new SourcesError(`${what}: ${path} is not valid ${yaml ? "YAML" : "JSON"}: ${(err as Error).message}`, [`${path}: syntax`]);
  }
}

/** Throws one {@link SourcesError} listing `problems`, when there are any. */
export function throwIfProblems(what: string, problems: string[]): void {
  if (problems.length) throw new SourcesError(`${what}: ${problems.length} problem(s):\n  - ${problems.join("\n  - ")}`, problems);
}
