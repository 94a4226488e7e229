import {
  canonicalize,
  type CallOptions,
  type ClaimOptions,
  type ClaimedTask,
  type CreatedTask,
  type TaskManagerClient,
} from "@prismq/taskmanager-client";
import { TaskParamsError } from "./errors.js";
import { compileSchema, describeErrors, hostedSchemaProblems, type ParamSchema, type SchemaProblems } from "./schema.js";

/**
 * The platform a task type belongs to: a name of lower-case letters, digits and `-`
 * (1-32 characters, e.g. `youtube`), the same as the ideas' `sourcePlatform`. Open:
 * a platform package defines its own types with its own name (see `definePlatform`
 * in `@prismq/worker-kit`).
 */
export type Platform = string;

/** What a {@link Platform} name must look like. */
export const PLATFORM_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** `item`: one piece of content to process. `discovery`: a request that finds items. */
export type TaskRole = "item" | "discovery";

/** The outcome of {@link TaskTypeDef.parse}. */
export type ParseResult<P> = { ok: true; params: P } | { ok: false; errors: string[] };

/** Options of {@link TaskTypeDef.create}. */
export interface CreateTaskOptions extends CallOptions {
  /** An integer; higher is claimed first by the `priority` strategy (our server only; the hosted service ignores it). @defaultValue none sent: the server's 0 */
  priority?: number;
}

/** A claimed task whose params broke the schema, as reported to {@link TypedClaimOptions.onInvalid}. */
export interface InvalidTask {
  task: ClaimedTask<unknown>;
  /** One line per problem, each naming its field. */
  errors: string[];
  /** The message the task was failed with. */
  message: string;
}

/** Options of {@link TaskTypeDef.claim}: those of the client's `claimTask`, without the type. */
export interface TypedClaimOptions extends Omit<ClaimOptions, "taskType" | "typePattern"> {
  /**
   * Called for each claimed task whose params broke the schema, after it was
   * failed (non-retryable). For logs and metrics; must not throw.
   */
  onInvalid?: (e: InvalidTask) => void;
}

/** What {@link defineTaskType} takes. */
export interface TaskTypeSpec {
  /** `PrismQ.IdeaInspiration.<Platform>.<What>`; only `[A-Za-z0-9._-]` so the hosted service can fetch it by name. */
  name: string;
  /** Semver, e.g. `1.0.0`. Raise it with every schema change so `registerAll` re-registers. */
  version: string;
  /** The platform whose content the task concerns. */
  platform: Platform;
  /** `item` or `discovery`. */
  role: TaskRole;
  /** The app that claims tasks of this type, e.g. `youtube-processor`. */
  claimedBy: string;
  /** The param schema, in the hosted subset (checked here). */
  schema: ParamSchema;
}

/**
 * One task type: its identity and schema, and typed helpers that validate
 * params locally before anything reaches the server.
 */
export interface TaskTypeDef<P extends object = object> {
  /** `PrismQ.IdeaInspiration.<Platform>.<What>`. */
  readonly name: string;
  /** Semver; raised with every schema change. */
  readonly version: string;
  /** The platform whose content the task concerns. */
  readonly platform: Platform;
  /** `item` (one piece of content) or `discovery` (a request that finds items). */
  readonly role: TaskRole;
  /** The app that claims tasks of this type. */
  readonly claimedBy: string;
  /** Deeply frozen; this is what `registerAll` registers. */
  readonly schema: ParamSchema;
  /**
   * Canonical params: undefined fields dropped, `hops` omitted when 0, keys
   * sorted, then validated. The same target always gives the same params,
   * so repeats dedupe on the server.
   * @throws {TaskParamsError} naming each bad field.
   */
  params(input: P): P;
  /** Validates params as claimed (not canonicalised): the typed params, or one error line per bad field. */
  parse(params: unknown): ParseResult<P>;
  /**
   * Creates a task of this type with `params(input)`; a repeat of the same
   * target answers the existing task with `deduplicated: true`.
   * @throws {TaskParamsError} before any request when the params are bad.
   */
  create(client: TaskManagerClient, input: P, options?: CreateTaskOptions): Promise<CreatedTask>;
  /**
   * Claims the next task of this type with typed params, or `null` when
   * none is left. A task whose params break the schema (registered
   * elsewhere with a looser schema, or by an older version) is failed with
   * `retryable: false` and a message naming the bad fields, and the next
   * task is claimed. The type must be registered (see `registerAll`).
   */
  claim(client: TaskManagerClient, options?: TypedClaimOptions): Promise<ClaimedTask<P> | null>;
  /**
   * Claims up to `limit` (1-100) tasks of this type with typed params, none when none is left:
   * one request where the server advertises batch claims (the client's `claimTasks`), single
   * claims elsewhere. Tasks whose params break the schema are failed as `claim` fails them (all
   * in one settle request), reported to `onInvalid` and left out; when every task claimed was
   * invalid, it claims again. A bad task that could not be failed throws only when no good task is
   * in hand (otherwise it returns to the queue after the claim timeout and is failed then).
   */
  claimBatch(client: TaskManagerClient, options: TypedClaimOptions & { limit: number }): Promise<Array<ClaimedTask<P>>>;
}

