import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { createKeyCheck } from "./auth.js";
import { dashboardHeaders, dashboardHtml } from "./dashboard.js";
import { paramsJson, dedupeKey } from "./dedupe.js";
import { ApiError, badRequest, notFound } from "./errors.js";
import { historyBody, statsBody, taskBody, taskSummaryBody, taskTypeBody, unixNow, type IdeaCounts } from "./format.js";
import { likeToRegExp } from "./like.js";
import { ServerMetrics, installMetrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import {
  activeOnlyQuery,
  claimBody,
  completeBody,
  createBody,
  failBody,
  listQuery,
  parse,
  pathId,
  progressBody,
  registerBody,
  requeueBody,
  typeNameProblem,
} from "./requests.js";
import { SchemaCache } from "./schemas.js";
import type { OperatorOutcome, Store } from "./store/types.js";

/** What the stats read from an idea store; `@prismq/idea-store`'s `IdeaStore` has it. */
export interface IdeaCountSource {
  count(): Promise<number>;
  countBy(field: "platform" | "category"): Promise<Record<string, number>>;
}

/** What the HTTP layer needs; `index.ts` builds it from the environment, tests build it directly. */
export interface AppOptions {
  store: Store;
  apiKeys: readonly string[];
  logger: Logger;
  /** Seconds before a claim may be taken over. Default 300. */
  claimTimeoutSeconds?: number;
  /** Claims before a failure is final. Default 3. */
  maxAttempts?: number;
  /** Largest request body in bytes. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Clock in ms; tests may move it. Default `Date.now`. */
  now?: () => number;
  /** Where `GET /api/stats` counts ideas. Default none: `ideas` is `null`. */
  ideas?: IdeaCountSource | null;
  /**
   * Prometheus metrics on `/metrics` (any valid key). Default: on, with Node's
   * default process metrics; `false` turns them off; an instance is used as given.
   */
  metrics?: ServerMetrics | false;
}

/** Minutes of throughput in the stats, ending with the current one. */
export const STATS_MINUTES = 60;
/** Task ids listed per worker in the stats. */
export const STATS_TASKS_PER_WORKER = 20;
/** Failed tasks listed in the stats. */
export const STATS_FAILURES = 20;

/** Largest `params` or `result`, as compact JSON. */
export const MAX_JSON_FIELD_BYTES = 64 * 1024;
/** Deepest nesting accepted in a request body. */
export const MAX_JSON_DEPTH = 64;

const OPEN_PATHS = new Set(["/api/health", "/api/openapi.json", "/api/docs", "/api/dashboard"]);

const ok = (data: unknown) => ({ success: true, message: "Success", data, timestamp: unixNow() });

/** The 401/413/429 answer shape of the hosted service (not the envelope). */
const plainError = (error: string, message: string) => ({ error, message, timestamp: new Date().toISOString() });

function depthOf(value: unknown, limit: number): number {
  // Iterative, so a hostile body cannot overflow the stack.
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== "object") continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

function jsonField(name: string, value: unknown): string {
  const text = paramsJson(value);
  if (Buffer.byteLength(text) > MAX_JSON_FIELD_BYTES) {
    throw badRequest(`${name} is too large: at most ${MAX_JSON_FIELD_BYTES} bytes of JSON`);
  }
  return text;
}

/** Builds the Fastify app that serves the TaskManager API under `/api`. */
export function buildApp(options: AppOptions): FastifyInstance {
  const { store, logger } = options;
  const claimTimeoutMs = (options.claimTimeoutSeconds ?? 300) * 1000;
  const maxAttempts = options.maxAttempts ?? 3;
  const now = options.now ?? Date.now;
  const keyOk = createKeyCheck(options.apiKeys);
  const schemas = new SchemaCache();
  // Type names never change for an id (register upserts by name), so this cache never goes stale.
  const typeNames = new Map<number, string>();

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request would cost more than the request itself at thousands per second.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 300 },
  });

  // Bodies are read as text whatever their Content-Type (the hosted service ignores it) and parsed here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));

  app.addHook("onRequest", async (req, reply) => {
    reply.header("Cache-Control", "no-store");
    reply.header("Access-Control-Allow-Origin", "*");
    if (req.method === "OPTIONS") {
      reply
        .header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        .header("Access-Control-Allow-Headers", "Content-Type, X-API-Key")
        .header("Access-Control-Max-Age", "86400")
        .code(204)
        .send();
      return reply;
    }
    const path = req.url.split("?", 1)[0] as string;
    if (OPEN_PATHS.has(path.replace(/\/$/, ""))) return;
    if (!keyOk(req.headers["x-api-key"] as string | undefined)) {
      reply.code(401).send(plainError("Unauthorized", "Invalid or missing API key. Send it in the X-API-Key header."));
      return reply;
    }
  });

  app.addHook("preValidation", async (req) => {
    if (req.method !== "POST") return;
    const raw = req.body;
    if (typeof raw !== "string" || raw.length === 0) throw badRequest("Invalid JSON in request body");
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw badRequest("Invalid JSON in request body");
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw badRequest("Invalid JSON in request body: expected a JSON object");
    }
    if (depthOf(parsed, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      throw badRequest(`Invalid JSON in request body: nested deeper than ${MAX_JSON_DEPTH} levels`);
    }
    req.body = parsed;
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof ApiError) {
      const body: Record<string, unknown> = { success: false, error: err.error };
      if (err.details) body.details = err.details;
      body.timestamp = unixNow();
      return reply.code(err.status).send(body);
    }
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.code(413).send(plainError("Payload Too Large", `Request body exceeds ${app.initialConfig.bodyLimit} bytes`));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ success: false, error: err.message, timestamp: unixNow() });
    }
    req.log.error({ err, method: req.method, url: req.url }, "request failed");
    return reply.code(500).send({ success: false, error: "Internal server error", timestamp: unixNow() });
  });

  const metrics = options.metrics === false ? undefined : (options.metrics ?? new ServerMetrics(store));
  if (metrics) installMetrics(app, metrics);

  app.setNotFoundHandler((_req, reply) => {
    reply.code(404).send({ success: false, error: "Endpoint not found", timestamp: unixNow() });
  });

  const typeName = async (id: number): Promise<string | undefined> => {
    let name = typeNames.get(id);
    if (name === undefined) {
      name = (await store.getTaskTypeById(id))?.name;
      if (name !== undefined) typeNames.set(id, name);
    }
    return name;
  };

  const ideaSource = options.ideas ?? null;
  const ideaCounts = async (): Promise<IdeaCounts | null> => {
    if (!ideaSource) return null;
    try {
      const [total, byPlatform, byCategory] = await Promise.all([ideaSource.count(), ideaSource.countBy("platform"), ideaSource.countBy("category")]);
      return { total, byPlatform, byCategory };
    } catch (err) {
      // The task counts are still worth answering; the log says why the ideas are missing.
      logger.error({ err }, "stats: idea store unavailable");
      return null;
    }
  };

  const checkName = (name: string) => {
    const problem = typeNameProblem(name);
    if (problem) throw badRequest(`Invalid task type name: ${problem}`);
  };

  app.register(
    async (api) => {
      api.get("/health", async (_req, reply) => {
        try {
          await store.ping();
        } catch (err) {
          logger.error({ err }, "health check: database unreachable");
          return reply.code(503).send({ success: false, error: "Database unavailable", timestamp: unixNow() });
        }
        return ok({ status: "healthy", timestamp: unixNow(), database: "connected", storage: store.kind });
      });

      api.get("/openapi.json", async () => openApiDocument);

      api.get("/docs", async (_req, reply) => {
        reply.type("text/html; charset=utf-8");
        return docsPage();
      });

      api.get("/dashboard", async (_req, reply) => {
        reply.headers(dashboardHeaders);
        return dashboardHtml;
      });

      api.get("/stats", async () => {
        const firstMinute = Math.floor(now() / 60_000) - (STATS_MINUTES - 1);
        const [rows, ideas] = await Promise.all([
          store.stats({ since: firstMinute * 60_000, tasksPerWorker: STATS_TASKS_PER_WORKER, failures: STATS_FAILURES }),
          ideaCounts(),
        ]);
        return ok(statsBody(rows, firstMinute, STATS_MINUTES, ideas));
      });

      api.post("/task-types/register", async (req) => {
        const body = parse(registerBody, req.body);
        const schemaText = schemas.check(body.param_schema);
        const r = await store.registerTaskType({ name: body.name, version: body.version, paramSchema: schemaText, now: now() });
        typeNames.set(r.id, body.name);
        const flag = r.created ? { created: true } : { updated: true };
        return ok({ id: r.id, name: body.name, version: body.version, ...flag });
      });

      api.get("/task-types", async (req) => {
        const q = parse(activeOnlyQuery, req.query);
        const rows = await store.listTaskTypes(q.active_only === "true" || q.active_only === "1");
        return ok({ items: rows.map(taskTypeBody), count: rows.length });
      });

      api.get<{ Params: { name: string } }>("/task-types/:name", async (req) => {
        checkName(req.params.name);
        const row = await store.getTaskType(req.params.name);
        if (!row) throw notFound("Task type not found");
        return ok({ items: [taskTypeBody(row)], count: 1 });
      });

      api.post("/tasks", async (req) => {
        const body = parse(createBody, req.body);
        const params = body.params;
        if (params === null || typeof params !== "object" || Array.isArray(params) || Object.keys(params).length === 0) {
          throw badRequest("Validation failed", ["params: must be a non-empty JSON object"]);
        }
        const type = await store.getTaskType(body.type);
        if (!type) throw notFound("Task type not found");
        if (!type.isActive) throw badRequest("Task type is not active");
        schemas.validate(type.paramSchema, params);
        const json = jsonField("params", params);
        const key = dedupeKey(body.type, json);
        const r = await store.createTask({ typeId: type.id, params: json, dedupeKey: key, priority: body.priority ?? 0, now: now() });
        if (r.deduplicated) {
          return ok({ id: r.id, status: r.status, deduplicated: true, dedupe_key: key, message: "Task already exists (deduplicated)" });
        }
        return ok({ id: r.id, type: body.type, status: "pending", dedupe_key: key, message: "Task created successfully" });
      });

      api.get("/tasks", async (req) => {
        const q = parse(listQuery, req.query);
        const rows = await store.listTasks({
          status: q.status,
          type: q.type,
          typeIsPattern: q.type?.includes("%") ?? false,
          limit: q.limit,
          offset: q.offset,
        });
        return ok({ items: rows.map(taskSummaryBody), count: rows.length });
      });

      api.get<{ Params: { id: string } }>("/tasks/:id", async (req) => {
        const row = await store.getTask(pathId(req.params.id));
        if (!row) throw notFound("Task not found");
        return ok({ items: [taskBody(row)], count: 1 });
      });

      api.get<{ Params: { id: string } }>("/tasks/:id/history", async (req) => {
        const rows = await store.history(pathId(req.params.id));
        if (!rows) throw notFound("Task not found");
        return ok({ items: rows.map(historyBody), count: rows.length });
      });

      api.post("/tasks/claim", async (req) => {
        const body = parse(claimBody, req.body);
        const name = await typeName(body.task_type_id);
        if (name === undefined) throw notFound("Task type not found");
        if (body.type_pattern && !likeToRegExp(body.type_pattern).test(name)) throw notFound("No available tasks");
        const t = now();
        const claimed = await store.claimTask({
          typeId: body.task_type_id,
          workerId: body.worker_id,
          sortBy: body.sort_by,
          sortOrder: body.sort_order as "ASC" | "DESC",
          now: t,
          expiredBefore: t - claimTimeoutMs,
        });
        if (!claimed) throw notFound("No available tasks");
        await metrics?.claimed(store, name, claimed).catch((err: unknown) => logger.warn({ err }, "metrics: takeover check failed"));
        return ok({
          id: claimed.id,
          type: name,
          params: JSON.parse(claimed.params) as unknown,
          attempts: claimed.attempts,
          priority: claimed.priority,
          message: "Task claimed successfully",
        });
      });

      api.post<{ Params: { id: string } }>("/tasks/:id/progress", async (req) => {
        const id = pathId(req.params.id);
        const body = parse(progressBody, req.body);
        const r = await store.progress({ id, workerId: body.worker_id, progress: body.progress, message: body.message ?? null, now: now() });
        if (!r.ok) throw refusalError(r.refusal);
        return ok({ id, progress: body.progress, message: body.message ?? "Progress updated" });
      });

      api.post<{ Params: { id: string } }>("/tasks/:id/complete", async (req) => {
        const id = pathId(req.params.id);
        const body = parse(completeBody, req.body);
        const result = body.result === undefined || body.result === null ? null : jsonField("result", body.result);
        const error = body.error ?? null;
        if (error !== null && Buffer.byteLength(error) > MAX_JSON_FIELD_BYTES) {
          throw badRequest(`error is too large: at most ${MAX_JSON_FIELD_BYTES} bytes`);
        }
        // A non-retryable failure is final: as if no attempts were left.
        const attemptsAllowed = body.retryable === false ? 0 : maxAttempts;
        const r = await store.complete({ id, workerId: body.worker_id, success: body.success, result, error, maxAttempts: attemptsAllowed, now: now() });
        if (!r.ok) throw refusalError(r.refusal);
        metrics?.completed(r.status);
        const message = r.status === "completed" ? "Task completed" : r.status === "failed" ? "Task failed" : "Task failed, returned to the queue for a retry";
        return ok({ id, status: r.status, message });
      });

      api.post<{ Params: { id: string } }>("/tasks/:id/requeue", async (req) => {
        const id = pathId(req.params.id);
        const body = parse(requeueBody, req.body);
        const reason = body.reason?.trim() ? body.reason : null;
        const r = await store.requeue({ id, reason, now: now() });
        if (!r.ok) throw operatorRefusal(r, "requeue");
        return ok({ id, status: r.status, message: "Task requeued" });
      });

      api.post<{ Params: { id: string } }>("/tasks/:id/fail", async (req) => {
        const id = pathId(req.params.id);
        const body = parse(failBody, req.body);
        const r = await store.fail({ id, error: body.error, now: now() });
        if (!r.ok) throw operatorRefusal(r, "fail");
        return ok({ id, status: r.status, message: "Task failed by operator" });
      });
    },
    { prefix: "/api" },
  );

  return app;
}

