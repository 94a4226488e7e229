/**
 * The fixture platform's two apps as an app of its own would compose them from
 * the public API: discovery (section tasks -> `DiscoverySink` -> article tasks)
 * and the processor (article tasks -> `storeItems` -> ideas and YouTube tasks),
 * each on a `WorkerLoop`.
 */
import type { IdeaStore } from "@prismq/idea-store";
import type { ClaimedTask, TaskManagerClient } from "@prismq/taskmanager-client";
import type { AnyCrossModuleEdge } from "@prismq/task-types";
import { DirectOutbox, DiscoverySink, FileState, LocalBudget, WorkerLoop, createLogger, parseConfig, storeItems, type BatchOutcome, type PipelineItem } from "@prismq/worker-kit";
import { Gazette, gazetteEnv, platform, type ArticleParams, type GazetteConfig, type SectionParams } from "./platform.js";
import type { NewspaperApi } from "./upstream.js";

/** What both apps are given: their variables, the TaskManager, and (for the processor) the idea store and the edges of the system. */
export interface GazetteDeps {
  env: Record<string, string>;
  client: TaskManagerClient;
  /** Where discovery keeps its seen-set. */
  dataDir: string;
  ideas: IdeaStore;
  /** The system's cross-module edges (from `platformSet`). */
  edges: readonly AnyCrossModuleEdge[];
}

async function api(app: string, deps: GazetteDeps): Promise<NewspaperApi> {
  const config: GazetteConfig = parseConfig(app, gazetteEnv, deps.env);
  const logger = createLogger({ service: app, level: "silent" });
  return platform.createApi(config, { budget: new LocalBudget(platform.budget(config)), logger });
}

/** Runs every section task waiting: each article not sent before becomes one article task at the section's priority. */
export async function drainDiscovery(deps: GazetteDeps): Promise<number> {
  const newspaper = await api("gazette-discovery", deps);
  const outbox = new DirectOutbox({ client: deps.client });
  const sink = new DiscoverySink<ArticleParams>({
    outbox,
    state: new FileState(deps.dataDir, "gazette-discovery"),
    task: Gazette.Article,
    params: (article_id, hops) => ({ article_id, hops }),
    seenSet: "articles",
  });
  const workerId = "gazette-discovery-1";
  const loop = new WorkerLoop<ClaimedTask<SectionParams>>({
    name: "gazette-discovery",
    client: deps.client,
    workerId,
    outbox,
    // One section at a time: the seen-set's check and mark are two steps, so sections run at once could both send an article they share.
    batchSize: 1,
    claim: (signal) => Gazette.Section.claim(deps.client, { workerId, signal }),
    handler: async (task) => {
      const ids = await newspaper.section(task.params.section);
      return { found: ids.length, sent: await sink.send(ids, { hops: task.params.hops, priority: task.priority }) };
    },
  });
  return loop.drain();
}

/** Processes every article task waiting, in batches of `batchSize`: one request per batch. */
export async function drainProcessor(deps: GazetteDeps, batchSize: number): Promise<number> {
  const newspaper = await api("gazette-processor", deps);
  const outbox = new DirectOutbox({ client: deps.client });
  const workerId = "gazette-processor-1";
  type Task = ClaimedTask<ArticleParams>;
  const loop = new WorkerLoop<Task>({
    name: "gazette-processor",
    client: deps.client,
    workerId,
    outbox,
    batchSize,
    claim: (signal) => Gazette.Article.claim(deps.client, { workerId, signal }),
    handle: async (batch) => {
      const found = new Map((await newspaper.articles(batch.map((t) => t.params.article_id))).map((a) => [a.id, a]));
      const gone: Array<BatchOutcome<Task>> = [];
      const items: Array<PipelineItem<Task>> = [];
      for (const task of batch) {
        const article = found.get(task.params.article_id);
        if (!article) gone.push({ task, ok: false, retryable: false, error: `article ${task.params.article_id} is gone` });
        else items.push({ task, label: `article ${article.id}`, map: () => platform.toIdea(article, [], Date.now()), texts: () => [article.body] });
      }
      const stored = await storeItems({ ideas: deps.ideas, outbox, platform: platform.name, edges: deps.edges }, items, (spawned) => ({ youtube_videos: spawned.length }));
      return [...gone, ...stored];
    },
  });
  return loop.drain();
}
