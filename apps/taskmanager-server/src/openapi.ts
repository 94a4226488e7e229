/**
 * The OpenAPI 3.1 description of this server, served at `/api/openapi.json`.
 * It describes what this server really answers, envelope included.
 */
const envelope = (data: object) => ({
  type: "object",
  required: ["success", "message", "data", "timestamp"],
  properties: {
    success: { const: true },
    message: { type: "string", example: "Success" },
    data,
    timestamp: { type: "integer", description: "Unix seconds" },
  },
});

const list = (item: object) => ({
  type: "object",
  required: ["items", "count"],
  properties: { items: { type: "array", items: item }, count: { type: "integer" } },
});

const ok = (description: string, data: object) => ({
  description,
  content: { "application/json": { schema: envelope(data) } },
});

const err = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

const body = (schema: object) => ({ required: true, content: { "application/json": { schema } } });

const idParam = { name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 } };
const time = { type: ["string", "null"], description: "UTC, YYYY-MM-DD HH:MM:SS" };

const taskSummary = {
  type: "object",
  properties: {
    id: { type: "integer" },
    type: { type: "string" },
    status: { enum: ["pending", "claimed", "completed", "failed"] },
    priority: { type: "integer" },
    progress: { type: "integer" },
    attempts: { type: "integer" },
    claimed_by: { type: ["string", "null"] },
    created_at: time,
    completed_at: time,
  },
};

const task = {
  type: "object",
  properties: {
    ...taskSummary.properties,
    params: { type: "object" },
    result: {},
    error_message: { type: ["string", "null"] },
    claimed_at: time,
    progress_message: { type: ["string", "null"] },
    updated_at: time,
    dedupe_key: { type: "string" },
  },
};

const taskType = {
  type: "object",
  properties: {
    id: { type: "integer" },
    name: { type: "string", pattern: "^[A-Za-z0-9._-]{1,255}$" },
    version: { type: "string" },
    param_schema: { type: "object" },
    is_active: { enum: [0, 1] },
    created_at: time,
    updated_at: time,
  },
};

const workerId = { type: "string", minLength: 1, maxLength: 255 };
const claimedTask = {
  type: "object",
  properties: { id: { type: "integer" }, type: { type: "string" }, params: { type: "object" }, attempts: { type: "integer" }, priority: { type: "integer" } },
};
const count = { type: "integer", minimum: 0 };
const counts = { type: "object", additionalProperties: count };

const stats = {
  type: "object",
  required: ["tasks", "workers", "workersTotal", "recentFailures", "failuresTotal", "throughput", "ideas"],
  properties: {
    tasks: {
      type: "object",
      required: ["total", "byTypeStatus"],
      properties: {
        total: count,
        byTypeStatus: {
          type: "array",
          description: "One entry per type and status that has tasks, by type then status",
          items: { type: "object", required: ["type", "status", "count"], properties: { type: { type: "string" }, status: taskSummary.properties.status, count } },
        },
      },
    },
    workers: {
      type: "array",
      maxItems: 50,
      description: "The 50 workers holding the most claimed tasks (by claimed_by), most first, ties by worker id in code point order",
      items: {
        type: "object",
        required: ["worker_id", "claimed", "task_ids"],
        properties: { worker_id: { type: "string" }, claimed: count, task_ids: { type: "array", maxItems: 20, items: { type: "integer" }, description: "Lowest ids first, at most 20" } },
      },
    },
    workersTotal: { ...count, description: "Every worker holding a claimed task, listed or not" },
    failuresTotal: { ...count, description: "Every failed task, listed or not" },
    recentFailures: {
      type: "array",
      maxItems: 20,
      description: "The 20 most recently failed tasks (final failures), newest first",
      items: {
        type: "object",
        required: ["id", "type", "error_message", "attempts", "completed_at"],
        properties: { id: { type: "integer" }, type: { type: "string" }, error_message: { type: ["string", "null"] }, attempts: count, completed_at: time },
      },
    },
    throughput: {
      type: "array",
      minItems: 60,
      maxItems: 60,
      description: "The last 60 minutes (UTC), oldest first, the current minute last; from the task history. failed counts final failures only",
      items: {
        type: "object",
        required: ["minute", "created", "completed", "failed"],
        properties: { minute: { type: "string", description: "UTC, YYYY-MM-DD HH:MM" }, created: count, completed: count, failed: count },
      },
    },
    ideas: {
      oneOf: [
        { type: "null", description: "The server has no idea store (IDEA_DATABASE_URL unset)" },
        { type: "object", required: ["total", "byPlatform", "byCategory"], properties: { total: count, byPlatform: counts, byCategory: { ...counts, description: "Ideas without a category count as `uncategorized`" } } },
      ],
    },
  },
};

