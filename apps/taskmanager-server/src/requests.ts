import { MAX_BATCH } from "@prismq/taskmanager-protocol";
import { z } from "zod";
import { badRequest } from "./errors.js";
import { likeProblem } from "./like.js";

/** Task type names: `[A-Za-z0-9._-]`, 1-255 long, not beginning with `api` (the hosted router cannot serve those). */
export const TYPE_NAME = /^[A-Za-z0-9._-]{1,255}$/;

/** Explains why a name is not a valid task type name, or returns undefined. */
export function typeNameProblem(name: string): string | undefined {
  if (!TYPE_NAME.test(name)) return "must be 1-255 characters of A-Z, a-z, 0-9, '.', '_' or '-'";
  if (/^api/i.test(name)) return "must not begin with 'api'";
  return undefined;
}

/** LIKE patterns over type names: name characters plus `%` (and `\\` to escape `_` or `%`). */
export const TYPE_PATTERN = /^[A-Za-z0-9._%\\-]{1,255}$/;
const typePattern = z
  .string()
  .regex(TYPE_PATTERN, "may only hold A-Z, a-z, 0-9, '.', '_', '-', '%' and '\\'")
  .superRefine((v, ctx) => {
    const problem = likeProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** A NUL character, or a UTF-16 surrogate without its other half. */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why a text cannot be stored alike on every store, or undefined: PostgreSQL refuses NUL in `text`,
 * and a lone surrogate has no UTF-8 form (each store would replace it, silently and not alike).
 */
export function textProblem(v: string): string | undefined {
  const m = UNSTORABLE.exec(v);
  if (!m) return undefined;
  return m[0] === "\u0000" ? "must not contain NUL characters (\\u0000)" : "must not contain unpaired UTF-16 surrogates";
}

/** A string that every store keeps exactly as sent: no NUL, no unpaired surrogate. */
const text = () =>
  z.string().superRefine((v, ctx) => {
    const problem = textProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const typeName = z.string().superRefine((v, ctx) => {
  const problem = typeNameProblem(v);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** A whole number, also when sent as a string of digits (the hosted service sends ids as strings). */
const intLike = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && /^-?\d{1,16}$/.test(v) ? Number(v) : v),
    z.number().int().min(min).max(max),
  );

const workerId = text().trim().min(1).max(255);

export const registerBody = z.object({
  name: typeName,
  version: z.union([z.string(), z.number()]).transform(String).pipe(text().trim().min(1).max(64)),
  param_schema: z.unknown(),
});

export const createBody = z.object({
  type: typeName,
  params: z.unknown(),
  priority: intLike(-2_147_483_648, 2_147_483_647).optional(),
});

export const claimBody = z.object({
  worker_id: workerId,
  task_type_id: intLike(1, Number.MAX_SAFE_INTEGER),
  type_pattern: typePattern.optional(),
  sort_by: z.enum(["created_at", "priority", "id", "attempts"]).default("created_at"),
  sort_order: z
    .string()
    .transform((s) => s.toUpperCase())
    .pipe(z.enum(["ASC", "DESC"]))
    .default("ASC"),
  /** Additive: claim up to this many tasks, answered as `{items, count}`. Without it, the single answer. */
  limit: z
    .unknown()
    .optional()
    .superRefine((v, ctx) => {
      if (v !== undefined && !(typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= MAX_BATCH)) {
        ctx.addIssue({ code: "custom", message: `must be a whole number from 1 to ${MAX_BATCH}` });
      }
    })
    .transform((v) => v as number | undefined),
});

export const progressBody = z.object({
  worker_id: workerId,
  progress: intLike(0, 100),
  message: text().max(4096).nullish(),
});

export const completeBody = z.object({
  worker_id: workerId,
  success: z.union([z.boolean(), z.literal(0).transform(() => false), z.literal(1).transform(() => true)]),
  result: z.unknown().optional(),
  error: z.union([text(), z.number().transform(String)]).nullish(),
  /** Additive: `false` fails the task for good at once, whatever attempts are left. */
  retryable: z.boolean().optional(),
});

/** One item of `POST /tasks/settle`: what a single complete's body says, for task `id`. */
const settleItem = z.object({
  id: intLike(1, Number.MAX_SAFE_INTEGER),
  status: z.enum(["completed", "failed"]),
  result: z.unknown().optional(),
  error: z.union([text(), z.number().transform(String)]).nullish(),
  retryable: z.boolean().optional(),
});

/** `POST /tasks/settle` (additive): 1-100 completes or fails by one worker, each task at most once. */
export const settleBody = z.object({
  worker_id: workerId,
  items: z
    .array(settleItem)
    .min(1, `must hold 1 to ${MAX_BATCH} items`)
    .max(MAX_BATCH, `must hold 1 to ${MAX_BATCH} items`)
    .superRefine((items, ctx) => {
      const seen = new Set<number>();
      for (const [i, item] of items.entries()) {
        if (seen.has(item.id)) ctx.addIssue({ code: "custom", path: [i, "id"], message: `task ${item.id} is listed more than once` });
        seen.add(item.id);
      }
    }),
});

/** Longest operator `reason` or `error`, in characters. */
export const MAX_OPERATOR_TEXT = 2000;

/** `POST /tasks/{id}/requeue` (operator). */
export const requeueBody = z.object({
  reason: text().max(MAX_OPERATOR_TEXT).nullish(),
});

/** `POST /tasks/{id}/fail` (operator). */
export const failBody = z.object({
  error: text().trim().min(1).max(MAX_OPERATOR_TEXT),
});

export const listQuery = z.object({
  status: z.enum(["pending", "claimed", "completed", "failed"]).optional(),
  type: typePattern.optional(),
  limit: intLike(1, 1000).default(50),
  offset: intLike(0, 1_000_000_000).default(0),
});

/** `GET /task-types`: a page of types by name (default 50, at most 1000), optionally only active ones. */
export const typeListQuery = z.object({
  active_only: z.enum(["true", "false", "1", "0"]).optional(),
  limit: intLike(1, 1000).default(50),
  offset: intLike(0, 1_000_000_000).default(0),
});

/** Parses with a zod schema; a failure is a 400 `Validation failed` whose `details` name each field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const details = r.error.issues.map((i) => {
    const field = i.path.join(".") || "body";
    if (i.code === "invalid_type" && i.message.endsWith("received undefined")) return `${field}: is required`;
    return `${field}: ${i.message}`;
  });
  throw badRequest("Validation failed", details);
}

/** A positive integer id from a path segment, or a 400. */
export function pathId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1) throw badRequest(`Invalid task id: must be a positive integer`);
  return Number(raw);
}
