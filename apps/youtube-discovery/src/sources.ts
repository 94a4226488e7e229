import { z } from "zod";
import { YouTube, type YouTubeChannelParams, type YouTubeMostPopularParams, type YouTubeSearchParams } from "@prismq/task-types";
import { readDocument, scheduleOf, throwIfProblems, type ScheduleSpec } from "@prismq/worker-kit";

/** One configured source: what to discover and when. */
export type Source = { id: string; schedule: ScheduleSpec } & (
  | { kind: "channel"; params: YouTubeChannelParams }
  | { kind: "search"; params: YouTubeSearchParams }
  | { kind: "most_popular"; params: YouTubeMostPopularParams }
);

const WHAT = "YouTube sources";
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

const slug = (s: string) => s.replace(/[^A-Za-z0-9_.:@-]+/g, "_").slice(0, 80);

/**
 * Parses a sources document (already read from JSON or YAML). Every entry is
 * checked (shape, then the task type's own schema, then its schedule), and one
 * `SourcesError` names every bad entry: a bad file starts nothing.
 */
export function parseSources(doc: unknown): Source[] {
  const top = file.safeParse(doc);
  const problems: string[] = [];
  if (!top.success) throwIfProblems(WHAT, ["sources: the file must be an object with a `sources` list"]);
  const out: Source[] = [];
  const ids = new Set<string>();
  (top.data?.sources ?? []).forEach((raw, i) => {
    const where = `sources[${i}]`;
    const r = entry.safeParse(raw);
    if (!r.success) {
      for (const issue of r.error.issues) problems.push(`${where}${issue.path.length ? `.${issue.path.join(".")}` : ""}: ${issue.message}`);
      return;
    }
    const e = r.data;
    try {
      const base =
        e.kind === "channel"
          ? { kind: e.kind, id: e.id ?? `channel:${slug(e.channel)}`, params: YouTube.Channel.params({ channel_id: e.channel, max_videos: e.max_videos }) }
          : e.kind === "search"
            ? { kind: e.kind, id: e.id ?? `search:${slug(e.query)}`, params: YouTube.Search.params({ query: e.query, max_results: e.max_results, published_after: e.published_after }) }
            : { kind: e.kind, id: e.id ?? `most_popular:${e.region}:${e.category ?? "all"}`, params: YouTube.MostPopular.params({ region_code: e.region, category_id: e.category, max_results: e.max_results }) };
      if (ids.has(base.id)) problems.push(`${where}: id "${base.id}" is used twice`);
      ids.add(base.id);
      out.push({ ...base, schedule: scheduleOf(base.id, e, where, problems) } as Source);
    } catch (err) {
      for (const d of (err as { details?: string[] }).details ?? [err instanceof Error ? err.message : String(err)]) problems.push(`${where}: ${d}`);
    }
  });
  throwIfProblems(WHAT, problems);
  return out;
}

/** Reads and parses a sources file: `.yaml`/`.yml` as YAML, anything else as JSON. */
export async function loadSources(path: string): Promise<Source[]> {
  return parseSources(await readDocument(path, WHAT));
}
