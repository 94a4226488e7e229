// The commands of `tm`: argument parsing, the calls, and their human and JSON output.
import { readFile } from "node:fs/promises";
import { isDeepStrictEqual, parseArgs } from "node:util";
import {
  ServerError,
  TaskManagerClient,
  createWorkerId,
  type HistoryEntry,
  type OperatorResult,
  type Stats,
  type TaskStatus,
  type TaskSummary,
  type TaskType,
} from "@prismq/taskmanager-client";
import { registerAll, typeByName } from "@prismq/task-types";
import { displayUrl, resolveConnection, type Connection } from "./config.js";
import { EXIT, MissingError, UsageError, describeFailure, isEndpointNotFound, operatorCall, type ExitCode, type Failure } from "./errors.js";
import { cellText, countPairs, fields, indentedJson, objectTable, oneLine, table, terminalSafe } from "./format.js";

/** Where output goes: `process.stdout`/`process.stderr`, or a buffer in tests. */
export interface Output {
  write(chunk: string): unknown;
}

/** What the commands need from outside; `cli.ts` passes the process's, tests their own. */
export interface CliDeps {
  /** Read for `TASKMANAGER_API_URL` and `TASKMANAGER_API_KEY`. */
  env: Record<string, string | undefined>;
  /** Results: human text, or one JSON document with `--json`. */
  out: Output;
  /** Errors and usage messages. */
  err: Output;
  /** Read when params are given as `-`. @defaultValue none (then `-` is a usage error) */
  stdin?: AsyncIterable<string | Uint8Array>;
  /**
   * A client to use for the typed calls instead of one built from the
   * connection settings; it must point at the same server, and it is not
   * closed here. The settings are still required (they are checked, and name the URL in output).
   * @defaultValue a client built from the connection settings
   */
  client?: TaskManagerClient;
}

