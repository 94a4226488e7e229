import { z } from "zod";
import { badRequest } from "./errors.js";

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
const typePattern = z.string().regex(TYPE_PATTERN, "may only hold A-Z, a-z, 0-9, '.', '_', '-', '%' and '\\'");

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

const workerId = z.string().trim().min(1).max(255);

export const registerBody = z.object({
  name: typeName,
  version: z.union([z.string(), z.number()]).transform(String).pipe(z.string().trim().min(1).max(64)),
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
});

export const progressBody = z.object({
  worker_id: workerId,
  progress: intLike(0, 100),
  message: z.string().max(4096).nullish(),
});

export const completeBody = z.object({
  worker_id: workerId,
  success: z.union([z.boolean(), z.literal(0).transform(() => false), z.literal(1).transform(() => true)]),
  result: z.unknown().optional(),
  error: z.union([z.string(), z.number().transform(String)]).nullish(),
  /** Additive: `false` fails the task for good at once, whatever attempts are left. */
  retryable: z.boolean().optional(),
});

/** Longest operator `reason` or `error`, in characters. */
export const MAX_OPERATOR_TEXT = 2000;

/** `POST /tasks/{id}/requeue` (operator). */
export const requeueBody = z.object({
  reason: z.string().max(MAX_OPERATOR_TEXT).nullish(),
});

/** `POST /tasks/{id}/fail` (operator). */
export const failBody = z.object({
  error: z.string().trim().min(1).max(MAX_OPERATOR_TEXT),
});

export const listQuery = z.object({
  status: z.enum(["pending", "claimed", "completed", "failed"]).optional(),
  type: typePattern.optional(),
  limit: intLike(1, 1000).default(50),
  offset: intLike(0, 1_000_000_000).default(0),
});

export const activeOnlyQuery = z.object({
  active_only: z.enum(["true", "false", "1", "0"]).optional(),
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
