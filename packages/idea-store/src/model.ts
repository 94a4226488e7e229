import { z } from "zod";
import { invalid } from "./errors.js";

/** Where an idea's content came from, by medium. */
export type SourceType = "text" | "video" | "audio" | "unknown";

/** The accepted {@link SourceType} values. */
export const SOURCE_TYPES = ["text", "video", "audio", "unknown"] as const satisfies readonly SourceType[];

/** Any value JSON can carry (what `metadata` holds). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A stored idea, as every read returns it. Timestamps are ISO 8601 strings in UTC with millisecond precision. */
export interface IdeaInspiration {
  /** Store-assigned id, stable across updates of the same source item. */
  id: number;
  title: string;
  description: string;
  content: string;
  keywords: string[];
  sourceType: SourceType;
  metadata: Record<string, JsonValue>;
  sourceId: string;
  sourceUrl: string | null;
  sourcePlatform: string;
  sourceCreatedBy: string | null;
  sourceCreatedAt: string | null;
  score: number | null;
  category: string | null;
  subcategoryRelevance: Record<string, number>;
  contextualCategoryScores: Record<string, number>;
  /** When the source item was first stored; never changes afterwards. */
  createdAt: string;
  /** When the idea was last written; never moves backwards. */
  updatedAt: string;
}

/** Ordering of {@link IdeaFilter.orderBy}; always descending (nulls last), ties broken by newest id. */
export type IdeaOrder = "score" | "created" | "updated" | "source_created";

/** Which timestamp {@link IdeaFilter.since} and {@link IdeaFilter.until} compare. */
export type IdeaTimeField = "created" | "updated" | "source_created";

/** Selects ideas for {@link IdeaStore.query} and {@link IdeaStore.count}; every field is optional and they combine with AND. */
export interface IdeaFilter {
  /** Only this `sourcePlatform`. @defaultValue any platform */
  platform?: string;
  /** Only this category; `null` selects ideas without a category. @defaultValue any category */
  category?: string | null;
  /** Score (0 to 100) at least this (inclusive); unscored ideas never match a score bound. @defaultValue no bound */
  minScore?: number;
  /** Score (0 to 100) at most this (inclusive). @defaultValue no bound */
  maxScore?: number;
  /** Timestamp (see `timeField`) at or after this instant (inclusive). `Date` or ISO 8601 string. @defaultValue no bound */
  since?: Date | string;
  /** Timestamp (see `timeField`) strictly before this instant (exclusive). `Date` or ISO 8601 string. @defaultValue no bound */
  until?: Date | string;
  /** Which timestamp `since`/`until` compare. @defaultValue `"created"` */
  timeField?: IdeaTimeField;
  /** Maximum rows returned, a count from 1 to 1000. Ignored by `count`. @defaultValue 100 */
  limit?: number;
  /** Rows skipped first, a count, for paging. Ignored by `count`. @defaultValue 0 */
  offset?: number;
  /** Sort key, descending. Ignored by `count`. @defaultValue `"created"` */
  orderBy?: IdeaOrder;
}

/** Fields {@link IdeaStore.countBy} can group on. */
export type IdeaCountField = "platform" | "category";

const PLATFORM = /^[a-z0-9_-]{1,64}$/;

const typed = (kind: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? "is required" : `must be ${kind}`),
});
const noNul = (s: string) => !s.includes("\u0000");
const NUL_MESSAGE = "must not contain NUL characters";
const notBlank = (s: string) => s.trim().length > 0;

const text = () => z.string(typed("a string")).refine(noNul, NUL_MESSAGE);

const validDate = (d: Date) => !Number.isNaN(d.getTime()) && d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999;
const instant = z
  .union([z.date(), z.iso.datetime({ offset: true }), z.iso.date()], {
    error: "must be a Date or an ISO 8601 date-time with Z or an offset",
  })
  .transform((v) => (v instanceof Date ? new Date(v.getTime()) : new Date(v)))
  .refine(validDate, "must be a valid date between the years 1 and 9999");