const OPTIONS = {
  json: { type: "boolean" },
  url: { type: "string" },
  "key-file": { type: "string" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
  priority: { type: "string" },
  status: { type: "string" },
  type: { type: "string" },
  limit: { type: "string" },
  reason: { type: "string" },
  error: { type: "string" },
} as const;

type OptionName = keyof typeof OPTIONS;
type Values = { [K in OptionName]?: (typeof OPTIONS)[K]["type"] extends "boolean" ? boolean : string };

const GLOBAL_OPTIONS: readonly OptionName[] = ["json", "url", "key-file", "timeout", "help"];
const STATUSES: readonly TaskStatus[] = ["pending", "claimed", "completed", "failed"];

/** What a command's run gets. */
interface Context {
  client: TaskManagerClient;
  conn: Connection;
  out: Output;
  /** Warnings (human output only: with --json they go into the document). */
  err: Output;
  json: boolean;
}

interface Command<I> {
  summary: string;
  help: string;
  /** Options of its own, beyond the global ones. */
  options: readonly OptionName[];
  /** Checks the arguments and reads any input, before anything is sent. @throws {UsageError} */
  prepare(args: string[], values: Values, deps: CliDeps): Promise<I> | I;
  run(ctx: Context, input: I): Promise<void>;
}

const defineCommand = <I>(c: Command<I>): Command<unknown> => c as Command<unknown>;

// ---- helpers ---------------------------------------------------------------

function emit(ctx: Context, data: unknown, human: () => string): void {
  ctx.out.write(ctx.json ? `${JSON.stringify(data, null, 2)}\n` : human());
}

/** `POST /api/tasks/7/requeue`: a call as the server sees it, for messages. */
function endpoint(ctx: Context, method: string, path: string): string {
  return `${method} ${new URL(ctx.conn.baseUrl).pathname.replace(/\/+$/, "")}${path}`;
}

function arity(args: string[], min: number, max: number, usage: string): void {
  if (args.length < min) throw new UsageError(`missing argument: ${usage}`);
  if (args.length > max) throw new UsageError(`unexpected argument "${args[max]}": ${usage}`);
}

function positiveInt(text: string, what: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${what} must be a positive integer, got "${text}"`);
  }
  return Number(text);
}

async function readAll(stream: AsyncIterable<string | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c, "utf8") : Buffer.from(c));
  return Buffer.concat(chunks).toString("utf8");
}

/** Params from the argument: JSON text, `@file.json`, or `-` for stdin; a non-empty JSON object. */
async function readParams(arg: string, deps: CliDeps): Promise<Record<string, unknown>> {
  let text: string;
  let source: string;
  if (arg === "-") {
    if (!deps.stdin) throw new UsageError("params are `-` but there is no stdin to read");
    source = "stdin";
    text = await readAll(deps.stdin);
  } else if (arg.startsWith("@")) {
    const path = arg.slice(1);
    source = `file ${path}`;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      throw new UsageError(`cannot read the params file ${path} (${(err as { code?: string }).code ?? "unreadable"})`);
    }
  } else {
    source = "the params argument";
    text = arg;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`params are not valid JSON (${source}): ${(err as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new UsageError(`params must be a JSON object (${source}), got ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`);
  }
  if (Object.keys(value).length === 0) throw new UsageError(`params must be a non-empty JSON object (${source}): servers refuse {}`);
  return value as Record<string, unknown>;
}

/** How a registered type compares with the catalog: `same`, `differs` (run `tm register`), or null when not in it. */
function catalogState(t: TaskType): "same" | "differs" | null {
  const def = typeByName(t.name);
  if (!def) return null;
  return def.version === t.version && isDeepStrictEqual(t.paramSchema, def.schema) && t.isActive ? "same" : "differs";
}

// ---- commands ----------------------------------------------------------------

const health = defineCommand<void>({
  summary: "check that the TaskManager answers, its database is connected, and it accepts the key",
  help: `tm health [--json]

Calls GET /health (which needs no key) and prints the status, the database
state and the URL; then checks the key with one authenticated read
(GET /tasks?limit=1): a wrong key is a refusal (exit 1), not "healthy".

Example:
  tm health
  healthy  database connected  key accepted  http://127.0.0.1:8080/api
`,
  options: [],
  prepare: (args) => arity(args, 0, 0, "tm health"),
  async run(ctx) {
    const h = await ctx.client.health();
    await ctx.client.verifyKey();
    const url = displayUrl(ctx.conn.baseUrl);
    emit(ctx, { url, ...h, key: "accepted" }, () => `${cellText(h.status)}  database ${cellText(h.database)}  key accepted  ${cellText(url)}\n`);
  },
});

const register = defineCommand<void>({
  summary: "register every task type of the catalog (idempotent)",
  help: `tm register [--json]

Registers the whole task-type catalog of @prismq/task-types. A type that is
already registered, active, with the same version and schema is left alone.

Example:
  tm register
  registered  PrismQ.IdeaInspiration.YouTube.Video
  unchanged   PrismQ.IdeaInspiration.Reddit.Post
  ...
`,
  options: [],
  prepare: (args) => arity(args, 0, 0, "tm register"),
  async run(ctx) {
    const r = await registerAll(ctx.client);
    emit(ctx, r, () => {
      const rows = [...r.registered.map((name) => ({ name, outcome: "registered" })), ...r.unchanged.map((name) => ({ name, outcome: "unchanged" }))];
      return (
        table(rows, [
          { header: "outcome", cell: (x) => x.outcome },
          { header: "type", cell: (x) => x.name },
        ]) + `${rows.length} task types: ${r.registered.length} registered, ${r.unchanged.length} unchanged\n`
      );
    });
  },
});

const types = defineCommand<{ name?: string }>({
  summary: "list the registered task types, or show one with its schema",
  help: `tm types [<name>] [--json]

Without a name: every registered task type (GET /task-types) and how it
compares with the catalog ("same", "differs": run tm register, "-": not in it).
The hosted service's list endpoint is broken: name the type there.
With a name: that type and its param schema (GET /task-types/{name}).

Examples:
  tm types
  tm types PrismQ.IdeaInspiration.YouTube.Video
`,
  options: [],
  prepare(args) {
    arity(args, 0, 1, "tm types [<name>]");
    return { name: args[0] };
  },
  async run(ctx, { name }) {
    if (name === undefined) {
      let items: TaskType[];
      try {
        items = await ctx.client.listTaskTypes();
      } catch (err) {
        if (err instanceof ServerError && err.status === 500) {
          throw new ServerError(`${err.message} (the hosted service's GET /task-types always fails: use tm types <name>)`, 500, err.body, true);
        }
        throw err;
      }
      emit(ctx, { items: items.map((t) => ({ ...t, catalog: catalogState(t) })), count: items.length }, () =>
        items.length === 0
          ? "no task types registered (tm register registers the catalog)\n"
          : table(items, [
              { header: "id", cell: (t) => t.id, right: true },
              { header: "name", cell: (t) => t.name },
              { header: "version", cell: (t) => t.version },
              { header: "active", cell: (t) => (t.isActive ? "yes" : "no") },
              { header: "catalog", cell: (t) => catalogState(t) },
              { header: "updated_at", cell: (t) => t.updatedAt },
            ]),
      );
      return;
    }
    const t = await ctx.client.getTaskType(name);
    if (!t) throw new MissingError(`task type ${name} not found`);
    const catalog = catalogState(t);
    emit(ctx, { ...t, catalog }, () =>
      fields([
        ["name", t.name],
        ["id", t.id],
        ["version", t.version],
        ["active", t.isActive ? "yes" : "no"],
        ["catalog", catalog === null ? "not in the catalog" : catalog === "same" ? "same as the catalog" : `differs from the catalog (${typeByName(t.name)?.version}): run tm register`],
        ["created_at", t.createdAt],
        ["updated_at", t.updatedAt],
      ]) + `param_schema:\n${indentedJson(t.paramSchema)}`,
    );
  },
});

const create = defineCommand<{ type: string; params: Record<string, unknown>; priority?: number }>({
  summary: "create a task (params as JSON, @file.json, or - for stdin)",
  help: `tm create <type> <params-json | @file.json | -> [--priority <n>] [--json]

Creates a task. Params are JSON text, @path to a JSON file, or - to read stdin.
For a type of the catalog the params are checked locally first: a problem is
reported naming its fields, and nothing is sent. Creating the same task twice
answers the existing one (deduplicated).
--priority <n>   an integer, higher is claimed first. The task is read back: when the
                 server did not store it (the hosted service cannot), a warning says so.

Examples:
  tm create PrismQ.IdeaInspiration.YouTube.Video '{"video_id":"dQw4w9WgXcQ"}'
  tm create PrismQ.IdeaInspiration.Reddit.Subreddit @subreddit.json --priority 5
  echo '{"query":"home lab"}' | tm create PrismQ.IdeaInspiration.YouTube.Search - --json
`,
  options: ["priority"],
  async prepare(args, values, deps) {
    arity(args, 2, 2, "tm create <type> <params-json | @file.json | ->");
    const [type, paramsArg] = args as [string, string];
    let priority: number | undefined;
    if (values.priority !== undefined) {
      if (!/^-?[0-9]+$/.test(values.priority) || !Number.isSafeInteger(Number(values.priority))) {
        throw new UsageError(`--priority must be an integer, got "${values.priority}"`);
      }
      priority = Number(values.priority);
    }
    let params = await readParams(paramsArg, deps);
    const def = typeByName(type);
    // Throws TaskParamsError (exit 2) naming each bad field; the canonical params are what is sent.
    if (def) params = def.params(params) as Record<string, unknown>;
    return { type, params, priority };
  },
  async run(ctx, { type, params, priority }) {
    const r = await ctx.client.createTask(type, params, priority === undefined ? {} : { priority });
    const warning = priority === undefined ? undefined : await priorityWarning(ctx, r.id, priority, r.deduplicated);
    if (warning && !ctx.json) ctx.err.write(`tm create: warning: ${warning}\n`);
    emit(ctx, warning ? { type, ...r, warning } : { type, ...r }, () =>
      r.deduplicated
        ? `task ${cellText(r.id)} already exists (deduplicated): status ${cellText(r.status)}\n`
        : `created task ${cellText(r.id)} (${cellText(type)}): status ${cellText(r.status)}\n`,
    );
  },
});

/** Reads the task back: a warning when its priority is not the one asked for, else undefined. */
async function priorityWarning(ctx: Context, id: number, priority: number, deduplicated: boolean): Promise<string | undefined> {
  const stored = (await ctx.client.getTask(id))?.priority;
  if (stored === undefined || stored === priority) return undefined;
  if (deduplicated) return `--priority ${priority} not applied: task ${id} already existed and keeps priority ${stored}`;
  return `--priority ${priority} was not stored (the task has priority ${stored}): this TaskManager cannot set a priority (the hosted service cannot; our server can)`;
}

const tasks = defineCommand<{ status?: TaskStatus; type?: string; limit: number }>({
  summary: "list tasks, newest first",
  help: `tm tasks [--status <s>] [--type <t>] [--limit <n>] [--json]

Lists tasks, newest first: id, type, status, priority (higher is claimed first
by the priority strategy of our server; 0 on the hosted service), attempts,
claimed_by, created_at.
--status <s>   pending, claimed, completed or failed
--type <t>     an exact type name, or a LIKE pattern with % (e.g. %.YouTube.%)
--limit <n>    at most n tasks (default 50)

Examples:
  tm tasks --status failed
  tm tasks --type 'PrismQ.IdeaInspiration.Reddit.%' --limit 200 --json
`,
  options: ["status", "type", "limit"],
  prepare(args, values) {
    arity(args, 0, 0, "tm tasks [--status s] [--type t] [--limit n]");
    if (values.status !== undefined && !STATUSES.includes(values.status as TaskStatus)) {
      throw new UsageError(`--status must be one of ${STATUSES.join(", ")}, got "${values.status}"`);
    }
    if (values.type === "") throw new UsageError("--type must not be empty");
    return {
      status: values.status as TaskStatus | undefined,
      type: values.type,
      limit: values.limit === undefined ? 50 : positiveInt(values.limit, "--limit"),
    };
  },
  async run(ctx, { status, type, limit }) {
    const items: TaskSummary[] = [];
    for await (const t of ctx.client.listTasks({ status, type, pageSize: Math.min(limit, 1000) })) {
      items.push(t);
      if (items.length >= limit) break;
    }
    emit(ctx, { items, count: items.length }, () => {
      if (items.length === 0) return "no tasks\n";
      const text = table(items, [
        { header: "id", cell: (t) => t.id, right: true },
        { header: "type", cell: (t) => t.type },
        { header: "status", cell: (t) => t.status },
        { header: "priority", cell: (t) => t.priority, right: true },
        { header: "attempts", cell: (t) => t.attempts, right: true },
        { header: "claimed_by", cell: (t) => t.claimedBy },
        { header: "created_at", cell: (t) => t.createdAt },
      ]);
      return items.length >= limit ? `${text}(the newest ${limit}; --limit <n> shows more)\n` : text;
    });
  },
});

const show = defineCommand<{ id: number }>({
  summary: "show one task (params, result, error) and its history",
  help: `tm show <id> [--json]

Shows a task: its fields, params, result and error, then its history
(our server; the hosted service keeps a history but has no endpoint to read it).

Example:
  tm show 42
`,
  options: [],
  prepare(args) {
    arity(args, 1, 1, "tm show <id>");
    return { id: positiveInt(args[0] as string, "the task id") };
  },
  async run(ctx, { id }) {
    const task = await ctx.client.getTask(id);
    if (!task) throw new MissingError(`task ${id} not found`);
    let history: HistoryEntry[] | null;
    try {
      history = await ctx.client.getTaskHistory(id);
    } catch (err) {
      if (!isEndpointNotFound(err)) throw err;
      history = null;
    }
    emit(ctx, { task, history }, () => {
      let text = fields([
        ["id", task.id],
        ["type", task.type],
        ["status", task.status],
        ["priority", task.priority],
        ["progress", task.progress],
        ["attempts", task.attempts],
        ["claimed_by", task.claimedBy],
        ["claimed_at", task.claimedAt],
        ["created_at", task.createdAt],
        ["completed_at", task.completedAt],
        ["error", task.errorMessage],
      ]);
      text += `params:\n${indentedJson(task.params)}`;
      text += task.result === null ? "result: -\n" : `result:\n${indentedJson(task.result)}`;
      if (history === null) return `${text}history: not available (this TaskManager has no endpoint to read it; the hosted service keeps one without an endpoint)\n`;
      return (
        text +
        `history (${history.length}):\n` +
        table(history, [
          { header: "created_at", cell: (h) => h.createdAt },
          { header: "change", cell: (h) => h.statusChange },
          { header: "worker_id", cell: (h) => h.workerId },
          { header: "message", cell: (h) => h.message },
        ])
          .split("\n")
          .map((l) => (l ? `  ${l}` : l))
          .join("\n")
      );
    });
  },
});

const requeue = defineCommand<{ id: number; reason?: string }>({
  summary: "put a task back to pending (our server's operator endpoint)",
  help: `tm requeue <id> [--reason <text>] [--json]

Puts a task back to pending (POST /tasks/{id}/requeue), e.g. one stuck in
claimed by a dead worker, or a failed one worth another try. Our server has
this endpoint; the hosted service does not (exit 4).

Example:
  tm requeue 42 --reason "worker host was replaced"
`,
  options: ["reason"],
  prepare(args, values) {
    arity(args, 1, 1, "tm requeue <id> [--reason text]");
    return { id: positiveInt(args[0] as string, "the task id"), reason: values.reason };
  },
  async run(ctx, { id, reason }) {
    const r = await operatorCall(endpoint(ctx, "POST", `/tasks/${id}/requeue`), () => ctx.client.requeueTask(id, { reason }));
    emit(ctx, r, () => operatorLine(r));
  },
});

const fail = defineCommand<{ id: number; error: string }>({
  summary: "fail a task for good with an error text (our server's operator endpoint)",
  help: `tm fail <id> --error <text> [--json]

Fails a task for good (POST /tasks/{id}/fail): no more attempts. Our server
has this endpoint; the hosted service does not (exit 4).

Example:
  tm fail 42 --error "video was taken down; do not retry"
`,
  options: ["error"],
  prepare(args, values) {
    arity(args, 1, 1, "tm fail <id> --error <text>");
    const id = positiveInt(args[0] as string, "the task id");
    if (values.error === undefined || values.error.trim() === "") throw new UsageError("tm fail needs --error <text>: say why the task fails");
    return { id, error: values.error };
  },
  async run(ctx, { id, error }) {
    const r = await operatorCall(endpoint(ctx, "POST", `/tasks/${id}/fail`), () => ctx.client.forceFailTask(id, error));
    emit(ctx, r, () => operatorLine(r));
  },
});

/** `task 42: pending (Task requeued)`: the answer of requeue and fail. */
function operatorLine(r: OperatorResult): string {
  return `task ${cellText(r.id)}: ${cellText(r.status)}${r.message ? ` (${cellText(r.message)})` : ""}\n`;
}

function statsText(s: Stats): string {
  // One section per part of the answer, a blank line between them.
  const sections: string[] = [];
  const byTypeStatus = s.tasks?.byTypeStatus ?? [];
  let tasks = `Tasks: ${cellText(s.tasks?.total ?? 0)}\n`;
  if (byTypeStatus.length) {
    const extra = [...new Set(byTypeStatus.map((r) => r.status))].filter((x) => !STATUSES.includes(x as TaskStatus));
    const statuses = [...STATUSES, ...extra];
    const typeNames = [...new Set(byTypeStatus.map((r) => r.type))].sort();
    const count = (type: string | null, status: string | null) =>
      byTypeStatus.filter((r) => (type === null || r.type === type) && (status === null || r.status === status)).reduce((n, r) => n + Number(r.count), 0);
    tasks += table([...typeNames, null], [
      { header: "type", cell: (t) => t ?? "total" },
      ...statuses.map((st) => ({ header: st, cell: (t: string | null) => count(t, st), right: true })),
      { header: "total", cell: (t) => count(t, null), right: true },
    ]);
  }
  sections.push(tasks);

  const workers = s.workers ?? [];
  // Our server lists the workers holding the most tasks and counts all of them in workersTotal.
  const workersTotal = typeof s.workersTotal === "number" ? s.workersTotal : workers.length;
  const workersListed = workersTotal > workers.length ? ` (listed: the ${workers.length} holding the most)` : "";
  sections.push(
    `Workers holding tasks: ${workersTotal}${workersListed}\n` +
      (workers.length
        ? table(workers, [
            { header: "worker_id", cell: (w) => w.worker_id },
            { header: "claimed", cell: (w) => w.claimed, right: true },
            { header: "task_ids", cell: (w) => (Array.isArray(w.task_ids) ? w.task_ids.join(",") : w.task_ids) },
          ])
        : ""),
  );

  const failures = Array.isArray(s.recentFailures) ? s.recentFailures : [];
  const failuresTotal = typeof s.failuresTotal === "number" ? s.failuresTotal : failures.length;
  const failuresOf = failuresTotal > failures.length ? ` (of ${failuresTotal} failed tasks)` : "";
  sections.push(`Recent failures: ${failures.length}${failuresOf}\n${failures.length ? objectTable(failures) : ""}`);

  const throughput = Array.isArray(s.throughput) ? s.throughput : [];
  if (throughput.length) {
    // One entry per minute, mostly zeros: the sums say more than 60 lines.
    const sums = new Map<string, number>();
    for (const entry of throughput) {
      if (entry === null || typeof entry !== "object") continue;
      for (const [k, v] of Object.entries(entry)) if (typeof v === "number") sums.set(k, (sums.get(k) ?? 0) + v);
    }
    sections.push(`Throughput, last ${throughput.length} minutes: ${[...sums].map(([k, n]) => `${cellText(k)} ${n}`).join(", ") || "-"}\n`);
  }

  if (s.ideas === null || s.ideas === undefined) {
    sections.push("Ideas: not available (no idea store on this server)\n");
  } else {
    const pairs = (v: unknown) => countPairs(v).map(([k, n]) => `${cellText(k)} ${n}`).join(", ") || "-";
    sections.push(`Ideas: ${cellText(s.ideas.total)}\n  by platform: ${pairs(s.ideas.byPlatform)}\n  by category: ${pairs(s.ideas.byCategory)}\n`);
  }
  return sections.join("\n");
}

const stats = defineCommand<void>({
  summary: "tasks by type and status, workers, failures, ideas (our server's operator endpoint)",
  help: `tm stats [--json]

Calls GET /stats: task counts by type x status, the workers holding tasks,
recent failures, throughput and the idea store's counts. Our server has this
endpoint; the hosted service does not (exit 4).

Example:
  tm stats
`,
  options: [],
  prepare: (args) => arity(args, 0, 0, "tm stats"),
  async run(ctx) {
    const s = await operatorCall(endpoint(ctx, "GET", "/stats"), () => ctx.client.getStats());
    emit(ctx, s, () => statsText(s));
  },
});

/** Every command by name, in help order. */
export const COMMANDS: Readonly<Record<string, Command<unknown>>> = Object.freeze({
  health,
  register,
  types,
  create,
  tasks,
  show,
  requeue,
  fail,
  stats,
});

const GLOBAL_HELP = `Options of every command:
  --json              print exactly one JSON document on stdout (errors: one on stderr)
  --url <url>         TaskManager base URL ending in /api (default: $TASKMANAGER_API_URL)
  --key-file <path>   read the API key from this file (default: $TASKMANAGER_API_KEY)
  --timeout <s>       seconds per call (default 30)
  -h, --help          this help, or a command's
`;

/** The main help text. */
export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const list = Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
    .join("\n");
  return `tm <command> [args] [--json]: the operator CLI for a TaskManager (our server or the hosted service).

Commands:
${list}

${GLOBAL_HELP}
The key is read from TASKMANAGER_API_KEY or --key-file only, never from the command line.
Exit codes: 0 ok, 1 refused by the server (4xx), 2 usage or configuration error,
3 unreachable/timeout/5xx, 4 not supported by this TaskManager.
tm help <command> (or tm <command> --help) shows a command's help.
`;
}

// ---- running ----------------------------------------------------------------------

function redacting(o: Output, secret: string): Output {
  // Defence in depth: whatever a server echoes, the key is never printed.
  return { write: (s: string) => o.write(secret.length >= 4 ? s.split(secret).join("[redacted]") : s) };
}

function reportFailure(err: Output, command: string | undefined, f: Failure, json: boolean): void {
  if (json) {
    const error: Record<string, unknown> = { exitCode: f.exitCode, code: f.code, message: f.message };
    if (f.status !== undefined) error.status = f.status;
    if (f.details.length) error.details = f.details;
    if (f.hint) error.hint = f.hint;
    err.write(`${JSON.stringify({ error })}\n`);
    return;
  }
  const status = f.status !== undefined && !f.message.includes(String(f.status)) ? ` (HTTP ${f.status})` : "";
  let text = `tm${command ? ` ${oneLine(command)}` : ""}: ${oneLine(f.message)}${status}\n`;
  for (const d of f.details) text += `  - ${oneLine(d)}\n`;
  if (f.hint) text += `  hint: ${oneLine(f.hint)}\n`;
  if (f.exitCode === EXIT.USAGE && f.code === "TM_CLI_USAGE") text += `  (tm ${command && COMMANDS[command] ? `${command} ` : ""}--help for usage)\n`;
  err.write(text);
}

function parseCommandLine(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split("\n")[0] ?? "bad command line");
  }
}

