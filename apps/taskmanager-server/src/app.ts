import type { Socket } from "node:net";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from "fastify";
import type { Logger } from "pino";
import { createKeyCheck, isReservedWorkerId, keyFingerprint, RESERVED_WORKER_IDS, requiredScope, sameJson, scopeAllows, WORKER_ID_ROUTES, type KeyScope } from "./auth.js";
import { dashboardHeaders, dashboardHtml } from "./dashboard.js";
import {
  CAPABILITIES,
  WIRE_ERRORS,
  dedupeKeyOfJson,
  errorEnvelope,
  paramsJson,
  successEnvelope,
  type SettleBatchAnswer,
  type SettleItemAnswer,
} from "@prismq/taskmanager-protocol";
import { ApiError, badRequest, notFound } from "./errors.js";
import { historyBody, statsBody, taskBody, taskSummaryBody, taskTypeBody, unixNow, type IdeaCounts } from "./format.js";
import { compileLike } from "./like.js";
import { ServerMetrics, installMetrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import {
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
  settleBody,
  typeListQuery,
  typeNameProblem,
} from "./requests.js";
import { MAX_PARAM_ARRAY_ITEMS, oversizedParamArray, SchemaCache, warnRefusedStoredTypes } from "./schemas.js";
import type { ClaimedTask, CompleteOutcome, OperatorOutcome, Store } from "./store/types.js";
import { RefusalBudget } from "./throttle.js";

/** What the stats read from an idea store; `@prismq/idea-store`'s `IdeaStore` has it. */
export interface IdeaCountSource {
  count(): Promise<number>;
  countBy(field: "platform" | "category"): Promise<Record<string, number>>;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The scope of the request's API key; `undefined` on the open paths. */
    keyScope?: KeyScope;
    /** The request's API key, on POSTs that carry a valid one: what the refusal budget counts by. */
    apiKey?: string;
    /** Characters of body the server read and parsed (0 when it read none). */
    bodyChars?: number;
  }
}

/** What the HTTP layer needs; `index.ts` builds it from the environment, tests build it directly. */
export interface AppOptions {
  store: Store;
  /** Keys with every right (env `API_KEYS`), the same as `operatorApiKeys`. */
  apiKeys: readonly string[];
  /** Keys that may only read (every GET). Default none. */
  readApiKeys?: readonly string[];
  /** Keys for workers: reads, create, claim, progress, complete, register of a new type or version. Default none. */
  workerApiKeys?: readonly string[];
  /** Keys with every right, including requeue, fail and a changed schema at the same version. Default none. */
  operatorApiKeys?: readonly string[];
  /** Most time a client may take to send a whole request, in ms; then 408 and the connection closes. Default 30000. */
  requestTimeoutMs?: number;
  /** Most time a client may take to send a request's headers, in ms; at most `requestTimeoutMs`. Default 10000. */
  headersTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open, in ms. Default 10000. */
  keepAliveTimeoutMs?: number;
  /** Most open client connections; further ones are closed at once. Default 1000. */
  maxConnections?: number;
  /**
   * Refused POSTs (400 or 413) a key may have per second, a refused body counting one more per
   * 16 KiB the server read, before its POSTs get 429 with `Retry-After`, unread; 0 turns this off. Default {@link DEFAULT_REFUSED_PER_SECOND}.
   */
  refusedPerSecond?: number;
  /** Refused POSTs a key may have at once, before `refusedPerSecond` applies. Default {@link DEFAULT_REFUSED_BURST}. */
  refusedBurst?: number;
  logger: Logger;
  /** Seconds before a claim may be taken over. Default 300. */
  claimTimeoutSeconds?: number;
  /**
   * Claims a task may have. Default 3. A failure reported on the last one is final; a last claim
   * that times out fails the task for good at the next claim of its type (`claim timed out N times`).
   */
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
/** Failed tasks listed in the stats (`failuresTotal` counts them all). */
export const STATS_FAILURES = 20;
/** Workers listed in the stats, those holding the most claimed tasks (`workersTotal` counts them all). */
export const STATS_WORKERS = 50;

/** Type names matched against a `GET /tasks` LIKE pattern before the event loop gets a turn. */
const LIKE_NAMES_PER_SLICE = 64;

/** Largest `params` or `result`, as compact JSON. */
export const MAX_JSON_FIELD_BYTES = 64 * 1024;
/** Deepest nesting accepted in a request body. */
export const MAX_JSON_DEPTH = 64;

/** Defaults of the connection limits; see {@link AppOptions}. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_CONNECTIONS = 1000;
/** Defaults of the refusal budget; see {@link AppOptions}. */
export const DEFAULT_REFUSED_PER_SECOND = 10;
export const DEFAULT_REFUSED_BURST = 20;

/** What this server offers beyond the hosted contract, listed in `GET /health` as `capabilities`. */
export const SERVER_CAPABILITIES: readonly string[] = Object.freeze([CAPABILITIES.claimBatch, CAPABILITIES.settleBatch]);

const OPEN_PATHS = new Set(["/api/health", "/api/openapi.json", "/api/docs", "/api/dashboard"]);

const ok = successEnvelope;

/** The 401/413/429 answer shape of the hosted service (not the envelope). */
const plainError = (error: string, message: string) => ({ error, message, timestamp: new Date().toISOString() });

/**
 * How deep `text` nests objects and arrays, read from the text before it is parsed: one pass over
 * the characters, stopping as soon as `limit` is passed, so a deep or large body costs no more than
 * reading it once (walking the parsed value allocated an entry per array item).
 * Brackets inside strings do not count. Meant for text about to be parsed as JSON: for text that is
 * not JSON the answer is only an estimate, and the parse refuses it anyway.
 */
export function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return max;
}