const numberMap = () =>
  z.record(z.string(), z.number(typed("a finite number")), typed("an object of numbers")).default({});

/**
 * The zod schema behind every write: parses an {@link IdeaInput} into a normalised idea (defaults filled,
 * `sourceCreatedAt` as a `Date` or `null`). Use it to check input before handing it over; the store
 * applies it itself and throws {@link IdeaStoreError} (`IDEA_ERR_INVALID`) when it fails.
 */
export const ideaInputSchema = z.strictObject({
  /** Required, not blank, at most 1000 characters. */
  title: text()
    .refine(notBlank, "must not be empty")
    .refine((s) => s.length <= 1000, "must be at most 1000 characters"),
  /** Short description or excerpt. @defaultValue `""` */
  description: text().default(""),
  /** Full text (transcript, post body…). @defaultValue `""` */
  content: text().default(""),
  /** Keywords, strongest first. @defaultValue `[]` */
  keywords: z.array(text(), typed("an array of strings")).default([]),
  /** What the source item is: `text`, `video`, `audio` or `unknown`. @defaultValue `"unknown"` */
  sourceType: z.enum(SOURCE_TYPES, { error: `must be one of ${SOURCE_TYPES.join(", ")}` }).default("unknown"),
  /** Free-form JSON object (not an array). @defaultValue `{}` */
  metadata: z
    .record(z.string(), z.json(), typed("a JSON object"))
    .refine((m) => !JSON.stringify(m).includes("\\u0000"), NUL_MESSAGE)
    .default({}),
  /** The item's id on its platform (video id, post id). Required, not blank, at most 255 characters. */
  sourceId: text()
    .refine(notBlank, "must not be empty")
    .refine((s) => s.length <= 255, "must be at most 255 characters"),
  /** An `http:` or `https:` URL, or `null`. @defaultValue `null` */
  sourceUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL or null" }).nullable().default(null),
  /** Lowercase platform name matching `^[a-z0-9_-]{1,64}$`, e.g. `"youtube"`, `"reddit"`. Required. */
  sourcePlatform: z
    .string(typed("a string"))
    .regex(PLATFORM, 'must match ^[a-z0-9_-]{1,64}$ (lowercase, e.g. "youtube")'),
  /** Author or channel on the platform. @defaultValue `null` */
  sourceCreatedBy: text().nullable().default(null),
  /** When the item was published: a `Date` or an ISO 8601 string with `Z` or an offset (or a plain `YYYY-MM-DD`, read as UTC). @defaultValue `null` */
  sourceCreatedAt: instant.nullable().default(null),
  /** Quality score from 0 to 100 inclusive, or `null` when not scored. @defaultValue `null` */
  score: z
    .number(typed("a finite number"))
    .min(0, "must be between 0 and 100")
    .max(100, "must be between 0 and 100")
    .nullable()
    .default(null),
  /** Main category, at most 255 characters, or `null`. @defaultValue `null` */
  category: text()
    .refine((s) => s.length >= 1 && s.length <= 255, "must be 1 to 255 characters (use null for none)")
    .nullable()
    .default(null),
  /** Relevance per subcategory (finite numbers). @defaultValue `{}` */
  subcategoryRelevance: numberMap(),
  /** Score per contextual category (finite numbers). @defaultValue `{}` */
  contextualCategoryScores: numberMap(),
  // Store-managed: accepted so a fetched idea can be written back, then ignored.
  id: z.unknown().optional(),
  createdAt: z.unknown().optional(),
  updatedAt: z.unknown().optional(),
});

/**
 * An idea as a producer hands it to {@link IdeaStore.upsert}: the input type of {@link ideaInputSchema}, so
 * the type and the validation cannot disagree. Optional fields take the default shown; (`sourcePlatform`,
 * `sourceId`) identifies the source item, so writing it again updates the stored idea. The store-managed
 * fields of a fetched {@link IdeaInspiration} (`id`, `createdAt`, `updatedAt`) are accepted and ignored, so a
 * fetched idea can be changed and written back; any other unknown field is an error.
 */