/** Longest failure message sent for a task with bad params (the server caps error text at 64 KiB). */
const MAX_FAIL_MESSAGE = 2000;

const SEMVER = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Builds a task type from its spec. The schema is checked against the
 * hosted subset (a `TypeError` otherwise), copied and frozen; the ajv
 * validator is compiled once, on first use.
 * @typeParam P - the params type the schema describes.
 */
export function defineTaskType<P extends object>(spec: TaskTypeSpec): TaskTypeDef<P> {
  const problems = hostedSchemaProblems(spec.schema);
  if (problems.length) throw new TypeError(`${spec.name}: schema leaves the hosted subset: ${problems.join("; ")}`);
  if (!/^[A-Za-z0-9._-]+$/.test(spec.name)) throw new TypeError(`${spec.name}: name must keep to [A-Za-z0-9._-]`);
  if (!PLATFORM_NAME.test(spec.platform)) throw new TypeError(`${spec.name}: platform must be 1-32 of [a-z0-9-], starting with a letter, got ${spec.platform}`);
  if (!SEMVER.test(spec.version)) throw new TypeError(`${spec.name}: version must be semver, got ${spec.version}`);
  const schema = deepFreeze(structuredClone(spec.schema));
  let validator: ReturnType<typeof compileSchema> | undefined;
  /** What a task with bad params is failed with: the type, its version and each problem. */
  const invalidMessage = (errors: string[]): string => `Invalid params for ${spec.name} ${spec.version}: ${errors.join("; ")}`.slice(0, MAX_FAIL_MESSAGE);

  const check = (value: unknown): SchemaProblems | null => {
    validator ??= compileSchema(schema);
    return validator(value) ? null : describeErrors(validator.errors);
  };

  const def: TaskTypeDef<P> = {
    name: spec.name,
    version: spec.version,
    platform: spec.platform,
    role: spec.role,
    claimedBy: spec.claimedBy,
    schema,

    params(input: P): P {
      const out = canonicalize(input) as unknown;
      if (out !== null && typeof out === "object" && !Array.isArray(out) && (out as { hops?: unknown }).hops === 0) {
        delete (out as { hops?: unknown }).hops;
      }
      const bad = check(out);
      if (bad) throw new TaskParamsError(spec.name, bad.details, bad.fields);
      return out as P;
    },

    parse(params: unknown): ParseResult<P> {
      const bad = check(params);
      return bad ? { ok: false, errors: bad.details } : { ok: true, params: params as P };
    },

    async create(client, input, options = {}) {
      return client.createTask(spec.name, def.params(input), options);
    },

    async claim(client, options = {}) {
      const { onInvalid, ...claimOptions } = options;
      for (;;) {
        const task = await client.claimTask<unknown>({ ...claimOptions, taskType: spec.name });
        if (!task) return null;
        const parsed = def.parse(task.params);
        if (parsed.ok) return { ...task, params: parsed.params };
        // Bad params stay bad: retrying would only burn attempts, so the task fails for good.
        const message = invalidMessage(parsed.errors);
        await client.failTask(task.id, message, { retryable: false, workerId: claimOptions.workerId, signal: claimOptions.signal });
        onInvalid?.({ task, errors: parsed.errors, message });
      }
    },

    async claimBatch(client, options) {
      const { onInvalid, ...claimOptions } = options;
      for (;;) {
        const tasks = await client.claimTasks<unknown>({ ...claimOptions, taskType: spec.name });
        const valid: Array<ClaimedTask<P>> = [];
        const invalid: InvalidTask[] = [];
        for (const task of tasks) {
          const parsed = def.parse(task.params);
          if (parsed.ok) valid.push({ ...task, params: parsed.params });
          else invalid.push({ task, errors: parsed.errors, message: invalidMessage(parsed.errors) });
        }
        if (invalid.length > 0) {
          const results = await client.settleTasks(
            invalid.map((i) => ({ id: i.task.id, status: "failed" as const, error: i.message, retryable: false })),
            { workerId: claimOptions.workerId, signal: claimOptions.signal },
          );
          const refused = results.find((r) => !r.ok);
          if (refused && !refused.ok && valid.length === 0) throw refused.error;
          invalid.forEach((i, n) => {
            if (results[n]?.ok) onInvalid?.(i);
          });
        }
        if (valid.length > 0 || tasks.length < claimOptions.limit) return valid;
      }
    },
  };
  return Object.freeze(def);
}
