import { nextHop, nextPriority, type TaskTypeDef } from "@prismq/task-types";
import type { Outbox } from "./outbox.js";
import type { AppState } from "./state.js";

/** Where a discovery run's items come from: the source's hop count and priority (a scheduled source's or a claimed task's). */
export interface SpawnOrigin {
  /** The source's hop count. Default 0. */
  hops?: number;
  /** The source's priority; the items' tasks keep it (a same-platform edge). Default: none sent (the server's 0). */
  priority?: number;
}

/** What a {@link DiscoverySink} needs. */
export interface DiscoverySinkDeps<P extends object> {
  outbox: Outbox;
  state: AppState;
  /** The item task type, e.g. a platform's Video or Post. */
  task: TaskTypeDef<P>;
  /** The item's task params from its id and hop count. */
  params: (id: string, hops: number) => P;
  /** Seen-set of every item this app sent, whatever the source. */
  seenSet: string;
}

/**
 * The end of every discovery run: each item id not sent before becomes one
 * item task through the outbox, at the source's hop count and priority (the
 * same platform: neither changes), and is recorded in the app's seen-set right
 * after its create went out, so a crash loses no item and at worst repeats one
 * (deduplicated by the TaskManager). Cursors stay with the app's state.
 */
export class DiscoverySink<P extends object> {
  constructor(private readonly deps: DiscoverySinkDeps<P>) {}

  /** Creates a task for each of `ids` not sent before, in order; returns how many. */
  async send(ids: readonly string[], origin: SpawnOrigin = {}): Promise<number> {
    const { outbox, state, task, params, seenSet } = this.deps;
    const fresh = await state.unseen(seenSet, ids);
    const hop = nextHop({ hops: origin.hops }, "same-platform") ?? 0;
    const options = origin.priority === undefined ? {} : { priority: nextPriority(origin.priority, "same-platform") };
    for (const id of fresh) {
      await outbox.create(task.name, task.params(params(id, hop)), options);
      await state.markSeen(seenSet, [id]);
    }
    return fresh.length;
  }
}