export type IdeaInput = z.input<typeof ideaInputSchema>;

/** A validated idea with every default filled in. */
export type NormalizedIdea = Omit<z.output<typeof ideaInputSchema>, "id" | "createdAt" | "updatedAt">;

/** `path: message` for each issue; unknown keys are named as fields too. */
function explain(issues: z.core.$ZodIssue[], prefix: string): string[] {
  return issues.flatMap((issue) => {
    const at = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
    const base = `${prefix}${at}`.replace(/^\./, "");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => `${base ? `${base}.` : ""}${k}: is not a known field`);
    }
    return [`${base || "idea"}: ${issue.message}`];
  });
}

/** Validates one idea; throws `IDEA_ERR_INVALID` naming every bad field. */
export function parseIdea(input: unknown): NormalizedIdea {
  const r = ideaInputSchema.safeParse(input);
  if (!r.success) throw invalid("idea", explain(r.error.issues, ""));
  return strip(r.data);
}

/** Validates a batch before anything is written; problems are named `ideas[i].field`. */
export function parseIdeas(inputs: unknown): NormalizedIdea[] {
  if (!Array.isArray(inputs)) throw invalid("ideas", ["ideas: must be an array"]);
  const out: NormalizedIdea[] = [];
  const problems: string[] = [];
  inputs.forEach((input: unknown, i) => {
    const r = ideaInputSchema.safeParse(input);
    if (r.success) out.push(strip(r.data));
    else problems.push(...explain(r.error.issues, `ideas[${i}]`));
  });
  if (problems.length > 0) throw invalid("ideas", problems);
  return out;
}

function strip(data: z.output<typeof ideaInputSchema>): NormalizedIdea {
  const { id: _id, createdAt: _c, updatedAt: _u, ...idea } = data;
  return idea;
}

const filterSchema = z.strictObject({
  platform: z.string(typed("a string")).optional(),
  category: z.string(typed("a string")).nullable().optional(),
  minScore: z.number(typed("a finite number")).optional(),
  maxScore: z.number(typed("a finite number")).optional(),
  since: instant.optional(),
  until: instant.optional(),
  timeField: z.enum(["created", "updated", "source_created"], { error: "must be created, updated or source_created" }).default("created"),
  limit: z.int(typed("an integer")).min(1, "must be 1 to 1000").max(1000, "must be 1 to 1000").default(100),
  offset: z.int(typed("an integer")).min(0, "must not be negative").default(0),
  orderBy: z
    .enum(["score", "created", "updated", "source_created"], { error: "must be score, created, updated or source_created" })
    .default("created"),
});

/** A validated filter with defaults filled and instants as `Date`s. */
export type NormalizedFilter = z.output<typeof filterSchema>;

/** Validates a filter (absent means "everything"); throws `IDEA_ERR_INVALID` naming every bad field. */
export function parseFilter(filter: unknown): NormalizedFilter {
  const r = filterSchema.safeParse(filter ?? {});
  if (!r.success) throw invalid("filter", explain(r.error.issues, "filter"));
  return r.data;
}

/** Checks a `countBy` field name against the whitelist. */
export function parseCountField(field: unknown): IdeaCountField {
  if (field === "platform" || field === "category") return field;
  throw invalid("countBy field", [`field: must be platform or category, got ${JSON.stringify(field)}`]);
}

/** Checks the (platform, sourceId) pair of a lookup. */
export function parseKey(platform: unknown, sourceId: unknown): void {
  const problems: string[] = [];
  if (typeof platform !== "string") problems.push("platform: must be a string");
  if (typeof sourceId !== "string") problems.push("sourceId: must be a string");
  if (problems.length > 0) throw invalid("lookup", problems);
}

/** Checks an id of a lookup. */
export function parseId(id: unknown): number {
  if (typeof id !== "number" || !Number.isSafeInteger(id)) throw invalid("lookup", ["id: must be an integer"]);
  return id;
}