const operatorAnswer = (status: string) => ({
  type: "object",
  properties: { id: { type: "integer" }, status: { const: status }, message: { type: "string" } },
});

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "PrismQ TaskManager API",
    version: "1.0.0",
    description:
      "Wire-compatible self-hosted TaskManager. Success is HTTP 200 with the envelope; errors carry `success:false` and `error`. " +
      "401 and 413 use the plain shape `{error, message, timestamp}`.",
  },
  servers: [{ url: "/api" }],
  security: [{ ApiKey: [] }],
  components: {
    securitySchemes: { ApiKey: { type: "apiKey", in: "header", name: "X-API-Key" } },
    schemas: {
      Error: {
        type: "object",
        required: ["success", "error", "timestamp"],
        properties: {
          success: { const: false },
          error: { type: "string" },
          details: { type: "array", items: { type: "string" } },
          timestamp: { type: "integer" },
        },
      },
    },
  },
  paths: {
    "/health": {
      get: {
        summary: "Liveness and database check (no key needed)",
        security: [],
        responses: {
          200: ok("Healthy", { type: "object", properties: { status: { const: "healthy" }, timestamp: { type: "integer" }, database: { const: "connected" }, storage: { enum: ["sqlite", "postgres"] }, capabilities: { type: "array", items: { enum: ["claim-batch", "settle-batch"] }, description: "Additions beyond the hosted contract this server offers" } } }),
          503: err("The database does not answer"),
        },
      },
    },
    "/task-types/register": {
      post: {
        summary: "Register or update a task type (upsert by name; re-activates it)",
        requestBody: body({
          type: "object",
          required: ["name", "version", "param_schema"],
          properties: { name: { type: "string" }, version: { type: "string" }, param_schema: { type: "object", description: "JSON Schema with a `type`" } },
        }),
        responses: {
          200: ok("Created (`created:true`) or updated (`updated:true`)", { type: "object", properties: { id: { type: "integer" }, name: { type: "string" }, version: { type: "string" }, created: { const: true }, updated: { const: true } } }),
          400: err("Missing fields, bad name, or an invalid JSON Schema"),
        },
      },
    },
    "/task-types": {
      get: {
        summary: "List task types, a page at a time",
        parameters: [
          { name: "active_only", in: "query", schema: { enum: ["true", "false", "1", "0"] } },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 50 } },
          { name: "offset", in: "query", schema: { type: "integer", minimum: 0, default: 0 } },
        ],
        responses: { 200: ok("Types, by name; count is the rows in this page", list(taskType)), 400: err("Bad limit, offset or active_only") },
      },
    },
    "/task-types/{name}": {
      get: {
        summary: "One task type by name",
        parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
        responses: { 200: ok("The type, wrapped in items", list(taskType)), 400: err("Invalid name"), 404: err("Task type not found") },
      },
    },
    "/tasks": {
      post: {
        summary: "Create a task (deduplicated on type and params)",
        requestBody: body({
          type: "object",
          required: ["type", "params"],
          properties: { type: { type: "string" }, params: { type: "object", minProperties: 1 }, priority: { type: "integer", description: "Higher first; default 0" } },
        }),
        responses: {
          200: ok("New task, or the existing one with `deduplicated:true`", {
            type: "object",
            properties: { id: { type: "integer" }, type: { type: "string" }, status: { type: "string" }, dedupe_key: { type: "string" }, deduplicated: { const: true }, message: { type: "string" } },
          }),
          400: err("Validation failed, or params break the type's schema"),
          404: err("Task type not found"),
        },
      },
      get: {
        summary: "List tasks, newest first",
        parameters: [
          { name: "status", in: "query", schema: { enum: ["pending", "claimed", "completed", "failed"] } },
          { name: "type", in: "query", schema: { type: "string" }, description: "Exact name, or a LIKE pattern when it holds %" },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 1000, default: 50 } },
          { name: "offset", in: "query", schema: { type: "integer", minimum: 0, default: 0 } },
        ],
        responses: { 200: ok("One page; count is the number of items in it", list(taskSummary)), 400: err("Bad filter") },
      },
    },
    "/tasks/{id}": {
      get: { summary: "One task", parameters: [idParam], responses: { 200: ok("The task, wrapped in items", list(task)), 404: err("Task not found") } },
    },
    "/tasks/{id}/history": {
      get: {
        summary: "A task's audit trail, oldest first",
        parameters: [idParam],
        responses: {
          200: ok("History rows", list({ type: "object", properties: { id: { type: "integer" }, task_id: { type: "integer" }, status_change: { type: "string" }, worker_id: { type: ["string", "null"] }, message: { type: ["string", "null"] }, created_at: time } })),
          404: err("Task not found"),
        },
      },
    },
    "/tasks/claim": {
      post: {
        summary: "Claim the next task of a type",
        requestBody: body({
          type: "object",
          required: ["worker_id", "task_type_id"],
          properties: {
            worker_id: workerId,
            task_type_id: { type: "integer", minimum: 1 },
            type_pattern: { type: "string", description: "LIKE pattern the type's name must match" },
            sort_by: { enum: ["created_at", "priority", "id", "attempts"], default: "created_at" },
            sort_order: { enum: ["ASC", "DESC"], default: "ASC" },
            limit: { type: "integer", minimum: 1, maximum: 100, description: "Additive (capability claim-batch): claim up to this many tasks, answered as {items, count}; none waiting is an empty list" },
          },
        }),
        responses: {
          200: ok("The claimed task; with limit, {items, count} of claimed tasks", {
            oneOf: [{ type: "object", properties: { ...claimedTask.properties, message: { type: "string" } } }, list(claimedTask)],
          }),
          400: err("Validation failed"),
          404: err("No available tasks, or Task type not found"),
        },
      },
    },
    "/tasks/settle": {
      post: {
        summary: "Additive (capability settle-batch): complete or fail up to 100 claimed tasks, each on its own, with one answer per item",
        requestBody: body({
          type: "object",
          required: ["worker_id", "items"],
          properties: {
            worker_id: workerId,
            items: {
              type: "array",
              minItems: 1,
              maxItems: 100,
              description: "Each task id at most once",
              items: {
                type: "object",
                required: ["id", "status"],
                properties: {
                  id: { type: "integer", minimum: 1 },
                  status: { enum: ["completed", "failed"] },
                  result: { description: "With completed" },
                  error: { type: "string", description: "With failed" },
                  retryable: { type: "boolean", description: "false: fail for good now" },
                },
              },
            },
          },
        }),
        responses: {
          200: ok(
            "One answer per item, in order: the status the single complete would answer, or the HTTP status and error it would have answered (404 Task not found, 400 Task is not in claimed state, 403 Task is claimed by another worker)",
            list({
              oneOf: [
                { type: "object", required: ["id", "ok", "status"], properties: { id: { type: "integer" }, ok: { const: true }, status: { enum: ["completed", "failed", "pending (retry)"] } } },
                { type: "object", required: ["id", "ok", "http_status", "error"], properties: { id: { type: "integer" }, ok: { const: false }, http_status: { enum: [400, 403, 404] }, error: { type: "string" } } },
              ],
            }),
          ),
          400: err("Validation failed (the whole request: nothing is settled)"),
          413: err("Body larger than the server's body limit"),
        },
      },
    },
    "/tasks/{id}/progress": {
      post: {
        summary: "Report progress; also renews the claim (heartbeat)",
        parameters: [idParam],
        requestBody: body({ type: "object", required: ["worker_id", "progress"], properties: { worker_id: workerId, progress: { type: "integer", minimum: 0, maximum: 100 }, message: { type: "string" } } }),
        responses: {
          200: ok("Recorded", { type: "object", properties: { id: { type: "integer" }, progress: { type: "integer" }, message: { type: "string" } } }),
          400: err("Validation failed, or Task is not in claimed state"),
          403: err("Task is claimed by another worker"),
          404: err("Task not found"),
        },
      },
    },
    "/tasks/{id}/complete": {
      post: {
        summary: "Complete (success) or fail a claimed task; a failure with attempts left returns it to pending",
        parameters: [idParam],
        requestBody: body({ type: "object", required: ["worker_id", "success"], properties: { worker_id: workerId, success: { type: "boolean" }, result: {}, error: { type: "string" }, retryable: { type: "boolean", description: "false: fail for good now (additive)" } } }),
        responses: {
          200: ok("Settled", { type: "object", properties: { id: { type: "integer" }, status: { enum: ["completed", "failed", "pending (retry)"] }, message: { type: "string" } } }),
          400: err("Validation failed, or Task is not in claimed state"),
          403: err("Task is claimed by another worker"),
          404: err("Task not found"),
        },
      },
    },
    "/tasks/{id}/requeue": {
      post: {
        summary: "Operator (this server only): put a claimed or failed task back to pending; attempts unchanged, claim cleared",
        parameters: [idParam],
        requestBody: body({ type: "object", properties: { reason: { type: "string", maxLength: 2000, description: "Written to the history (worker_id `operator`)" } } }),
        responses: {
          200: ok("Requeued", operatorAnswer("pending")),
          400: err("Validation failed, Task is completed, or Task is not in a state that can be requeued (pending)"),
          404: err("Task not found"),
        },
      },
    },
    "/tasks/{id}/fail": {
      post: {
        summary: "Operator (this server only): fail a pending or claimed task for good",
        parameters: [idParam],
        requestBody: body({ type: "object", required: ["error"], properties: { error: { type: "string", minLength: 1, maxLength: 2000, description: "Stored as error_message and written to the history" } } }),
        responses: {
          200: ok("Failed", operatorAnswer("failed")),
          400: err("Validation failed, Task is completed, or Task is already failed"),
          404: err("Task not found"),
        },
      },
    },
    "/stats": {
      get: {
        summary: "Counts for operators and the dashboard: tasks by type and status, workers, recent failures, throughput, ideas",
        responses: { 200: ok("One consistent snapshot", stats) },
      },
    },
    "/dashboard": {
      get: {
        summary: "Operator dashboard (HTML; no key to load it, the page asks for the key and polls /stats)",
        security: [],
        responses: { 200: { description: "The page", content: { "text/html": { schema: { type: "string" } } } } },
      },
    },
  },
} as const;