const KEY_FLAG = /^-{1,2}(api-?key|key|k)(=.*)?$/i;

/**
 * Runs one `tm` command line (without `node` and the script) and returns
 * its exit code; never exits the process. Output goes to `deps.out`,
 * errors to `deps.err`, both through {@link terminalSafe}: no control
 * character (ESC, BEL, C0, DEL, C1, bidi controls) is written raw.
 */
export async function run(argv: readonly string[], deps: CliDeps): Promise<ExitCode> {
  const jsonWanted = argv.includes("--json");
  let command: string | undefined;
  let client: TaskManagerClient | undefined;
  // Everything written goes through one escaping of control characters (JSON stays JSON).
  const stdout = terminalSafe(deps.out);
  const stderr = terminalSafe(deps.err);
  let errOut: Output = stderr;
  try {
    const terminator = argv.indexOf("--");
    const flags = terminator === -1 ? argv : argv.slice(0, terminator);
    const keyFlag = flags.find((a) => KEY_FLAG.test(a));
    if (keyFlag) {
      throw new UsageError(
        `${keyFlag.split("=")[0]} is not accepted: a key on the command line leaks into shell history and ps; set TASKMANAGER_API_KEY or use --key-file <path>`,
      );
    }
    const parsed = parseCommandLine(argv);
    const values = parsed.values as Values;
    const [name, ...args] = parsed.positionals;
    command = name;

    if (name === undefined) {
      if (values.help) {
        stdout.write(mainHelp());
        return EXIT.OK;
      }
      stderr.write(mainHelp());
      throw new UsageError("missing command");
    }
    if (name === "help") {
      const topic = args[0];
      if (topic !== undefined && !COMMANDS[topic]) throw new UsageError(`unknown command "${topic}"; commands: ${Object.keys(COMMANDS).join(", ")}`);
      stdout.write(topic === undefined ? mainHelp() : `${(COMMANDS[topic] as Command<unknown>).help}\n${GLOBAL_HELP}`);
      return EXIT.OK;
    }
    const spec = COMMANDS[name];
    if (!spec) {
      command = undefined;
      throw new UsageError(`unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(", ")}`);
    }
    if (values.help) {
      stdout.write(`${spec.help}\n${GLOBAL_HELP}`);
      return EXIT.OK;
    }
    for (const t of parsed.tokens) {
      if (t.kind === "option" && !GLOBAL_OPTIONS.includes(t.name as OptionName) && !spec.options.includes(t.name as OptionName)) {
        throw new UsageError(`${t.rawName} is not an option of tm ${name}`);
      }
    }

    const input = await spec.prepare(args, values, deps);
    const conn = resolveConnection(deps.env, { url: values.url, keyFile: values["key-file"], timeout: values.timeout });
    const out = redacting(stdout, conn.apiKey);
    errOut = redacting(stderr, conn.apiKey);
    client =
      deps.client ??
      new TaskManagerClient({
        baseUrl: conn.baseUrl,
        apiKey: conn.apiKey,
        workerId: createWorkerId("tm-cli"),
        timeoutMs: conn.timeoutMs,
        // A person is waiting: a few quick retries of safe calls, not the workers' long backoff.
        retry: { attempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 },
        connections: 4,
      });
    await spec.run({ client, conn, out, err: errOut, json: values.json === true }, input);
    return EXIT.OK;
  } catch (err) {
    const f = describeFailure(err);
    reportFailure(errOut, command, f, jsonWanted);
    return f.exitCode;
  } finally {
    if (client && client !== deps.client) await client.close();
  }
}
