// The processor on the strict sandbox: upstream glitches, odd videos and refused keys, staged through the
// sandbox's control API, each failing only its own task (or none).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "@prismq/worker-kit";
import { MAX_DESCRIPTION, YouTubeError } from "@prismq/youtube-source";
import type { BatchOutcome } from "@prismq/worker-kit";
import type { VideoTask } from "../src/processor.js";
import { Rig } from "./helpers.js";

/** POSTs to the sandbox's control API, as another process would. */
async function control(rig: Rig, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${rig.sandbox.url}/_sandbox/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, `${path}: ${res.status} ${await res.text()}`);
}

const byVideo = (outcomes: Array<BatchOutcome<VideoTask>>) => new Map(outcomes.map((o) => [o.task.params.video_id, o]));

async function rejects(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  return assert.fail("expected a rejection");
}

describe("upstream glitches fail only what they touch", () => {
  test("one item of a batch with a wrong type (title: 12345) fails only its task, retryable, naming the video and the field", async (t) => {
    const rig = await Rig.start(t);
    const ids = rig.sandbox.data.videoIds().slice(-40, -37);
    const bad = ids[1] as string;
    await control(rig, "stage", { kind: "bad-item", path: "/youtube/v3/videos", videoId: bad });
    const outcomes = byVideo(await rig.processor.handle(rig.fakeClaims(ids)));
    const failed = outcomes.get(bad);
    assert.ok(failed && !failed.ok);
    assert.equal(failed.retryable, true);
    assert.match(failed.error, new RegExp(`${bad}.*snippet\\.title is a number`));
    for (const id of ids) if (id !== bad) assert.equal(outcomes.get(id)?.ok, true, id);
    assert.equal(await rig.store.count(), 2);
  });

  test("a 200 with an HTML page is a retryable upstream error for the batch, never 'not found'; a retry stores every video", async (t) => {
    const rig = await Rig.start(t);
    const ids = rig.sandbox.data.videoIds().slice(-10, -5);
    await control(rig, "stage", { kind: "html", path: "/youtube/v3/videos" });
    const err = await rejects(rig.processor.handle(rig.fakeClaims(ids)));
    assert.ok(err instanceof YouTubeError && err.retryable && err.code === "YT_ERR_UNAVAILABLE", String(err));
    assert.equal(await rig.store.count(), 0);
    const again = await rig.processor.handle(rig.fakeClaims(ids));
    assert.ok(again.every((o) => o.ok));
    assert.equal(await rig.store.count(), 5);
  });

  test("one video's comments rate-limited fails only that task, retryable; comments turned off leave an idea without comments", async (t) => {
    const rig = await Rig.start(t, { processor: { commentsPerVideo: 5 }, strict: { garbageRate: 0, commentsDisabledShare: 0 } });
    const ids = rig.sandbox.data.videoIds().slice(-300, -297);
    const [limited, off, fine] = ids as [string, string, string];
    await control(rig, `videos/${off}/comments`, { disabled: true });
    // The first commentThreads call of the batch (the first video) is rate-limited.
    await control(rig, "stage", { kind: "error", status: 403, reason: "rateLimitExceeded", path: "/youtube/v3/commentThreads" });
    const outcomes = byVideo(await rig.processor.handle(rig.fakeClaims(ids)));
    const l = outcomes.get(limited);
    assert.ok(l && !l.ok && l.retryable, "rate-limited comments: retried later");
    assert.match(l.ok ? "" : l.error, /rateLimitExceeded/);
    assert.equal(outcomes.get(off)?.ok, true, "comments off: stored anyway");
    assert.equal(outcomes.get(fine)?.ok, true);
    const stored = await rig.store.get("youtube", off);
    assert.equal(stored?.metadata.commentsFetched, 0);
  });
});

describe("odd videos become sound ideas", () => {
  test("a 4 MB description, viewCount 1e308 and an unparseable publishedAt: stored once, bounded, date unknown, task done", async (t) => {
    const rig = await Rig.start(t);
    const ids = rig.sandbox.data.videoIds().slice(-60, -57);
    const odd = ids[0] as string;
    await control(rig, "stage", { kind: "huge-item", path: "/youtube/v3/videos", videoId: odd });
    const outcomes = await rig.processor.handle(rig.fakeClaims(ids));
    assert.ok(
      outcomes.every((o) => o.ok),
      JSON.stringify(outcomes.filter((o) => !o.ok)),
    );
    const idea = await rig.store.get("youtube", odd);
    assert.ok(idea);
    assert.equal(idea.description.length, MAX_DESCRIPTION);
    assert.ok(idea.content.length < 30_000, `content bounded: ${idea.content.length}`);
    assert.equal(idea.sourceCreatedAt, null);
    assert.ok(idea.score !== null && idea.score <= 100);
  });

  test("live and upcoming broadcasts are stored as such, not as Shorts", async (t) => {
    const rig = await Rig.start(t);
    const ids = rig.sandbox.data.videoIds().slice(-80, -78);
    const [live, upcoming] = ids as [string, string];
    await control(rig, `videos/${live}/live`, { state: "live" });
    await control(rig, `videos/${upcoming}/live`, { state: "upcoming" });
    const outcomes = await rig.processor.handle(rig.fakeClaims(ids));
    assert.ok(outcomes.every((o) => o.ok));
    const l = await rig.store.get("youtube", live);
    const u = await rig.store.get("youtube", upcoming);
    assert.equal(l?.metadata.broadcast, "live");
    assert.equal(l?.metadata.isShort, false);
    assert.equal(u?.metadata.broadcast, "upcoming");
    assert.equal(u?.metadata.isShort, false);
    assert.equal(u?.score, null, "no views yet: not scored");
  });

  test("a video deleted between discovery and processing fails its task for good; the batch goes on", async (t) => {
    const rig = await Rig.start(t);
    const ids = rig.sandbox.data.videoIds().slice(-90, -87);
    await control(rig, `videos/${ids[2] as string}/delete`, {});
    const outcomes = byVideo(await rig.processor.handle(rig.fakeClaims(ids)));
    const gone = outcomes.get(ids[2] as string);
    assert.ok(gone && !gone.ok && !gone.retryable);
    assert.equal(outcomes.get(ids[0] as string)?.ok, true);
  });
});

describe("a refused API key", () => {
  test("keyInvalid hands the batch back, stops processing with one error line, and no further call is made", async (t) => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ service: "t", level: "info", destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
    const rig = await Rig.start(t, { logger });
    const ids = rig.sandbox.data.videoIds().slice(-20, -18);
    await control(rig, "stage", { kind: "error", status: 400, reason: "keyInvalid" });
    const outcomes = await rig.processor.handle(rig.fakeClaims(ids));
    assert.ok(outcomes.every((o) => !o.ok && o.retryable), "handed back, not failed for good");
    assert.ok(rig.processor.keyRefused, "the app stops claiming");
    const calls = rig.sandbox.quota(rig.ytKey).calls["videos.list"] ?? 0;
    await rig.processor.handle(rig.fakeClaims(ids));
    assert.equal(rig.sandbox.quota(rig.ytKey).calls["videos.list"] ?? 0, calls, "no call with a refused key");
    assert.equal(lines.filter((l) => l.level === 50).length, 1, "one error line");
  });
});