function refusalError(refusal: "not_found" | "not_claimed" | "other_worker"): ApiError {
  if (refusal === "not_found") return new ApiError(404, "Task not found");
  if (refusal === "not_claimed") return new ApiError(400, "Task is not in claimed state");
  return new ApiError(403, "Task is claimed by another worker");
}

function operatorRefusal(r: Exclude<OperatorOutcome, { ok: true }>, action: "requeue" | "fail"): ApiError {
  if (r.refusal === "not_found") return new ApiError(404, "Task not found");
  if (r.status === "completed") return new ApiError(400, "Task is completed");
  if (action === "fail") return new ApiError(400, "Task is already failed");
  return new ApiError(400, "Task is not in a state that can be requeued", [`status: ${r.status}; only claimed or failed tasks can be requeued`]);
}

function docsPage(): string {
  const rows = Object.entries(openApiDocument.paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops as Record<string, { summary?: string }>).map(
        ([method, op]) => `<tr><td><code>${method.toUpperCase()}</code></td><td><code>/api${path}</code></td><td>${op.summary ?? ""}</td></tr>`,
      ),
    )
    .join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>PrismQ TaskManager API</title></head>
<body><h1>PrismQ TaskManager API</h1><p>Machine-readable description: <a href="openapi.json">openapi.json</a>. Send the key in <code>X-API-Key</code>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What it does</th></tr></thead><tbody>${rows}</tbody></table></body></html>`;
}

