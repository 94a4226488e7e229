import type { ClaimedTask } from "@prismq/taskmanager-client";
import { ideaInputSchema, type IdeaInput, type IdeaStore } from "@prismq/idea-store";
import { crossModuleTasks, type AnyCrossModuleEdge, type EdgeSource, type Platform, type SpawnedTask } from "@prismq/task-types";
import type { BatchOutcome } from "./worker-loop.js";
import type { Outbox } from "./outbox.js";

/** An item of a batch that passed the platform's own checks: its task, how it maps to an idea, and what it offers the edges. */
export interface PipelineItem<T> {
  task: T;
  /** What the item is called in an error, e.g. `YouTube video abc`. */
  label: string;
  /** The item as an idea; a throw fails only this item's task, for good. */
  map: () => IdeaInput;
  /** The texts the edges read links from (after `map` succeeded). Default none. */
  texts?: () => string[];
}

/** What {@link storeItems} needs. */
export interface PipelineDeps {
  ideas: IdeaStore;
  outbox: Outbox;
  /** The platform the items come from: the edges leaving it spawn. */
  platform: Platform;
  /** The cross-module edges; `false` spawns nothing. */
  edges: readonly AnyCrossModuleEdge[] | false;
}

/**
 * The platform-free end of a processor's batch: maps each item to an idea,
 * validates it against the store's schema (one refused idea fails only its own
 * task, for good), upserts the rest in one call, creates the cross-module
 * tasks each item spawns (at the hop count and priority `crossModuleTasks`
 * computes), and completes each task with `{ idea_id, created, score,
 * category }` plus what `result` adds from the item's spawned tasks.
 */
export async function storeItems<T extends ClaimedTask<{ hops?: number }>>(
  deps: PipelineDeps,
  items: ReadonlyArray<PipelineItem<T>>,
  result: (spawned: SpawnedTask[]) => Record<string, unknown>,
): Promise<Array<BatchOutcome<T>>> {
  const outcomes: Array<BatchOutcome<T>> = [];
  const found: Array<{ task: T; idea: IdeaInput; source: EdgeSource }> = [];
  for (const { task, label, map, texts } of items) {
    let idea: IdeaInput;
    try {
      idea = map();
    } catch (err) {
      outcomes.push({ task, ok: false, retryable: false, error: `${label} could not be mapped to an idea: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    const check = ideaInputSchema.safeParse(idea);
    if (!check.success) {
      const why = check.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      outcomes.push({ task, ok: false, retryable: false, error: `${label} gives an idea the store refuses: ${why}` });
      continue;
    }
    found.push({ task, idea, source: { keywords: idea.keywords ?? [], texts: texts?.() ?? [] } });
  }
  const stored = found.length ? await deps.ideas.upsertMany(found.map((f) => f.idea)) : [];
  for (const [i, { task, idea, source }] of found.entries()) {
    const row = stored[i];
    if (!row) continue;
    const spawned = deps.edges === false ? [] : crossModuleTasks(deps.edges, deps.platform, task, source);
    for (const t of spawned) await deps.outbox.create(t.type, t.params, { priority: t.priority });
    outcomes.push({ task, ok: true, result: { idea_id: row.id, created: row.created, score: idea.score ?? null, category: idea.category ?? null, ...result(spawned) } });
  }
  return outcomes;
}
