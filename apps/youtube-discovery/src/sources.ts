import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { YouTube, type YouTubeChannelParams, type YouTubeMostPopularParams, type YouTubeSearchParams } from "@prismq/task-types";
import { checkSchedule, type ScheduleSpec } from "@prismq/worker-kit";

/** One configured source: what to discover and when. */
export type Source = { id: string; schedule: ScheduleSpec } & (
  | { kind: "channel"; params: YouTubeChannelParams }
  | { kind: "search"; params: YouTubeSearchParams }
  | { kind: "most_popular"; params: YouTubeMostPopularParams }
);

/** A bad sources file; `problems` names each bad entry and field. */
export class SourcesError extends Error {
  readonly code = "YT_ERR_SOURCES";
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

/** `"90s"`, `"10m"`, `"2h"`, `"1d"` or a number of seconds, in ms. */
export function durationMs(v: string | number): number | null {
  if (typeof v === "number") return Number.isFinite(v) && v > 0 ? Math.round(v * 1000) : null;
  const m = DURATION.exec(v.trim());
  return m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : null;
}

const when = {
  id: z.string().regex(/^[A-Za-z0-9_.:@-]{1,100}$/, "must be 1-100 of letters, digits and _.:@-").optional(),
  every: z.union([z.string(), z.number()]).optional(),
  cron: z.string().optional(),
  time_zone: z.string().optional(),
};
const entry = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("channel"), channel: z.string(), max_videos: z.number().int().optional(), ...when }),
  z.strictObject({ kind: z.literal("search"), query: z.string(), max_results: z.number().int().optional(), published_after: z.string().optional(), ...when }),
  z.strictObject({ kind: z.literal("most_popular"), region: z.string(), category: z.string().optional(), max_results: z.number().int().optional(), ...when }),
]);
const file = z.strictObject({ sources: z.array(z.unknown()) });

/** The default interval of a source without `every` or `cron`. */
export const DEFAULT_EVERY_MS = 15 * 60_000;

/**
 * Parses a sources document (already read from JSON or YAML). Every entry is
 * checked (shape, then the task type's own schema), and one {@link SourcesError}
 * names every bad entry: a bad file starts nothing.
 */
export function parseSources(doc: unknown): Source[] {
  const top = file.safeParse(doc);
  if (!top.success) throw new SourcesError("YouTube sources: the file must be an object with a `sources` list", ["sources: missing or not a list"]);
  const problems: string[] = [];
  const out: Source[] = [];
  const ids = new Set<string>();
  top.data.sources.forEach((raw, i) => {
    const where = `sources[${i}]`;
    const r = entry.safeParse(raw);
    if (!r.success) {
      for (const issue of r.error.issues) problems.push(`${where}${issue.path.length ? `.${issue.path.join(".")}` : ""}: ${issue.message}`);
      return;
    }
    const e = r.data;
    let source: Source;
    try {
      if (e.kind === "channel") {
        source = { kind: "channel", id: e.id ?? `channel:${e.channel}`, schedule: { id: "" }, params: YouTube.Channel.params({ channel_id: e.channel, max_videos: e.max_videos }) };
      } else if (e.kind === "search") {
        const params = YouTube.Search.params({ query: e.query, max_results: e.max_results, published_after: e.published_after });
        source = { kind: "search", id: e.id ?? `search:${e.query.replace(/[^A-Za-z0-9_.:@-]+/g, "_").slice(0, 80)}`, schedule: { id: "" }, params };
      } else {
        const params = YouTube.MostPopular.params({ region_code: e.region, category_id: e.category, max_results: e.max_results });
        source = { kind: "most_popular", id: e.id ?? `most_popular:${e.region}:${e.category ?? "all"}`, schedule: { id: "" }, params };
      }
    } catch (err) {
      const details = (err as { details?: string[] }).details ?? [err instanceof Error ? err.message : String(err)];
      for (const d of details) problems.push(`${where}: ${d}`);
      return;
    }
    if (e.every !== undefined && e.cron !== undefined) problems.push(`${where}: give every or cron, not both`);
    const every = e.every === undefined ? (e.cron ? undefined : DEFAULT_EVERY_MS) : durationMs(e.every);
    if (every === null) problems.push(`${where}.every: must be like "90s", "10m", "2h", "1d" or a number of seconds`);
    else if (every !== undefined && every < 1_000) problems.push(`${where}.every: must be at least 1s`);
    if (ids.has(source.id)) problems.push(`${where}: id "${source.id}" is used twice`);
    ids.add(source.id);
    source.schedule = every !== undefined && every !== null ? { id: source.id, everyMs: every } : { id: source.id, pattern: e.cron, timeZone: e.time_zone };
    try {
      checkSchedule(source.schedule);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
    out.push(source);
  });
  if (problems.length) throw new SourcesError(`YouTube sources: ${problems.length} problem(s):\n  - ${problems.join("\n  - ")}`, problems);
  return out;
}

/** Reads and parses a sources file: `.yaml`/`.yml` as YAML, anything else as JSON. */
export async function loadSources(path: string): Promise<Source[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new SourcesError(`YouTube sources: cannot read ${path}: ${(err as Error).message}`, [`${path}: unreadable`]);
  }
  let doc: unknown;
  try {
    doc = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new SourcesError(`YouTube sources: ${path} is not valid ${/\.ya?ml$/i.test(path) ? "YAML" : "JSON"}: ${(err as Error).message}`, [`${path}: syntax`]);
  }
  return parseSources(doc);
}
