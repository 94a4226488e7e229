/**
 * Pieces the apps' test rigs share (through `@prismq/worker-kit/testing`): nothing here starts a
 * TaskManager, which stays in the server's own testing export.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { Redis } from "ioredis";
import { openIdeaStore, type IdeaInspiration, type IdeaStore } from "@prismq/idea-store";
import type { ClaimedTask, CreatedTask, Task, TaskManagerClient } from "@prismq/taskmanager-client";
import type { InvalidTask, TaskTypeDef } from "@prismq/task-types";
import type { Budget, BudgetState, SpendResult } from "./budget.js";
import { createLogger } from "./logger.js";
import { DirectOutbox, type SettledTask } from "./outbox.js";
import { WorkerLoop, type BatchOutcome } from "./worker-loop.js";

/** Runs `init(rig)`, with `rig.stop()` registered first so a rig that failed half-way is torn down too when `t` ends. */
export async function startRig<R extends { stop(): Promise<void> }>(t: TestContext, rig: R, init: (rig: R) => Promise<void>): Promise<R> {
  t.after(() => rig.stop());
  await init(rig);
  return rig;
}

/** A free TCP port on loopback (so a restarted server comes back where its clients look for it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Deletes every key under `<prefix>:` of the Redis at `url`: what a hybrid-mode test leaves behind. */
export async function dropRedisKeys(url: string, prefix: string): Promise<void> {
  const r = new Redis(url);
  try {
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length) await r.del(...keys);
  } finally {
    r.disconnect();
  }
}

/** A budget that records how much it granted in each window (by the window's end), and how often it refused. */
export class RecordingBudget implements Budget {
  readonly granted = new Map<number, number>();
  refused = 0;
  constructor(private readonly inner: Budget) {}
  get name(): string {
    return this.inner.name;
  }
  get limit(): number {
    return this.inner.limit;
  }
  async trySpend(units: number): Promise<SpendResult> {
    const r = await this.inner.trySpend(units);
    if (r.ok) this.granted.set(r.resetAt, (this.granted.get(r.resetAt) ?? 0) + units);
    else this.refused++;
    return r;
  }
  exhaust(): Promise<BudgetState> {
    return this.inner.exhaust();
  }
  state(): Promise<BudgetState> {
    return this.inner.state();
  }
}

/** One item task type as a processor test drives it: the type, and its params for an item id. */
export interface ItemType<P extends object> {
  type: TaskTypeDef<P>;
  /** The params of a task for item `id`, `hops` from discovery (none: 0). */
  params(id: string, hops?: number): P;
  /** The item id of params. */
  idOf(params: P): string;
}

/** What a processor app's test rig is made of, besides its sandbox and processor. */
export interface ItemRigSetup<P extends object, TM extends TaskManagerLike> {
  item: ItemType<P>;
  /** The app's batch size: what `worker()` takes by default. */
  batchSize: number;
  /** Prefix of the temp folder's name and of the worker id, e.g. `rdp-`. */
  prefix: string;
  /** Starts a TaskManager whose first client has `workerId`: the server's `startTestTaskManager`, with the catalog registered. */
  startTaskManager(workerId: string): Promise<TM>;
}

/** What the rig needs of a test TaskManager. */
export interface TaskManagerLike {
  client: TaskManagerClient;
  close(): Promise<void>;
}

const silent = createLogger({ service: "test", level: "silent" });

/**
 * A processor app's test rig: a real TaskManager, an idea store on a temp folder and a DirectOutbox,
 * and the processor driven the way the app drives it. The subclass starts its sandbox and processor
 * after `startBase()`; `stop()` closes all of it.
 */
export abstract class ItemRig<P extends object, TM extends TaskManagerLike> {
  readonly dir: string;
  readonly workerId: string;
  tm!: TM;
  client!: TaskManagerClient;
  store!: IdeaStore;
  outbox!: DirectOutbox;
  /** Every batch the processor was handed, as item ids. */
  readonly handled: string[][] = [];
  /** Tasks the claim helper failed for bad params. */
  readonly invalid: InvalidTask[] = [];
  abstract sandbox: { close(): Promise<void> } | undefined;
  abstract processor: { handle(batch: Array<ClaimedTask<P>>, signal?: AbortSignal): Promise<Array<BatchOutcome<ClaimedTask<P>>>> };

  constructor(private readonly setup: ItemRigSetup<P, TM>) {
    this.dir = mkdtempSync(join(tmpdir(), setup.prefix));
    this.workerId = `${setup.prefix}${randomBytes(5).toString("hex")}`;
  }

  /** Starts the TaskManager, the idea store and the outbox. */
  protected async startBase(): Promise<void> {
    this.tm = await this.setup.startTaskManager(this.workerId);
    this.client = this.tm.client;
    this.store = await openIdeaStore({ dataDir: join(this.dir, "ideas") });
    this.outbox = new DirectOutbox({ client: this.client, logger: silent });
  }