/**
 * Largest body of a route whose request carries one JSON field of up to {@link MAX_JSON_FIELD_BYTES}
 * (register's schema, create's params, complete's result): four times the field, room for the same
 * JSON pretty-printed. A larger body cannot be a valid request, so it is refused (413) from its
 * `Content-Length`, before it is read or parsed. `BODY_LIMIT_BYTES` lowers it.
 */
export const LARGE_BODY_BYTES = 4 * MAX_JSON_FIELD_BYTES;
/** Largest body of every other POST route: its fields are short texts and numbers (4,096 characters at most each). */
export const SMALL_BODY_BYTES = 64 * 1024;

function jsonField(name: string, value: unknown): string {
  const text = paramsJson(value);
  if (Buffer.byteLength(text) > MAX_JSON_FIELD_BYTES) {
    throw badRequest(`${name} is too large: at most ${MAX_JSON_FIELD_BYTES} bytes of JSON`);
  }
  return text;
}

/**
 * The stored fields of a complete or fail, checked as the single complete checks them (`field`
 * names them in the 400, e.g. `items.3.result`). A non-retryable failure is final: as if no
 * attempts were left.
 */
function settleFields(
  body: { success: boolean; result?: unknown; error?: string | null; retryable?: boolean },
  maxAttempts: number,
  field = "",
): { success: boolean; result: string | null; error: string | null; maxAttempts: number } {
  const result = body.result === undefined || body.result === null ? null : jsonField(`${field}result`, body.result);
  const error = body.error ?? null;
  if (error !== null && Buffer.byteLength(error) > MAX_JSON_FIELD_BYTES) {
    throw badRequest(`${field}error is too large: at most ${MAX_JSON_FIELD_BYTES} bytes`);
  }
  return { success: body.success, result, error, maxAttempts: body.retryable === false ? 0 : maxAttempts };
}

/** The wire form of a claimed task, as both claim answers carry it. */
const claimedBody = (t: ClaimedTask, type: string) => ({ id: t.id, type, params: JSON.parse(t.params) as unknown, attempts: t.attempts, priority: t.priority });

