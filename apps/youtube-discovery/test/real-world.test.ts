// Discovery on the strict sandbox (the default): backlogs, the search cap, late indexing, empty channels
// and refused keys, staged through the sandbox's control API while discovery runs.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DirectOutbox, FileState, WorkerMetrics, createLogger } from "@prismq/worker-kit";
import { YouTubeApi } from "@prismq/youtube-source";
import { YouTubeDiscovery, type YouTubeRunReport } from "../src/discovery.js";
import { QuotaGate, runSource } from "../src/run.js";
import { parseSources } from "../src/sources.js";
import { Rig, silent, uid } from "./helpers.js";

/** POSTs to the sandbox's control API, as an operator or another process would. */
async function control(rig: Rig, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${rig.sandbox.url}/_sandbox/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

function make(rig: Rig, options: { searchOverlapMs?: number; metrics?: WorkerMetrics } = {}) {
  const key = `k-${uid()}`;
  const api = new YouTubeApi({ apiKey: key, rootUrl: rig.sandbox.rootUrl, attempts: 4, baseDelayMs: 1, ...(options.metrics ? { metrics: options.metrics } : {}) });
  const state = new FileState(rig.dir, `app-${uid()}`);
  const discovery = new YouTubeDiscovery({ api, outbox: new DirectOutbox({ client: rig.client }), state, logger: silent, ...options });
  return { key, api, state, discovery };
}

/** Runs `run` until it sends nothing (at most `max` times); returns the reports. */
async function drain(run: () => Promise<YouTubeRunReport>, max = 12): Promise<YouTubeRunReport[]> {
  const reports: YouTubeRunReport[] = [];
  for (let k = 0; k < max; k++) {
    const r = await run();
    reports.push(r);
    if (r.sent === 0 && !r.backlog) break;
  }
  return reports;
}

describe("channel uploads: a backlog bigger than a run's limit", () => {
  // One channel, so every new video is its upload; half the timeline visible.
  const rig = new Rig();
  before(() => rig.start({ channels: 1, videos: 6_000, visibleFraction: 0.5 }));
  after(() => rig.stop());

  it("1,000 new videos appear between two runs with a limit of 300: the next runs discover all 1,000", async () => {
    const { discovery, state } = make(rig);
    const ch = rig.sandbox.data.channel(0);
    const first = await discovery.channel({ channel_id: ch.handle, max_videos: 300 });
    assert.equal(first.sent, 300);
    const known = new Set(rig.sandbox.data.uploads(0));

    // The world moves on through the control API: about 1,000 uploads appear.
    const step = rig.sandbox.world.config.spanMs / rig.sandbox.world.config.videos;
    await control(rig, "advance", { ms: Math.ceil(1_030 * step) });
    const fresh = rig.sandbox.data.uploads(0).filter((id) => !known.has(id));
    assert.ok(fresh.length >= 1_000, `${fresh.length} new uploads`);

    const reports = await drain(() => discovery.channel({ channel_id: ch.handle, max_videos: 300 }));
    assert.ok(reports.every((r) => r.sent <= 300), "each run keeps its limit");
    assert.equal(reports[0]?.backlog, fresh.length - 300, "the first run reports what it left");
    assert.deepEqual(await state.unseen("videos", fresh), [], "every new upload was sent");
    assert.equal(
      reports.reduce((n, r) => n + r.sent, 0),
      fresh.length,
      "each once",
    );
    const last = reports.at(-1) as YouTubeRunReport;
    assert.equal(last.sent, 0);
    assert.equal(last.stoppedAtKnown, true);
    assert.equal(last.pages, 1, "once caught up, a run reads one page");
  });

  it("a channel with no uploads (404 playlistNotFound) gives 0 new videos on every run, not a failure", async () => {
    const { discovery } = make(rig);
    const empty = await control(rig, "channels", { handle: `quiet${uid()}` });
    const gate = new QuotaGate(silent);
    for (let run = 0; run < 2; run++) {
      const outcome = await runSource(discovery, gate, { kind: "channel", params: { channel_id: String(empty.handle) } }, silent);
      assert.deepEqual(outcome, { ok: true, report: { listed: 0, sent: 0, pages: 0, stoppedAtKnown: false } });
    }
  });
});

describe("channels pasted in every common form", () => {
  const rig = new Rig();
  before(() => rig.start({ channels: 3, videos: 300, strict: { garbageRate: 0 } }));
  after(() => rig.stop());

  it("a sources file takes youtube.com/@x, /channel/UC…, /c/x and /user/x URLs, and each one is discovered", async () => {
    const ch = rig.sandbox.data.channel(1);
    const handle = ch.handle.slice(1);
    const urls = [`https://www.youtube.com/${ch.handle}`, `youtube.com/channel/${ch.id}`, `https://www.youtube.com/c/${handle}`, `https://m.youtube.com/user/${ch.username}/videos`];
    const sources = parseSources({ sources: urls.map((channel) => ({ kind: "channel", channel, max_videos: 5 })) });
    assert.deepEqual(
      sources.map((s) => (s.kind === "channel" ? s.params.channel_id : "")),
      [ch.handle, ch.id, ch.handle, `@${ch.username}`],
    );
    for (const s of sources) {
      const { discovery } = make(rig);
      assert.equal(s.kind, "channel");
      const r = await discovery.channel(s.kind === "channel" ? s.params : { channel_id: "" });
      assert.equal(r.sent, 5, s.id);
    }
    // Straight from a URL too (a caller that skips the task schema).
    const { discovery } = make(rig);
    assert.equal((await discovery.channel({ channel_id: `https://www.youtube.com/user/${ch.username}`, max_videos: 3 })).sent, 3);
  });
});

describe("search: the ~500 cap, late indexing and backlogs", () => {
  // One tech channel: a topic word is in a large share of its videos, far more than 500.
  const rig = new Rig();
  before(() => rig.start({ channels: 1, videos: 6_000, visibleFraction: 0.5 }));
  after(() => rig.stop());
  const expected = (terms: string[]) =>
    Array.from(rig.sandbox.data.search({ terms, groups: terms.map((t) => [t]), excluded: [], order: "date" }), (i) => rig.sandbox.data.videoId(i));

  it("a query past the cap is reported (summary and metrics) and walked by narrowing the window: every reachable match is sent", async () => {
    const metrics = new WorkerMetrics("ytd-cap", { defaultMetrics: false });
    const { discovery, state } = make(rig, { metrics });
    const all = expected(["laptop"]);
    assert.ok(all.length > 700, `${all.length} matches: more than the cap`);
    const reports = await drain(() => discovery.search({ query: "laptop", max_results: 500 }));
    const first = reports[0] as YouTubeRunReport;
    assert.equal(first.capped, true);
    assert.ok((first.unreachable ?? 0) > 0, `unreachable reported: ${first.unreachable}`);
    assert.ok(((await metrics.listingCapHits.get()).values[0]?.value ?? 0) >= 1);
    assert.ok(((await metrics.listingUnreachable.get()).values[0]?.value ?? 0) > 0);
    assert.deepEqual(await state.unseen("videos", all), [], "the cap hid nothing for good");
    assert.equal(
      reports.reduce((n, r) => n + r.sent, 0),
      all.length,
    );
  });

  it("videos indexed hours after publishing are found by the overlap window", async () => {
    const { discovery, state } = make(rig);
    const query = "laptop battery";
    await drain(() => discovery.search({ query, max_results: 500 }));
    // Time passes in small steps; each run re-asks the last hours, where late-indexed videos land.
    for (let k = 0; k < 8; k++) {
      await control(rig, "advance", { ms: 3_600_000 });
      await drain(() => discovery.search({ query, max_results: 500 }));
    }
    const all = expected(["laptop", "battery"]);
    assert.ok(all.length > 20, `${all.length} matches`);
    assert.deepEqual(await state.unseen("videos", all), [], "every video indexed by now was found, late ones included");
  });
});

describe("a refused API key", () => {
  const rig = new Rig();
  before(() => rig.start({ channels: 2, videos: 400 }));
  after(() => rig.stop());

  for (const [status, reason] of [
    [400, "keyInvalid"],
    [403, "accessNotConfigured"],
  ] as const) {
    it(`${reason} stops discovery for the key with one error line, and is not retried`, async () => {
      const { discovery, key } = make(rig);
      const lines: Array<Record<string, unknown>> = [];
      const logger = createLogger({ service: "t", level: "info", destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
      const gate = new QuotaGate(logger);
      // One answer: a refused key is asked once, never again.
      await control(rig, "stage", { kind: "error", status, reason, count: 1 });
      const source = { kind: "most_popular", params: { region_code: "US" } } as const;
      const outcome = await runSource(discovery, gate, source, logger);
      assert.equal(outcome.ok, false);
      assert.equal(!outcome.ok && outcome.retryable, false, "not retried as an auth hiccup");
      assert.equal(await gate.paused(), true, "discovery claims nothing more");
      const calls = rig.sandbox.quota(key).calls["videos.list"] ?? 0;
      const again = await runSource(discovery, gate, source, logger);
      assert.equal(again.ok, false);
      assert.equal(rig.sandbox.quota(key).calls["videos.list"] ?? 0, calls, "no call with a refused key");
      assert.equal(lines.filter((l) => l.level === 50).length, 1, "one error line");
    });
  }
});
