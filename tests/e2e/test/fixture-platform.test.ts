// A platform added as a plug-in: the fixture platform in ./fixture-platform/ (a
// newspaper) runs end to end with only the public plug-in API: discovery, the
// processor, a real idea store, and its cross-module edge to YouTube, whose
// tasks land on a real TaskManager server. No file outside the fixture names it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openIdeaStore, type IdeaStore } from "@prismq/idea-store";
import { HOP_PRIORITY_STEP, YouTube, registerAll } from "@prismq/task-types";
import { TaskManagerClient, type Task } from "@prismq/taskmanager-client";
import { TestServer } from "@prismq/taskmanager-server/testing";
import { platformSet } from "@prismq/worker-kit";
import { platform as youtube } from "@prismq/youtube-source";
import { drainDiscovery, drainProcessor } from "./fixture-platform/apps.js";
import { Gazette, platform as gazette } from "./fixture-platform/platform.js";
import { startNewspaper, type Article } from "./fixture-platform/upstream.js";

const API_KEY = "fixture-platform-key";
const NEWSPAPER_KEY = "newspaper-key";
const PRIORITY = 50;

const article = (id: string, title: string, body: string): Article => ({ id, title, body, author: "desk", published: "2026-01-02T03:04:05Z" });
const ARTICLES = [
  article("a1", "Batteries that charge in seconds", "Watch https://youtu.be/AAAAAAAAAA1 and www.youtube.com/watch?v=BBBBBBBBBB2 first."),
  article("a2", "Batteries again", "The same talk: youtu.be/AAAAAAAAAA1"),
  article("a3", "A museum reopens", "No video here."),
  article("a4", "Comets tonight", "A short: https://youtube.com/shorts/CCCCCCCCCC3"),
  article("a5", "Theatre season", "Tickets on sale."),
];
/** a3 is in both sections: discovery sends it once. */
const SECTIONS = { science: ["a1", "a2", "a3", "a4"], culture: ["a3", "a5"] };
const LINKED = ["AAAAAAAAAA1", "BBBBBBBBBB2", "CCCCCCCCCC3"];

const repo = new URL("../../../", import.meta.url);
const dir = mkdtempSync(join(tmpdir(), "fixture-platform-"));
const server = new TestServer({ apiKey: API_KEY, dirPrefix: "fixture-platform-tm-" });
let client: TaskManagerClient;
let ideas: IdeaStore;
let newspaper: Awaited<ReturnType<typeof startNewspaper>>;

before(async () => {
  await server.start();
  client = new TaskManagerClient({ baseUrl: server.url, apiKey: API_KEY });
  ideas = await openIdeaStore({ url: `sqlite:${join(dir, "ideas.sqlite")}` });
  newspaper = await startNewspaper({ articles: ARTICLES, sections: SECTIONS }, NEWSPAPER_KEY);
});
after(async () => {
  await newspaper?.close();
  await ideas?.close();
  await client?.close();
  await server.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function tasksOf(type: string): Promise<Task[]> {
  const out: Task[] = [];
  for await (const t of client.listTasks({ type })) out.push((await client.getTask(t.id)) as Task);
  return out.sort((a, b) => a.id - b.id);
}

describe("a platform added as a plug-in (fixture platform)", () => {
  it("discovers, processes into ideas, and spawns YouTube tasks one hop further at a lower priority", { timeout: 60_000 }, async () => {
    // The system of two descriptors: one catalog and one graph, the fixture's edge included.
    const set = platformSet([youtube, gazette]);
    assert.deepEqual(set.graph, [{ from: "gazette", to: YouTube.Video.name, toPlatform: "youtube", hop: "cross-platform" }]);
    assert.deepEqual(set.apps, ["youtube-processor", "youtube-discovery", "gazette-processor", "gazette-discovery"]);
    await registerAll(client, set.catalog.types);

    for (const section of Object.keys(SECTIONS)) await Gazette.Section.create(client, { section }, { priority: PRIORITY });
    const env = { GAZETTE_API_URL: newspaper.url, GAZETTE_API_KEY: NEWSPAPER_KEY };
    const deps = { env, client, dataDir: join(dir, "gazette-discovery"), ideas, edges: set.edges };
    assert.equal(await drainDiscovery(deps), 2, "both section tasks");
    assert.equal(await drainProcessor(deps, 3), ARTICLES.length, "every article task");
    assert.equal(newspaper.requests(), 2 + Math.ceil(ARTICLES.length / 3), "one request per section, one per batch of articles");

    const sections = await tasksOf(Gazette.Section.name);
    assert.deepEqual(sections.map((t) => [t.status, t.result]), [["completed", { found: 4, sent: 4 }], ["completed", { found: 2, sent: 1 }]]);

    // Every discovered item became one idea of the fixture platform.
    const articles = await tasksOf(Gazette.Article.name);
    assert.deepEqual(articles.map((t) => t.params.article_id).sort(), ARTICLES.map((a) => a.id));
    for (const t of articles) assert.equal(t.status, "completed", `${String(t.params.article_id)}: ${t.errorMessage}`);
    assert.deepEqual(articles.map((t) => t.priority), articles.map(() => PRIORITY), "items keep their section's priority");
    assert.deepEqual(await ideas.countBy("platform"), { gazette: ARTICLES.length });
    const stored = await ideas.query({ platform: "gazette" });
    assert.deepEqual(stored.map((i) => i.sourceId).sort(), ARTICLES.map((a) => a.id));
    for (const idea of stored) {
      assert.equal(idea.sourcePlatform, "gazette");
      assert.equal(idea.title, ARTICLES.find((a) => a.id === idea.sourceId)?.title);
    }

    // The edge: one YouTube task per linked video (a link in two articles dedupes on the server), one hop on, a step lower.
    const videos = await tasksOf(YouTube.Video.name);
    assert.deepEqual(videos.map((t) => t.params).sort((a, b) => String(a.video_id).localeCompare(String(b.video_id))), LINKED.map((video_id) => ({ video_id, hops: 1 })));
    for (const t of videos) {
      assert.equal(t.priority, PRIORITY - HOP_PRIORITY_STEP);
      assert.equal(t.status, "pending", "waiting for the YouTube processor");
    }
  });

  it("no file outside the fixture names the fixture platform: it needed no change to shared code", () => {
    const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repo, encoding: "utf8" }).split("\0");
    // Tracked and new files alike; one deleted in the work tree has nothing to say.
    const outside = files.filter((f) => f && !f.startsWith("tests/e2e/test/fixture-platform") && existsSync(new URL(f, repo)));
    assert.ok(outside.some((f) => f === "packages/worker-kit/src/platform.ts"), "the listing covers the shared code");
    const naming = outside.filter((f) => /\.(ts|js|json|md|ya?ml)$/.test(f) && /gazette/i.test(readFileSync(new URL(f, repo), "utf8")));
    assert.deepEqual(naming, []);
  });
});
