import { isDeepStrictEqual } from "node:util";
import type { CallOptions, TaskManagerClient } from "@prismq/taskmanager-client";
import { CATALOG } from "./catalog.js";
import type { TaskTypeDef } from "./define.js";

/** What {@link registerAll} needs of a task type. */
export type RegistrableTaskType = Pick<TaskTypeDef, "name" | "version" | "schema">;

/** The outcome of {@link registerAll}: type names, in the order given. */
export interface RegisterAllResult {
  /** Created, or updated because the version, the schema or the active flag differed. */
  registered: string[];
  /** Already registered, active, with the same version and schema: left alone. */
  unchanged: string[];
}

/**
 * Registers task types at app start, idempotently: a type that exists, is
 * active, and has the same version and a deep-equal schema is skipped;
 * any other is (re-)registered. Safe when several apps run it at once:
 * registration is an upsert by name, so concurrent runs with the same
 * catalog write the same record.
 * @param defs - the types to register: an app's `platformTaskTypes(platform)`, a
 * system's `platformSet(descriptors).catalog.types` (both of `@prismq/worker-kit`).
 * Default: the built-in YouTube and Reddit types ({@link CATALOG}), for tests
 * and tools; a platform of its own package is only in the lists its descriptor makes.
 */
export async function registerAll(
  client: TaskManagerClient,
  defs: readonly RegistrableTaskType[] = CATALOG,
  options: CallOptions = {},
): Promise<RegisterAllResult> {
  const outcomes = await Promise.all(
    defs.map(async (def) => {
      const existing = await client.getTaskType(def.name, options);
      if (existing && existing.isActive && existing.version === def.version && isDeepStrictEqual(existing.paramSchema, def.schema)) {
        return "unchanged" as const;
      }
      await client.registerTaskType({ name: def.name, version: def.version, paramSchema: def.schema }, options);
      return "registered" as const;
    }),
  );
  const result: RegisterAllResult = { registered: [], unchanged: [] };
  defs.forEach((def, i) => result[outcomes[i] ?? "registered"].push(def.name));
  return result;
}