/** Builds the Fastify app that serves the TaskManager API under `/api`. */
export function buildApp(options: AppOptions): FastifyInstance {
  const { store, logger } = options;
  const claimTimeoutMs = (options.claimTimeoutSeconds ?? 300) * 1000;
  const maxAttempts = options.maxAttempts ?? 3;
  const now = options.now ?? Date.now;
  const keyScope = createKeyCheck({
    full: options.apiKeys,
    read: options.readApiKeys,
    worker: options.workerApiKeys,
    operator: options.operatorApiKeys,
  });
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headersTimeout = Math.min(options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout);
  const schemas = new SchemaCache();
  const serverBodyLimit = options.bodyLimitBytes ?? 1024 * 1024;
  // Type names never change for an id (register upserts by name), so this cache never goes stale.
  const typeNames = new Map<number, string>();

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request would cost more than the request itself at thousands per second.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: serverBodyLimit,
    return503OnClosing: true,
    forceCloseConnections: true,
    requestTimeout,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    http: {
      headersTimeout,
      // Node checks the two timeouts on this interval (default 30 s): a few checks per timeout keep the cut-off close to it.
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    clientErrorHandler: (err: Error & { code?: string }, socket: Socket) => clientError(err, socket),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 300 },
    // Errors Fastify raises before routing (a path that is not valid percent-encoded UTF-8) get the envelope too.
    frameworkErrors: (err, _req, reply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
      const error = err.code === "FST_ERR_BAD_URL" ? "Invalid URL: not valid percent-encoded UTF-8" : "Bad request";
      // The reply is typed for the route generics; this one answers before any route.
      void (reply as unknown as FastifyReply).code(status).send(errorEnvelope(error));
    },
  });

  // Types stored by an older server whose schema this one refuses: kept, listed once at start.
  app.addHook("onReady", () => warnRefusedStoredTypes(store, schemas, logger));

  // Fastify calls this once per connection, and the socket is destroyed here: one log line per cut-off client.
  function clientError(err: Error & { code?: string }, socket: Socket): void {
    if (err.code === "ECONNRESET" || socket.destroyed) return;
    let head: string;
    let body: string;
    if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
      logger.warn(
        { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, headersTimeoutMs: headersTimeout, requestTimeoutMs: requestTimeout },
        "slow client: request not received in time, connection closed",
      );
      head = "408 Request Timeout";
      body = JSON.stringify(plainError("Request Timeout", "The request was not received in time"));
    } else if (err.code === "HPE_HEADER_OVERFLOW") {
      head = "431 Request Header Fields Too Large";
      body = JSON.stringify(plainError("Request Header Fields Too Large", "Request headers are too large"));
    } else {
      head = "400 Bad Request";
      body = JSON.stringify(plainError("Bad Request", "Malformed HTTP request"));
    }
    if (socket.writable) {
      socket.write(`HTTP/1.1 ${head}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
    socket.destroy();
  }

  app.server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  // A flood of refused connections is logged as one line per second with its count, not one line each.
  let dropped = 0;
  let dropTimer: NodeJS.Timeout | undefined;
  app.server.on("drop", () => {
    dropped++;
    if (dropTimer) return;
    logger.warn({ maxConnections: app.server.maxConnections }, "connection refused: at the connection cap");
    dropped = 0;
    dropTimer = setTimeout(() => {
      dropTimer = undefined;
      if (dropped > 0) logger.warn({ maxConnections: app.server.maxConnections, dropped }, "connections refused in the last second: at the connection cap");
      dropped = 0;
    }, 1000);
    dropTimer.unref();
  });
  app.addHook("onClose", async () => clearTimeout(dropTimer));

  app.decorateRequest("keyScope", undefined);
  app.decorateRequest("apiKey", undefined);
  app.decorateRequest("bodyChars", 0);

  const refusedPerSecond = options.refusedPerSecond ?? DEFAULT_REFUSED_PER_SECOND;
  const refusals = new RefusalBudget({
    perSecond: refusedPerSecond,
    burst: Math.max(1, options.refusedBurst ?? DEFAULT_REFUSED_BURST),
    now,
  });
  // One line when a key runs out, none for each request it then sends.
  const throttledKeys = new Set<string>();
  app.addHook("onResponse", async (req, reply) => {
    if (req.method !== "POST" || req.apiKey === undefined) return;
    if (reply.statusCode === 400 || reply.statusCode === 413) refusals.charge(req.apiKey, req.bodyChars);
    else if (reply.statusCode !== 429) throttledKeys.delete(req.apiKey);
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
    const scope = keyScope(req.headers["x-api-key"] as string | undefined);
    if (!scope) {
      reply.code(401).send(plainError("Unauthorized", "Invalid or missing API key. Send it in the X-API-Key header."));
      return reply;
    }
    req.keyScope = scope;
    const route = req.routeOptions.url;
    const need = requiredScope(req.method, route);
    if (!scopeAllows(scope, need)) throw forbidden(scope, need, `${req.method} ${route ?? path}`);
    if (req.method !== "POST") return;
    const key = req.headers["x-api-key"] as string;
    req.apiKey = key;
    const throttled = refusals.check(key);
    if (!throttled) return;
    if (!throttledKeys.has(key)) {
      throttledKeys.add(key);
      logger.warn(
        { key: keyFingerprint(key), refusedPerSecond, remoteAddress: req.ip },
        "key throttled: too many refused requests; its POSTs get 429 until its budget refills",
      );
    }
    // The body is not read: closing the connection after the answer spares the server receiving
    // the rest of it, and a client that keeps pressing pays a new connection for each try.
    reply
      .code(429)
      .header("Connection", "close")
      .header("Retry-After", String(throttled.retryAfterSeconds))
      .header("X-RateLimit-Limit", String(refusals.limit))
      .header("X-RateLimit-Remaining", "0")
      .header("X-RateLimit-Reset", String(throttled.resetAt))
      .send({
        ...plainError("Too Many Requests", `Too many refused requests from this key: wait ${throttled.retryAfterSeconds} s, and fix what the 400 answers said`),
        retry_after: throttled.retryAfterSeconds,
      });
    return reply;
  });

  app.addHook("preValidation", async (req) => {
    if (req.method !== "POST") return;
    const raw = req.body;
    if (typeof raw !== "string" || raw.length === 0) throw badRequest("Invalid JSON in request body");
    req.bodyChars = raw.length;
    // Before the parse: a deep body is refused for the price of reading it once.
    if (nestingDepth(raw, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      throw badRequest(`Invalid JSON in request body: nested deeper than ${MAX_JSON_DEPTH} levels`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw badRequest("Invalid JSON in request body");
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw badRequest("Invalid JSON in request body: expected a JSON object");
    }
    req.body = parsed;
  });

  // After the body is parsed, before any handler: the server's own history names are not for workers.
  app.addHook("preHandler", async (req) => {
    if (req.method !== "POST" || !WORKER_ID_ROUTES.has(req.routeOptions.url ?? "")) return;
    const workerId = (req.body as Record<string, unknown>).worker_id;
    if (typeof workerId === "string" && isReservedWorkerId(workerId)) {
      throw badRequest("Validation failed", [`worker_id: is reserved for the server's own history rows (${RESERVED_WORKER_IDS.join(", ")}); choose another`]);
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof ApiError) {
      return reply.code(err.status).send(errorEnvelope(err.error, err.details));
    }
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.code(413).send(plainError("Payload Too Large", `Request body exceeds ${req.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit} bytes`));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send(errorEnvelope(err.message));
    }
    req.log.error({ err, method: req.method, url: req.url }, "request failed");
    return reply.code(500).send(errorEnvelope("Internal server error"));
  });

  const metrics = options.metrics === false ? undefined : (options.metrics ?? new ServerMetrics(store));
  if (metrics) installMetrics(app, metrics);

  app.setNotFoundHandler((_req, reply) => {
    reply.code(404).send(errorEnvelope(WIRE_ERRORS.endpointNotFound));
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

  /**
   * The type ids a `GET /tasks` `type` filter selects: `undefined` (every type) without one; the one
   * type of that exact name when it holds no `%`, as on the hosted service; otherwise every type
   * whose name matches the LIKE pattern, matched here in linear time, never by the database.
   */
  const typeIdsFor = async (type: string | undefined): Promise<number[] | undefined> => {
    if (type === undefined) return undefined;
    if (!type.includes("%")) {
      const row = await store.getTaskType(type);
      return row ? [row.id] : [];
    }
    const like = compileLike(type);
    const ids: number[] = [];
    const names = await store.taskTypeNames();
    for (let i = 0; i < names.length; i++) {
      // A name costs at most name x pattern steps (~0.2 ms for the worst 255-character pair):
      // yield between slices, so that thousands of type names never hold up other requests.
      if (i > 0 && i % LIKE_NAMES_PER_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const t = names[i] as { id: number; name: string };
      if (like.test(t.name)) ids.push(t.id);
    }
    return ids;
  };

  const checkName = (name: string) => {
    const problem = typeNameProblem(name);
    if (problem) throw badRequest(`Invalid task type name: ${problem}`);
  };

  // Per-route body caps, under the server-wide one.
  const large = { bodyLimit: Math.min(serverBodyLimit, LARGE_BODY_BYTES) };
  const small = { bodyLimit: Math.min(serverBodyLimit, SMALL_BODY_BYTES) };
  // A batch settle carries up to 100 results: it may use the whole server-wide cap.
  const whole = { bodyLimit: serverBodyLimit };

  app.register(
    async (api) => {
      api.get("/health", async (_req, reply) => {
        try {
          await store.ping();
        } catch (err) {
          logger.error({ err }, "health check: database unreachable");
          return reply.code(503).send(errorEnvelope("Database unavailable"));
        }
        return ok({ status: "healthy", timestamp: unixNow(), database: "connected", storage: store.kind, capabilities: SERVER_CAPABILITIES });
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
          store.stats({ since: firstMinute * 60_000, tasksPerWorker: STATS_TASKS_PER_WORKER, failures: STATS_FAILURES, workers: STATS_WORKERS }),
          ideaCounts(),
        ]);
        return ok(statsBody(rows, firstMinute, STATS_MINUTES, ideas));
      });

      api.post("/task-types/register", large, async (req) => {
        const body = parse(registerBody, req.body);
        const schemaText = schemas.check(body.param_schema);
        if (req.keyScope !== "operator") {
          // A worker may add a type or a version; changing what a version means is the operator's call.
          const stored = await store.getTaskType(body.name);
          if (stored && stored.version === body.version && !sameJson(stored.paramSchema, schemaText)) {
            throw forbidden(req.keyScope ?? "read", "operator", "changing the schema of an existing type at the same version");
          }
        }
        const r = await store.registerTaskType({ name: body.name, version: body.version, paramSchema: schemaText, now: now() });
        typeNames.set(r.id, body.name);
        const flag = r.created ? { created: true } : { updated: true };
        return ok({ id: r.id, name: body.name, version: body.version, ...flag });
      });

      api.get("/task-types", async (req) => {
        const q = parse(typeListQuery, req.query);
        const activeOnly = q.active_only === "true" || q.active_only === "1";
        const rows = await store.listTaskTypes({ activeOnly, limit: q.limit, offset: q.offset });
        return ok({ items: rows.map(taskTypeBody), count: rows.length });
      });

      api.get<{ Params: { name: string } }>("/task-types/:name", async (req) => {
        checkName(req.params.name);
        const row = await store.getTaskType(req.params.name);
        if (!row) throw notFound(WIRE_ERRORS.taskTypeNotFound);
        return ok({ items: [taskTypeBody(row)], count: 1 });
      });

      api.post("/tasks", large, async (req) => {
        const body = parse(createBody, req.body);
        const params = body.params;
        if (params === null || typeof params !== "object" || Array.isArray(params) || Object.keys(params).length === 0) {
          throw badRequest("Validation failed", ["params: must be a non-empty JSON object"]);
        }
        // Cheap caps first: validation cost grows with the params (uniqueItems is quadratic).
        const json = jsonField("params", params);
        const long = oversizedParamArray(params);
        if (long) throw badRequest(`params is too large: ${long.path} has ${long.length} items, at most ${MAX_PARAM_ARRAY_ITEMS} per array`);
        const type = await store.getTaskType(body.type);
        if (!type) throw notFound(WIRE_ERRORS.taskTypeNotFound);
        if (!type.isActive) throw badRequest("Task type is not active");
        schemas.validate(type.paramSchema, params);
        const key = dedupeKeyOfJson(body.type, json);
        const r = await store.createTask({ typeId: type.id, params: json, dedupeKey: key, priority: body.priority ?? 0, now: now() });
        if (r.deduplicated) {
          return ok({ id: r.id, status: r.status, deduplicated: true, dedupe_key: key, message: "Task already exists (deduplicated)" });
        }
        return ok({ id: r.id, type: body.type, status: "pending", dedupe_key: key, message: "Task created successfully" });
      });

      api.get("/tasks", async (req) => {
        const q = parse(listQuery, req.query);
        const rows = await store.listTasks({ status: q.status, typeIds: await typeIdsFor(q.type), limit: q.limit, offset: q.offset });
        return ok({ items: rows.map(taskSummaryBody), count: rows.length });
      });

      api.get<{ Params: { id: string } }>("/tasks/:id", async (req) => {
        const row = await store.getTask(pathId(req.params.id));
        if (!row) throw notFound(WIRE_ERRORS.taskNotFound);
        return ok({ items: [taskBody(row)], count: 1 });
      });

      api.get<{ Params: { id: string } }>("/tasks/:id/history", async (req) => {
        const rows = await store.history(pathId(req.params.id));
        if (!rows) throw notFound(WIRE_ERRORS.taskNotFound);
        return ok({ items: rows.map(historyBody), count: rows.length });
      });

      api.post("/tasks/claim", small, async (req) => {
        const body = parse(claimBody, req.body);
        const name = await typeName(body.task_type_id);
        if (name === undefined) throw notFound(WIRE_ERRORS.taskTypeNotFound);
        const matches = !body.type_pattern || compileLike(body.type_pattern).test(name);
        const t = now();
        const input = {
          typeId: body.task_type_id,
          workerId: body.worker_id,
          sortBy: body.sort_by,
          sortOrder: body.sort_order as "ASC" | "DESC",
          now: t,
          expiredBefore: t - claimTimeoutMs,
          maxAttempts,
        };
        if (body.limit !== undefined) {
          // Additive batch claim: nothing waiting is an empty list, as any list answers it.
          const claimed = matches ? await store.claimTasks({ ...input, limit: body.limit }) : [];
          for (const c of claimed) metrics?.claimed(name, c);
          return ok({ items: claimed.map((c) => claimedBody(c, name)), count: claimed.length });
        }
        if (!matches) throw notFound(WIRE_ERRORS.noAvailableTasks);
        const claimed = await store.claimTask(input);
        if (!claimed) throw notFound(WIRE_ERRORS.noAvailableTasks);
        metrics?.claimed(name, claimed);
        return ok({ ...claimedBody(claimed, name), message: "Task claimed successfully" });
      });

      api.post<{ Params: { id: string } }>("/tasks/:id/progress", small, async (req) => {
        const id = pathId(req.params.id);
        const body = parse(progressBody, req.body);
        const r = await store.progress({ id, workerId: body.worker_id, progress: body.progress, message: body.message ?? null, now: now() });
        if (!r.ok) throw refusalError(r.refusal);
        return ok({ id, progress: body.progress, message: body.message ?? "Progress updated" });
      });

      api.post<{ Params: { id: string } }>("/tasks/:id/complete", large, async (req) => {
        const id = pathId(req.params.id);
        const body = parse(completeBody, req.body);
        const r = await store.complete({ id, workerId: body.worker_id, ...settleFields(body, maxAttempts), now: now() });
        if (!r.ok) throw refusalError(r.refusal);
        metrics?.completed(r.status);
        const message = r.status === "completed" ? "Task completed" : r.status === "failed" ? "Task failed" : "Task failed, returned to the queue for a retry";
        return ok({ id, status: r.status, message });
      });

      // Additive batch settle: each item settled on its own, answered as the single complete would answer it.
      api.post("/tasks/settle", whole, async (req) => {
        const body = parse(settleBody, req.body);
        const items = body.items.map((item, i) => ({ id: item.id, ...settleFields({ ...item, success: item.status === "completed" }, maxAttempts, `items.${i}.`) }));
        const outcomes = await store.settleMany({ workerId: body.worker_id, items, now: now() });
        const answers = outcomes.map((r: CompleteOutcome, i): SettleItemAnswer => {
          const id = items[i]?.id as number;
          if (r.ok) {
            metrics?.completed(r.status);
            return { id, ok: true, status: r.status };
          }
          const err = refusalError(r.refusal);
          return { id, ok: false, http_status: err.status, error: err.error };
        });
        const data: SettleBatchAnswer = { items: answers, count: answers.length };
        return ok(data);
      });

      api.post<{ Params: { id: string } }>("/tasks/:id/requeue", small, async (req) => {
        const id = pathId(req.params.id);
        const body = parse(requeueBody, req.body);
        const reason = body.reason?.trim() ? body.reason : null;
        const r = await store.requeue({ id, reason, now: now() });
        if (!r.ok) throw operatorRefusal(r, "requeue");
        return ok({ id, status: r.status, message: "Task requeued" });
      });

      api.post<{ Params: { id: string } }>("/tasks/:id/fail", small, async (req) => {
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

/** A 403 in the envelope: which scope the key has and which the call needs. */
function forbidden(have: KeyScope, need: KeyScope, what: string): ApiError {
  return new ApiError(403, `Forbidden: this API key's scope (${have}) does not allow this call`, [`scope: ${what} needs a key with the ${need} scope`]);
}

function refusalError(refusal: "not_found" | "not_claimed" | "other_worker"): ApiError {
  if (refusal === "not_found") return new ApiError(404, WIRE_ERRORS.taskNotFound);
  if (refusal === "not_claimed") return new ApiError(400, WIRE_ERRORS.notClaimed);
  return new ApiError(403, WIRE_ERRORS.otherWorker);
}

function operatorRefusal(r: Exclude<OperatorOutcome, { ok: true }>, action: "requeue" | "fail"): ApiError {
  if (r.refusal === "not_found") return new ApiError(404, WIRE_ERRORS.taskNotFound);
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