  /** A WorkerLoop as the app builds it: claim with the typed helper, handle with the processor. */
  worker(batchSize = this.setup.batchSize): WorkerLoop<ClaimedTask<P>> {
    const { client, workerId } = this;
    const { item } = this.setup;
    return new WorkerLoop<ClaimedTask<P>>({
      name: item.type.name,
      client,
      batchSize,
      outbox: this.outbox,
      workerId,
      logger: silent,
      claim: (signal) => item.type.claim(client, { workerId, signal, onInvalid: (e) => this.invalid.push(e) }),
      handle: (batch, signal) => {
        this.handled.push(batch.map((task) => item.idOf(task.params)));
        return this.processor.handle(batch, signal);
      },
    });
  }

  /** Creates one task per item id (a repeat throws: these tests need fresh tasks); answers the task id of each. */
  async createTasks(ids: readonly string[], hops?: number): Promise<Map<string, number>> {
    const { item } = this.setup;
    const out = new Map<string, number>();
    for (const id of ids) {
      const created: CreatedTask = await item.type.create(this.client, item.params(id, hops));
      if (created.deduplicated) throw new Error(`task for ${id} already existed`);
      out.set(id, created.id);
    }
    return out;
  }

  /** Tasks of the items as if claimed, to hand to the processor's `handle` directly. */
  fakeClaims(ids: readonly string[], firstId = 1_000_000, hops?: number): Array<ClaimedTask<P>> {
    const { item } = this.setup;
    return ids.map((id, k) => ({ id: firstId + k, type: item.type.name, params: item.params(id, hops), attempts: 1, priority: 0 }));
  }

  /** The stored idea of an item, which must exist. */
  async idea(id: string): Promise<IdeaInspiration> {
    const found = await this.store.get(this.setup.item.type.platform, id);
    assert.ok(found, `idea for ${id}`);
    return found;
  }

  async stop(): Promise<void> {
    await this.tm?.close();
    await this.store?.close();
    await this.sandbox?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What a processor answers for a task: idea id and whether it was new, score and category, and the app's own fields. */
// A type, not an interface, so a task's JSON result converts to it.
export type IdeaResult = { idea_id: number; created: boolean; score: number | null; category: string | null };

/** The result of an outcome that must have succeeded. */
export function resultOf<R extends IdeaResult>(outcome: BatchOutcome<SettledTask>): R {
  assert.ok(outcome.ok, `task ${outcome.task.id} failed: ${outcome.ok ? "" : outcome.error}`);
  return outcome.result as R;
}

/** Each task completed with its item's stored idea: its id, `created`, its score (0 to 100) and category. */
export async function assertCompletedWithIdeas<TM extends TaskManagerLike & { task(id: number): Promise<Task> }>(rig: ItemRig<object, TM>, taskIds: Map<string, number>): Promise<void> {
  for (const [itemId, taskId] of taskIds) {
    const task = await rig.tm.task(taskId);
    assert.equal(task.status, "completed", itemId);
    const result = task.result as unknown as IdeaResult;
    const row = await rig.idea(itemId);
    assert.equal(result.idea_id, row.id);
    assert.equal(result.created, true);
    assert.equal(result.score, row.score);
    assert.equal(result.category, row.category);
    assert.ok(typeof row.score === "number" && row.score >= 0 && row.score <= 100);
  }
}

/** Handling the items again keeps one idea each (`before`, by item id): every outcome answers the same idea, not created. */
export async function assertSameIdeasAgain<P extends object>(rig: ItemRig<P, TaskManagerLike>, ids: readonly string[], before: ReadonlyMap<string, IdeaInspiration>, idOf: (params: P) => string): Promise<void> {
  const again = await rig.processor.handle(rig.fakeClaims(ids));
  assert.equal(again.length, ids.length);
  for (const o of again) {
    const r = resultOf(o);
    assert.equal(r.created, false);
    assert.equal(r.idea_id, before.get(idOf(o.task.params))?.id);
  }
  assert.equal(await rig.store.count(), ids.length);
}

/** Two tasks of one item (one of them a hop further) are handled in one batch and share one stored idea. */
export async function assertTwoTasksShareOneIdea<TM extends TaskManagerLike & { task(id: number): Promise<Task> }>(rig: ItemRig<object, TM>, id: string): Promise<void> {
  const plain = (await rig.createTasks([id])).get(id) as number;
  const hopped = (await rig.createTasks([id], 1)).get(id) as number;
  assert.equal(await rig.worker().drain(), 2);
  assert.equal(rig.handled.length, 1);
  const a = (await rig.tm.task(plain)).result as IdeaResult;
  const b = (await rig.tm.task(hopped)).result as IdeaResult;
  assert.equal(a.idea_id, b.idea_id);
  assert.equal(await rig.store.count(), 1);
}
