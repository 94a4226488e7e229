// The real API's limits and failure modes, staged on the strict sandbox, and what the adapter makes of them.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { thrown } from "@prismq/sandbox/testing";
import { ideaInputSchema } from "@prismq/idea-store";
import { WorkerMetrics } from "@prismq/worker-kit";
import { MAX_CONTENT, MAX_DESCRIPTION, YouTubeError, parseChannelRef, videoProblem, videoToIdea } from "../src/index.js";
import { api, counterValue, sandbox } from "./helpers.js";

/** A calm world but for what a test stages. */
const CALM_BUT_STAGED = { strict: { garbageRate: 0 } } as const;

describe("garbage answers are retryable upstream errors, never an empty answer", () => {
  for (const kind of ["html", "empty-object"] as const) {
    test(`a 200 with ${kind === "html" ? "an HTML page" : "{}"} is YT_ERR_UNAVAILABLE (badResponse), and a retry gets the real answer`, async (t) => {
      const sb = await sandbox(t, CALM_BUT_STAGED);
      const ids = sb.data.videoIds().slice(-3);
      sb.stage({ kind, path: "/youtube/v3/videos" });
      const err = await thrown(() => api(sb, "k1").videos(ids));
      assert.ok(err instanceof YouTubeError, String(err));
      assert.equal(err.code, "YT_ERR_UNAVAILABLE");
      assert.equal(err.reason, "badResponse");
      assert.equal(err.retryable, true);

      sb.stage({ kind, path: "/youtube/v3/videos" });
      const videos = await api(sb, "k2", { attempts: 2 }).videos(ids);
      assert.deepEqual(
        videos.map((v) => v.id),
        ids,
        "the second attempt is whole",
      );
    });
  }

  test("a channel lookup answered with garbage is not 'channel not found'", async (t) => {
    const sb = await sandbox(t, CALM_BUT_STAGED);
    sb.stage({ kind: "empty-object", path: "/youtube/v3/channels" });
    const err = await thrown(() => api(sb, "k").resolveChannel(sb.data.channel(0).handle));
    assert.ok(err instanceof YouTubeError);
    assert.equal(err.code, "YT_ERR_UNAVAILABLE");
  });
});

describe("response size caps", () => {
  test("a gzip answer that inflates past maxResponseBytes is cut off as a retryable responseTooLarge", async (t) => {
    const sb = await sandbox(t, CALM_BUT_STAGED);
    sb.stage({ kind: "gzip-bomb", path: "/youtube/v3/videos", inflatedBytes: 48 * 1024 * 1024 });
    const err = await thrown(() => api(sb, "secret-key-123", { maxResponseBytes: 1024 * 1024 }).videos(sb.data.videoIds().slice(-2)));
    assert.ok(err instanceof YouTubeError, String(err));
    assert.equal(err.code, "YT_ERR_UNAVAILABLE");
    assert.equal(err.reason, "responseTooLarge");
    assert.equal(err.retryable, true);
    // The fetch error quotes the URL, key included: never in what is kept (and logged).
    const texts: string[] = [];
    for (let e: unknown = err; e instanceof Error; e = e.cause) texts.push(e.message, JSON.stringify(e));
    assert.ok(!texts.join(" ").includes("secret-key-123"), texts.join(" ").slice(0, 300));
  });
});

describe("errors of the key, the rate and the comments", () => {
  for (const [status, reason] of [
    [400, "keyInvalid"],
    [403, "accessNotConfigured"],
  ] as const) {
    test(`${status} ${reason} refuses the key: not retried, keyRejected set`, async (t) => {
      const sb = await sandbox(t, CALM_BUT_STAGED);
      const metrics = new WorkerMetrics("yt-key", { defaultMetrics: false });
      sb.stage({ kind: "error", status, reason, count: 10 });
      const before = sb.stats().requests;
      const err = await thrown(() => api(sb, "k", { attempts: 4, metrics }).videos(sb.data.videoIds().slice(-1)));
      assert.ok(err instanceof YouTubeError);
      assert.equal(err.reason, reason);
      assert.equal(err.keyRejected, true);
      assert.equal(err.retryable, false);
      assert.equal(sb.stats().requests - before, 1, "one request, no retries");
      assert.equal(await counterValue(metrics.apiCalls, { outcome: "key" }), 1);
    });
  }

  test("403 rateLimitExceeded backs off and retries", async (t) => {
    const sb = await sandbox(t, CALM_BUT_STAGED);
    sb.stage({ kind: "error", status: 403, reason: "rateLimitExceeded", count: 2 });
    const ids = sb.data.videoIds().slice(-2);
    const videos = await api(sb, "k", { attempts: 3 }).videos(ids);
    assert.equal(videos.length, 2);
  });

  test("a video with comments off (the sandbox's 403 commentsDisabled) gives no comments, not an error", async (t) => {
    const sb = await sandbox(t, CALM_BUT_STAGED);
    const id = sb.data.videoIds().at(-50) as string;
    assert.equal(sb.setCommentsDisabled(id, true), true);
    assert.deepEqual(await api(sb, "k").topComments(id, 5), []);
    assert.equal(sb.quota("k").calls["commentThreads.list"], 1);
  });
});

describe("channel references in every common form", () => {
  test("parseChannelRef reads ids, handles and channel URLs", () => {
    const id = "UCabcdefghijklmnopqrstuv";
    const cases: Array<[string, ReturnType<typeof parseChannelRef>]> = [
      [id, { kind: "id", value: id }],
      ["@tech0", { kind: "handle", value: "tech0" }],
      ["tech0", { kind: "handle", value: "tech0" }],
      ["https://www.youtube.com/@tech0", { kind: "handle", value: "tech0" }],
      ["youtube.com/@tech0/videos?view=0", { kind: "handle", value: "tech0" }],
      ["https://m.youtube.com/channel/" + id, { kind: "id", value: id }],
      ["http://youtube.com/c/LaptopLab0", { kind: "custom", value: "LaptopLab0" }],
      ["https://www.youtube.com/user/LaptopLab0/featured", { kind: "username", value: "LaptopLab0" }],
      ["https://example.com/@tech0", null],
      ["https://www.youtube.com/watch?v=abc", null],
      ["", null],
    ];
    for (const [input, want] of cases) assert.deepEqual(parseChannelRef(input), want, input);
  });

  test("every form resolves against the sandbox: @, bare handle, /@ URL, /channel/, /user/ (forUsername) and /c/ (handle, then username)", async (t) => {
    const sb = await sandbox(t, CALM_BUT_STAGED);
    const ch = sb.data.channel(1);
    const yt = api(sb, "k");
    const handle = ch.handle.slice(1);
    for (const input of [
      ch.handle,
      handle,
      `https://www.youtube.com/${ch.handle}`,
      `youtube.com/channel/${ch.id}`,
      `https://www.youtube.com/user/${ch.username}`,
      `https://www.youtube.com/c/${handle}`,
      `https://www.youtube.com/c/${ch.username}`,
    ]) {
      const r = await yt.resolveChannel(input);
      assert.equal(r.channelId, ch.id, input);
      assert.equal(r.uploadsPlaylistId, ch.uploadsPlaylistId, input);
    }
    const notFound = await thrown(() => yt.resolveChannel("https://www.youtube.com/c/nobodyhere"));
    assert.ok(notFound instanceof YouTubeError && notFound.code === "YT_ERR_NOT_FOUND");
  });
});

describe("what the strict sandbox serves maps to safe ideas", () => {
  test("a malformed item is named by videoProblem; the rest of the batch is whole", async (t) => {
    const sb = await sandbox(t, CALM_BUT_STAGED);
    const ids = sb.data.videoIds().slice(-3);
    sb.stage({ kind: "bad-item", path: "/youtube/v3/videos", videoId: ids[1] });
    const videos = await api(sb, "k").videos(ids);
    assert.deepEqual(
      videos.map((v) => videoProblem(v)),
      [null, "snippet.title is a number, not a string", null],
    );
  });

  test("a 4 MB description, viewCount 1e308 and an unparseable publishedAt make a valid, bounded idea", async (t) => {
    const sb = await sandbox(t, CALM_BUT_STAGED);
    const id = sb.data.videoIds().at(-5) as string;
    sb.stage({ kind: "huge-item", path: "/youtube/v3/videos" });
    const [video] = await api(sb, "k").videos([id]);
    assert.ok(video);
    assert.equal(videoProblem(video), null);
    const idea = videoToIdea(video, [], sb.world.clock.now());
    assert.equal(idea.description?.length, MAX_DESCRIPTION);
    assert.ok((idea.content?.length ?? 0) <= MAX_CONTENT);
    assert.equal(idea.sourceCreatedAt, null, "an unparseable date is unknown, not a failure");
    assert.ok(ideaInputSchema.safeParse(idea).success, "the store takes it");
    const metrics = (idea.metadata as { metrics: Record<string, number> }).metrics;
    for (const [k, v] of Object.entries(metrics)) assert.ok(Number.isFinite(v), `${k} is finite: ${v}`);
    assert.ok((idea.score ?? 0) <= 100);
  });

  test("live and upcoming broadcasts (P0D, no viewCount) are marked as such, never as Shorts", async (t) => {
    const sb = await sandbox(t, CALM_BUT_STAGED);
    const [a, b, c] = sb.data.videoIds().slice(-30, -27) as [string, string, string];
    sb.setLive(a, "live");
    sb.setLive(b, "upcoming");
    const videos = await api(sb, "k").videos([a, b, c]);
    const byId = new Map(videos.map((v) => [v.id, v]));
    assert.equal(byId.get(a)?.contentDetails?.duration, "P0D");
    assert.equal(byId.get(b)?.statistics?.viewCount, undefined);
    const now = sb.world.clock.now();
    const live = videoToIdea(byId.get(a) as never, [], now);
    const upcoming = videoToIdea(byId.get(b) as never, [], now);
    const plain = videoToIdea(byId.get(c) as never, [], now);
    assert.equal(live.metadata?.broadcast, "live");
    assert.equal(live.metadata?.isShort, false);
    assert.equal(upcoming.metadata?.broadcast, "upcoming");
    assert.equal(upcoming.metadata?.isShort, false);
    assert.equal(upcoming.score, null, "no views yet: not scored");
    assert.equal(plain.metadata?.broadcast, undefined);
  });
});
