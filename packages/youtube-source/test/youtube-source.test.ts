import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { thrown } from "@prismq/sandbox/testing";
import { YOUTUBE_QUOTA_COSTS, type YouTubeSandbox } from "@prismq/sandbox";
import { LocalBudget, WorkerMetrics } from "@prismq/worker-kit";
import {
  QUOTA_COSTS,
  QuotaExhaustedError,
  SHORTS_MAX_SECONDS,
  VIDEO_SCORE,
  YouTubeApi,
  YouTubeError,
  commentTexts,
  durationSeconds,
  extractYouTubeIds,
  toYouTubeError,
  videoMetrics,
  videoScore,
  videoToIdea,
  type CommentThread,
  type YouTubeMethod,
} from "../src/index.js";
import { api, counterValue, DAY, fakeVideo, memoryLogger, sandbox } from "./helpers.js";

const NOW = Date.UTC(2026, 0, 20, 12);
const daysAgo = (d: number) => new Date(NOW - d * DAY).toISOString();

/** The channel with the most uploads now (so its playlist has several pages). */
function biggestChannel(sb: YouTubeSandbox): number {
  let best = 0;
  for (let c = 1; c < sb.data.channelCount; c++) if (sb.data.uploadCount(c) > sb.data.uploadCount(best)) best = c;
  return best;
}

describe("extractYouTubeIds", () => {
  test("finds every URL form, with or without scheme and www./m./music., each id once in order of first appearance", () => {
    const text = [
      "first https://www.youtube.com/watch?feature=share&t=42&v=AAAAAAAAAA1 then",
      "youtu.be/BBBBBBBBBB2, also (https://youtube.com/shorts/CCCCCCCCCC3)",
      "embed: http://m.youtube.com/embed/DDDDDDDDDD4 live: www.youtube.com/live/EEEEEEEEEE5?si=x",
      "music https://music.youtube.com/watch?v=FFFFFFFFFF6&list=RD and plain youtube.com/watch?v=GGGGGGGG_-7",
      "html <a href=\"https://www.youtube.com/watch?list=PL1&amp;v=HHHHHHHHHH8\">x</a>",
      "again https://youtu.be/BBBBBBBBBB2 and https://www.youtube.com/watch?v=AAAAAAAAAA1",
      "m. watch https://m.youtube.com/watch?v=IIIIIIIIII9 and https://www.youtu.be/JJJJJJJJJ10",
      "end of a sentence: youtu.be/KKKKKKKKK11. Same short as a watch link: youtube.com/watch?v=CCCCCCCCCC3#t=5",
    ].join("\n");
    assert.deepEqual(extractYouTubeIds(text), [
      "AAAAAAAAAA1",
      "BBBBBBBBBB2",
      "CCCCCCCCCC3",
      "DDDDDDDDDD4",
      "EEEEEEEEEE5",
      "FFFFFFFFFF6",
      "GGGGGGGG_-7",
      "HHHHHHHHHH8",
      "IIIIIIIIII9",
      "JJJJJJJJJ10",
      "KKKKKKKKK11",
    ]);
  });

  test("reads hosts in any case and privacy-enhanced embeds", () => {
    assert.deepEqual(extractYouTubeIds("https://YouTube.COM/watch?v=AAAAAAAAAA1 https://www.youtube-nocookie.com/embed/BBBBBBBBBB2 HTTPS://YOUTU.BE/CCCCCCCCCC3"), [
      "AAAAAAAAAA1",
      "BBBBBBBBBB2",
      "CCCCCCCCCC3",
    ]);
  });

  test("order follows the text, not the kind of link", () => {
    const text = "https://youtu.be/ZZZZZZZZZZ1 then https://www.youtube.com/watch?v=YYYYYYYYYY2 then youtube.com/shorts/XXXXXXXXXX3 then youtu.be/WWWWWWWWWW4";
    assert.deepEqual(extractYouTubeIds(text), ["ZZZZZZZZZZ1", "YYYYYYYYYY2", "XXXXXXXXXX3", "WWWWWWWWWW4"]);
  });

  test("rejects ids of the wrong length and lookalike domains", () => {
    const text = [
      "https://www.youtube.com/watch?v=ABCDEFGHIJKL", // 12 characters
      "https://youtu.be/ABCDEFGHIJKL",
      "https://youtube.com/shorts/ABCDEFGHIJKL",
      "https://youtube.com/watch?v=ABCDEFGHIJ", // 10 characters
      "https://notyoutube.com/watch?v=NNNNNNNNNN1",
      "https://www.notyoutube.com/watch?v=NNNNNNNNNN2",
      "https://fakeyoutu.be/NNNNNNNNNN3",
      "notyoutube.com/shorts/NNNNNNNNNN4",
      "https://youtube.com.evil.example/watch?v=NNNNNNNNNN5",
      "https://www.youtube.com/watch?xv=NNNNNNNNNN6",
      "https://www.youtube.com/channel/UCNNNNNNNNNNNNNNNNNNNNN7",
      "https://evil.example/youtube.com/watch?v=NNNNNNNNNN8", // a YouTube address inside another site's path
    ].join(" ");
    assert.deepEqual(extractYouTubeIds(text), []);
    assert.deepEqual(extractYouTubeIds(""), []);
  });
});

describe("durationSeconds", () => {
  test("reads the ISO 8601 durations YouTube sends", () => {
    assert.equal(durationSeconds("PT45S"), 45);
    assert.equal(durationSeconds("PT12M3S"), 12 * 60 + 3);
    assert.equal(durationSeconds("PT12M"), 720);
    assert.equal(durationSeconds("PT1H2M5S"), 3600 + 120 + 5);
    assert.equal(durationSeconds("P1DT2H"), 86_400 + 7_200);
    assert.equal(durationSeconds("P1W"), 604_800);
    assert.equal(durationSeconds("P0D"), 0);
    assert.equal(durationSeconds("PT0S"), 0);
  });

  test("gives null for anything that is not a duration", () => {
    for (const bad of ["", "P", "PT", "P1DT", "1H", "PT1H2", "T1H", "PT-5S", "PT5X", "abc", " PT5S", "PT5S "]) {
      assert.equal(durationSeconds(bad), null, JSON.stringify(bad));
    }
    assert.equal(durationSeconds(null), null);
    assert.equal(durationSeconds(undefined), null);
  });
});

describe("videoMetrics and videoScore", () => {
  test("known inputs give the numbers worked out by hand from VIDEO_SCORE", () => {
    assert.deepEqual(VIDEO_SCORE, {
      viewsPerDay: { weight: 0.45, half: 5_000 },
      engagementRate: { weight: 0.35, half: 0.04 },
      commentRatio: { weight: 0.2, half: 0.002 },
    });
    // 10,000 views in 2 days: 5,000/day -> 0.5; (300+20)/10,000 = 0.032 -> 0.032/0.072; 20/10,000 = 0.002 -> 0.5.
    const m = videoMetrics(fakeVideo({ views: "10000", likes: "300", comments: "20", publishedAt: daysAgo(2) }), NOW);
    assert.deepEqual(m, { views: 10_000, likes: 300, comments: 20, ageDays: 2, viewsPerDay: 5_000, engagementRate: 0.032, likeRatio: 0.03, commentRatio: 0.002 });
    // 100 * (0.45 * 0.5 + 0.35 * 0.4444 + 0.2 * 0.5) = 48.06 -> 48.1
    assert.equal(videoScore(m), 48.1);

    // 20,000 views in a day: 0.8; (800+80)/20,000 = 0.044 -> 0.044/0.084; 0.004 -> 0.004/0.006. 100 * (0.36 + 0.18333 + 0.13333) = 67.67 -> 67.7
    const m2 = videoMetrics(fakeVideo({ views: "20000", likes: "800", comments: "80", publishedAt: daysAgo(1) }), NOW);
    assert.equal(m2.viewsPerDay, 20_000);
    assert.equal(m2.engagementRate, 0.044);
    assert.equal(m2.commentRatio, 0.004);
    assert.equal(videoScore(m2), 67.7);

    // Views only: 1,000 in 10 days = 100/day -> 100/5,100 * 45 = 0.88 -> 0.9
    const m3 = videoMetrics(fakeVideo({ views: "1000", likes: "0", comments: "0", publishedAt: daysAgo(10) }), NOW);
    assert.equal(m3.viewsPerDay, 100);
    assert.equal(videoScore(m3), 0.9);
  });

  test("a video is at least an hour old, and an unknown publication date counts as one day", () => {
    const fresh = videoMetrics(fakeVideo({ views: "100", publishedAt: new Date(NOW).toISOString() }), NOW);
    assert.equal(fresh.ageDays, 0.042);
    assert.equal(fresh.viewsPerDay, 2_400, "100 views in the first hour is 2,400 a day");
    const future = videoMetrics(fakeVideo({ views: "100", publishedAt: daysAgo(-3) }), NOW);
    assert.equal(future.viewsPerDay, 2_400);
    const undated = videoMetrics(fakeVideo({ views: "500" }), NOW);
    assert.equal(undated.ageDays, 1);
    assert.equal(undated.viewsPerDay, 500);
  });

  test("zero, missing or garbage counts give zeros, never NaN", () => {
    const cases = [
      fakeVideo({ views: "0", likes: "0", comments: "0", publishedAt: daysAgo(3) }),
      fakeVideo({ views: "0", likes: "5", comments: "2", publishedAt: daysAgo(3) }),
      fakeVideo({ views: null, likes: null, comments: null }),
      fakeVideo({ views: "abc", likes: "-5", comments: "NaN", publishedAt: "not a date" }),
      { id: "x" },
    ];
    for (const v of cases) {
      const m = videoMetrics(v, NOW);
      for (const [k, n] of Object.entries(m)) assert.ok(Number.isFinite(n), `${k} is ${n}`);
      assert.equal(m.views, 0);
      assert.equal(m.engagementRate, 0);
      assert.equal(m.likeRatio, 0);
      assert.equal(m.commentRatio, 0);
      assert.equal(videoScore(m), 0);
    }
  });

  test("scores stay within 0..100, even for huge counts", () => {
    const huge = videoMetrics(fakeVideo({ views: "1000000000000", likes: "1000000000000", comments: "1000000000000", publishedAt: daysAgo(0.01) }), NOW);
    const s = videoScore(huge);
    assert.ok(s > 99 && s <= 100, `huge score ${s}`);
    for (const views of [1, 10, 1_000, 1e6, 1e9]) {
      for (const rate of [0, 0.001, 0.05, 0.5]) {
        const sc = videoScore(videoMetrics(fakeVideo({ views: String(views), likes: String(Math.floor(views * rate)), comments: String(Math.floor(views * rate * 0.1)), publishedAt: daysAgo(5) }), NOW));
        assert.ok(sc >= 0 && sc <= 100, `score ${sc}`);
      }
    }
  });

  test("more views per day, at the same ratios, scores higher", () => {
    let last = -1;
    for (const views of [100, 1_000, 10_000, 100_000, 1_000_000]) {
      const m = videoMetrics(fakeVideo({ views: String(views), likes: String(views / 50), comments: String(views / 1000), publishedAt: daysAgo(4) }), NOW);
      const s = videoScore(m);
      assert.ok(s > last, `${views} views: ${s} > ${last}`);
      last = s;
    }
    // The same views over fewer days score higher too.
    const older = videoScore(videoMetrics(fakeVideo({ views: "50000", likes: "1000", comments: "50", publishedAt: daysAgo(30) }), NOW));
    const newer = videoScore(videoMetrics(fakeVideo({ views: "50000", likes: "1000", comments: "50", publishedAt: daysAgo(2) }), NOW));
    assert.ok(newer > older);
  });
});

describe("videoToIdea", () => {
  const thread = (text: { original?: string; display?: string }): CommentThread => ({
    snippet: { topLevelComment: { snippet: { textOriginal: text.original, textDisplay: text.display } } },
  });

  test("maps a cooking video's fields, keywords (tags first), category, metadata and comments", () => {
    const video = fakeVideo({
      id: "Ab3_-xYz012",
      title: "Easy sourdough bread recipe",
      description: "How to bake sourdough at home in a small kitchen.",
      tags: ["Sourdough", "baking", "bread"],
      duration: "PT2M30S",
      views: "10000",
      likes: "300",
      comments: "20",
      publishedAt: daysAgo(2),
      channelTitle: "Crumb Kitchen",
      channelId: "UCaaaaaaaaaaaaaaaaaaaaaa",
      categoryId: "26",
    });
    const comments = [thread({ original: "Great recipe, my loaf rose perfectly!" }), thread({ display: "  Which flour did you use?  " }), thread({ original: "   " }), {}];
    const idea = videoToIdea(video, comments, NOW);

    assert.equal(idea.title, "Easy sourdough bread recipe");
    assert.equal(idea.description, "How to bake sourdough at home in a small kitchen.");
    assert.equal(idea.sourcePlatform, "youtube");
    assert.equal(idea.sourceType, "video");
    assert.equal(idea.sourceId, "Ab3_-xYz012");
    assert.equal(idea.sourceUrl, "https://www.youtube.com/watch?v=Ab3_-xYz012");
    assert.equal(idea.sourceCreatedBy, "Crumb Kitchen");
    assert.equal(idea.sourceCreatedAt, daysAgo(2));
    assert.equal(idea.category, "food");
    assert.deepEqual(idea.keywords?.slice(0, 3), ["sourdough", "baking", "bread"]);
    assert.ok((idea.keywords?.length ?? 0) > 3, "then the strongest terms");
    assert.ok((idea.keywords?.length ?? 0) <= 15);
    assert.equal(idea.content, "How to bake sourdough at home in a small kitchen.\n\nGreat recipe, my loaf rose perfectly!\n\nWhich flour did you use?");

    const metrics = videoMetrics(video, NOW);
    assert.equal(idea.score, videoScore(metrics));
    assert.equal(idea.score, 48.1);
    assert.ok(idea.contextualCategoryScores && (idea.contextualCategoryScores.food ?? 0) > 0.5);
    assert.ok(idea.subcategoryRelevance && "recipes" in idea.subcategoryRelevance);
    assert.deepEqual(idea.metadata, {
      videoId: "Ab3_-xYz012",
      channelId: "UCaaaaaaaaaaaaaaaaaaaaaa",
      channelTitle: "Crumb Kitchen",
      categoryId: "26",
      durationSeconds: 150,
      isShort: true,
      tags: ["Sourdough", "baking", "bread"],
      commentsFetched: 2,
      metrics: { ...metrics },
    });
  });

  test("a video is a Short up to 180 seconds, and not when longer or of unknown length", () => {
    const isShort = (duration: string | undefined) => videoToIdea(fakeVideo({ duration }), [], NOW).metadata?.isShort;
    assert.equal(SHORTS_MAX_SECONDS, 180);
    assert.equal(isShort("PT45S"), true);
    assert.equal(isShort("PT3M"), true);
    assert.equal(isShort("PT3M1S"), false);
    assert.equal(isShort("PT1H"), false);
    assert.equal(isShort(undefined), false);
    assert.equal(isShort("garbage"), false);
  });

  test("a video without title, description or comments still makes a valid idea", () => {
    const idea = videoToIdea({ id: "zzzzzzzzzzz" }, [], NOW);
    assert.equal(idea.title, "YouTube video zzzzzzzzzzz");
    assert.equal(idea.content, "");
    assert.equal(idea.category, "uncategorized");
    assert.equal(idea.score, 0);
    assert.equal(idea.sourceCreatedBy, null);
    assert.equal(idea.metadata?.commentsFetched, 0);
    assert.equal(idea.metadata?.durationSeconds, null);
  });

  test("commentTexts keeps top-level texts, original first, skipping empty ones", () => {
    assert.deepEqual(commentTexts([thread({ original: "a", display: "b" }), thread({ display: "c" }), thread({}), thread({ original: " d " })]), ["a", "c", "d"]);
  });
});

describe("toYouTubeError", () => {
  const gaxios = (status: number, reason?: string) => ({ response: { status, data: { error: { code: status, message: "m", errors: reason ? [{ reason }] : [] } } } });

  test("maps statuses and reasons to stable codes", () => {
    const cases: Array<[unknown, string, boolean]> = [
      [gaxios(500), "YT_ERR_UNAVAILABLE", true],
      [gaxios(503, "backendError"), "YT_ERR_UNAVAILABLE", true],
      [gaxios(429), "YT_ERR_UNAVAILABLE", true],
      [new Error("socket hang up"), "YT_ERR_UNAVAILABLE", true],
      [gaxios(404, "videoNotFound"), "YT_ERR_NOT_FOUND", false],
      [gaxios(401), "YT_ERR_AUTH", false],
      [gaxios(403, "forbidden"), "YT_ERR_AUTH", false],
      [gaxios(400, "keyInvalid"), "YT_ERR_AUTH", false],
      [gaxios(403, "quotaExceeded"), "YT_ERR_QUOTA", false],
      [gaxios(403, "rateLimitExceeded"), "YT_ERR_UNAVAILABLE", true],
      [gaxios(403, "userRateLimitExceeded"), "YT_ERR_UNAVAILABLE", true],
      [gaxios(403, "commentsDisabled"), "YT_ERR_BAD_REQUEST", false],
      [gaxios(400, "invalidParameter"), "YT_ERR_BAD_REQUEST", false],
    ];
    for (const [raw, code, retryable] of cases) {
      const err = toYouTubeError(raw, "videos.list");
      assert.ok(err instanceof YouTubeError);
      assert.equal(err.code, code, JSON.stringify(raw));
      assert.equal(err.retryable, retryable, JSON.stringify(raw));
      assert.equal(err.cause, raw);
      assert.match(err.message, /^YouTube videos\.list failed/);
    }
    const nf = toYouTubeError(gaxios(404, "videoNotFound"), "commentThreads.list");
    assert.equal(nf.status, 404);
    assert.equal(nf.reason, "videoNotFound");
    const same = new YouTubeError("YT_ERR_AUTH", "x");
    assert.equal(toYouTubeError(same, "m"), same);
  });
});

describe("YouTubeApi against the sandbox", () => {
  test("needs an API key", () => {
    assert.throws(() => new YouTubeApi({ apiKey: "" }), (e: unknown) => e instanceof YouTubeError && e.code === "YT_ERR_AUTH");
  });

  test("resolveChannel finds a channel by handle (any case) and by id with one channels.list call each", async (t) => {
    const sb = await sandbox(t);
    const yt = api(sb, "k-resolve");
    const info = sb.data.channel(3);
    const expected = { channelId: info.id, title: info.title, uploadsPlaylistId: info.uploadsPlaylistId, handle: info.handle.toLowerCase() };
    assert.deepEqual(await yt.resolveChannel(info.handle), expected);
    assert.deepEqual(await yt.resolveChannel(`@${info.handle.slice(1).toUpperCase()}`), expected);
    assert.deepEqual(await yt.resolveChannel(info.id), expected);
    assert.equal(sb.quota("k-resolve").calls["channels.list"], 3);
  });

  test("an unknown channel handle or id is YT_ERR_NOT_FOUND", async (t) => {
    const sb = await sandbox(t);
    const yt = api(sb, "k-nochannel");
    for (const who of ["@nobody-here-at-all", "UCxxxxxxxxxxxxxxxxxxxxxx"]) {
      const err = await thrown(() => yt.resolveChannel(who));
      assert.ok(err instanceof YouTubeError, String(err));
      assert.equal(err.code, "YT_ERR_NOT_FOUND");
      assert.equal(err.retryable, false);
      assert.match(err.message, new RegExp(who));
    }
  });

  test("playlistPage pages through an uploads playlist to the end, equal to the channel's uploads", async (t) => {
    const sb = await sandbox(t);
    const yt = api(sb, "k-playlist");
    const c = biggestChannel(sb);
    const expected = sb.data.uploads(c);
    assert.ok(expected.length > 100, "several pages");
    const ids: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await yt.playlistPage(sb.data.channel(c).uploadsPlaylistId, token);
      assert.ok(page.items.length <= 50);
      for (const it of page.items) {
        ids.push(it.videoId);
        assert.match(it.publishedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      }
      token = page.nextPageToken;
      pages++;
    } while (token && pages < 100);
    assert.equal(token, undefined, "paging ended");
    assert.deepEqual(ids, expected);
    assert.equal(pages, Math.ceil(expected.length / 50));
    assert.equal(sb.quota("k-playlist").calls["playlistItems.list"], pages);
  });

  test("an unknown playlist is YT_ERR_NOT_FOUND", async (t) => {
    const sb = await sandbox(t);
    const err = await thrown(() => api(sb, "k-nopl").playlistPage("UUdoesnotexistdoesnotexis"));
    assert.ok(err instanceof YouTubeError);
    assert.equal(err.code, "YT_ERR_NOT_FOUND");
    assert.equal(err.status, 404);
    assert.equal(err.reason, "playlistNotFound");
  });

  test("videos() looks up 50 ids with one videos.list call and refuses more than 50 without calling", async (t) => {
    const sb = await sandbox(t);
    const yt = api(sb, "k-videos");
    const ids = sb.data.videoIds().slice(100, 150);
    const videos = await yt.videos(ids);
    assert.deepEqual(
      videos.map((v) => v.id),
      ids,
    );
    for (const v of videos) {
      assert.ok(v.snippet?.title);
      assert.match(v.statistics?.viewCount ?? "", /^\d+$/);
      assert.ok(durationSeconds(v.contentDetails?.duration) !== null);
    }
    assert.equal(sb.quota("k-videos").calls["videos.list"], 1);

    const more = sb.data.videoIds().slice(0, 51);
    await assert.rejects(() => yt.videos(more), RangeError);
    assert.deepEqual(await yt.videos([]), []);
    assert.equal(sb.quota("k-videos").calls["videos.list"], 1, "neither made a call");
  });

  test("videos() leaves out deleted and unknown ids", async (t) => {
    const sb = await sandbox(t);
    const ids = sb.data.videoIds().slice(0, 5);
    assert.ok(sb.deleteVideo(ids[2] as string));
    const got = await api(sb, "k-deleted").videos([...ids, "zzzzzzzzzzz"]);
    assert.deepEqual(
      got.map((v) => v.id),
      [ids[0], ids[1], ids[3], ids[4]],
    );
  });

  test("search pages through results, 100 units a page", async (t) => {
    // About paging and cost: instant indexing, so the channel's newest uploads are all found.
    const sb = await sandbox(t, { strict: { indexingLagMs: 0, garbageRate: 0 } });
    const yt = api(sb, "k-search");
    const expected = Array.from(sb.data.search({ terms: ["sourdough"], excluded: [], order: "relevance" }), (i) => sb.data.videoId(i));
    assert.ok(expected.length > 50, `enough results: ${expected.length}`);
    const first = await yt.search({ q: "sourdough" });
    assert.equal(first.items.length, 50);
    assert.ok(first.nextPageToken);
    const second = await yt.search({ q: "sourdough", pageToken: first.nextPageToken });
    assert.deepEqual(
      [...first.items, ...second.items].map((it) => it.videoId),
      expected.slice(0, 100),
    );
    for (const it of first.items) assert.ok(Date.parse(it.publishedAt) <= sb.world.clock.now());

    // By channel, newest first: the channel's uploads.
    const c = biggestChannel(sb);
    const byChannel = await yt.search({ channelId: sb.data.channel(c).id, order: "date", maxResults: 10 });
    assert.deepEqual(
      byChannel.items.map((it) => it.videoId),
      sb.data.uploads(c).slice(0, 10),
    );
    const q = sb.quota("k-search");
    assert.equal(q.calls["search.list"], 3);
    assert.equal(q.byMethod["search.list"], 300);
  });

  test("mostPopular pages through the region's chart as full video resources", async (t) => {
    const sb = await sandbox(t);
    const yt = api(sb, "k-popular");
    const chart = Array.from(sb.data.mostPopular("US", undefined), (i) => sb.data.videoId(i));
    const first = await yt.mostPopular({ regionCode: "US", maxResults: 10 });
    const second = await yt.mostPopular({ regionCode: "US", maxResults: 10, pageToken: first.nextPageToken });
    assert.deepEqual(
      [...first.items, ...second.items].map((v) => v.id),
      chart.slice(0, 20),
    );
    const views = first.items.map((v) => Number(v.statistics?.viewCount));
    assert.deepEqual(
      views,
      [...views].sort((a, b) => b - a),
      "most viewed first",
    );
    assert.ok(first.items.every((v) => v.snippet?.title && v.contentDetails?.duration));
    assert.equal(sb.quota("k-popular").calls["videos.list"], 2);
  });

  test("topComments lists a video's most relevant threads, and a deleted video is YT_ERR_NOT_FOUND", async (t) => {
    const sb = await sandbox(t);
    const yt = api(sb, "k-comments");
    const ids = sb.data.videoIds();
    const index = (id: string) => sb.data.videoIndex(id) as number;
    const busy = ids.find((id) => sb.data.commentThreadCount(index(id)) >= 10);
    assert.ok(busy, "a video with 10+ comment threads");
    const i = index(busy);
    const expected = sb.data.commentThreadOrder(i, "relevance").slice(0, 5).map((k) => sb.data.commentThreadResource(i, k, { replies: false, textFormat: "plainText" }));
    const threads = await yt.topComments(busy, 5);
    assert.deepEqual(
      threads.map((th) => th.id),
      expected.map((th) => th.id),
    );
    assert.deepEqual(
      commentTexts(threads),
      expected.map((th) => th.snippet?.topLevelComment.snippet.textOriginal.trim()),
    );

    const quiet = ids.find((id) => sb.data.commentThreadCount(index(id)) === 0);
    if (quiet) assert.deepEqual(await yt.topComments(quiet, 5), []);

    const gone = ids[7] as string;
    sb.deleteVideo(gone);
    const err = await thrown(() => yt.topComments(gone));
    assert.ok(err instanceof YouTubeError);
    assert.equal(err.code, "YT_ERR_NOT_FOUND");
  });

  test("each method spends its QUOTA_COSTS units, as the API charges them", async (t) => {
    const sb = await sandbox(t);
    const key = "k-costs";
    const metrics = new WorkerMetrics("yt-test", { defaultMetrics: false });
    const yt = api(sb, key, { metrics });
    assert.deepEqual({ ...QUOTA_COSTS }, { ...YOUTUBE_QUOTA_COSTS });
    const ch = await yt.resolveChannel(sb.data.channel(0).handle);
    await yt.playlistPage(ch.uploadsPlaylistId);
    await yt.search({ q: "ramen", maxResults: 5 });
    await yt.videos(sb.data.videoIds().slice(0, 3));
    await yt.topComments(sb.data.videoIds()[0] as string, 3);
    const q = sb.quota(key);
    const methods = Object.keys(QUOTA_COSTS) as YouTubeMethod[];
    for (const m of methods) {
      assert.equal(q.calls[m], 1, m);
      assert.equal(q.byMethod[m], QUOTA_COSTS[m], m);
      assert.equal(await counterValue(metrics.apiCalls, { api: "youtube", method: m, outcome: "ok" }), 1, m);
    }
    const total = methods.reduce((s, m) => s + QUOTA_COSTS[m], 0);
    assert.equal(q.spent, total);
    assert.equal((await metrics.youtubeQuotaUnitsSpent.get()).values[0]?.value, total);
    assert.equal(yt.unitsSpent, total);
    // One latency sample per call, labelled with the API and the call.
    const durations = (await metrics.externalRequestDuration.get()).values.filter((v) => v.metricName === "prismq_external_request_duration_seconds_count");
    for (const m of methods) assert.equal(durations.find((v) => v.labels.method === m && v.labels.api === "youtube" && v.labels.outcome === "ok")?.value, 1, m);
  });

  test("the budget refuses a call that does not fit before any request is made", async (t) => {
    const sb = await sandbox(t);
    const key = "k-budget";
    const budget = new LocalBudget({ name: "yt-test", limit: 150, window: { kind: "fixed", ms: 3_600_000 }, now: () => NOW });
    const metrics = new WorkerMetrics("yt-test", { defaultMetrics: false });
    const yt = api(sb, key, { budget, metrics });
    await yt.search({ q: "curry" });
    const requests = sb.stats().requests;
    const err = await thrown(() => yt.search({ q: "pasta" }));
    assert.ok(err instanceof QuotaExhaustedError, String(err));
    assert.equal(err.source, "budget");
    assert.equal(err.code, "YT_ERR_QUOTA");
    assert.equal(err.reason, "quotaExceeded");
    assert.equal(err.resetAt, Math.floor(NOW / 3_600_000 + 1) * 3_600_000);
    assert.equal(sb.stats().requests, requests, "no request was sent");
    assert.equal(sb.quota(key).spent, 100);
    assert.equal(sb.quota(key).calls["search.list"], 1);
    assert.equal((await budget.state()).spent, 100, "a refused spend spends nothing");
    assert.equal(await counterValue(metrics.apiCalls, { method: "search.list", outcome: "budget" }), 1);
    // What still fits goes through.
    await yt.videos(sb.data.videoIds().slice(0, 2));
    assert.equal((await budget.state()).spent, 101);
  });

  test("the API's 403 quotaExceeded is QuotaExhaustedError from the api and marks the budget spent", async (t) => {
    const sb = await sandbox(t);
    const key = "k-api-quota";
    const budget = new LocalBudget({ name: "yt-test", limit: 10_000, window: { kind: "fixed", ms: 3_600_000 }, now: () => NOW });
    const metrics = new WorkerMetrics("yt-test", { defaultMetrics: false });
    const yt = api(sb, key, { budget, metrics, attempts: 4 });
    const ids = sb.data.videoIds().slice(0, 3);
    await yt.videos(ids);
    sb.setQuota(key, { spent: sb.quota(key).limit });
    const err = await thrown(() => yt.videos(ids));
    assert.ok(err instanceof QuotaExhaustedError, String(err));
    assert.equal(err.source, "api");
    assert.equal(err.status, 403);
    assert.equal(sb.quota(key).rejected, 1, "one request, not retried");
    const state = await budget.state();
    assert.equal(state.remaining, 0);
    assert.equal(err.resetAt, state.resetAt);
    assert.equal(await counterValue(metrics.apiCalls, { method: "videos.list", outcome: "quota" }), 1);
    // From now on the budget stops calls before they are made.
    const requests = sb.stats().requests;
    const next = await thrown(() => yt.videos(ids));
    assert.ok(next instanceof QuotaExhaustedError);
    assert.equal(next.source, "budget");
    assert.equal(sb.stats().requests, requests);
  });

  test("a 5xx is retried: it recovers when the fault clears, and gives YT_ERR_UNAVAILABLE when attempts run out", async (t) => {
    const sb = await sandbox(t);
    const ids = sb.data.videoIds().slice(0, 4);

    // Fails once, then the fault clears (switched off when the retry warning is logged, before the retry is sent).
    const metrics = new WorkerMetrics("yt-test", { defaultMetrics: false });
    const { logger, lines } = memoryLogger((line) => {
      if (line.level === 40) sb.faults.errorRate = 0;
    });
    sb.faults.errorRate = 1;
    const yt = api(sb, "k-retry", { metrics, logger, attempts: 3, baseDelayMs: 1 });
    const videos = await yt.videos(ids);
    assert.equal(videos.length, 4);
    assert.equal(sb.stats().faulted, 1);
    const warnings = lines.filter((l) => l.level === 40);
    assert.equal(warnings.length, 1, "one retry logged");
    assert.equal(warnings[0]?.method, "videos.list");
    assert.equal(warnings[0]?.attempt, 1);
    assert.equal(await counterValue(metrics.apiCalls, { method: "videos.list", outcome: "retry" }), 1);
    assert.equal(await counterValue(metrics.apiCalls, { method: "videos.list", outcome: "ok" }), 1);

    // Fails on every attempt.
    const metrics2 = new WorkerMetrics("yt-test", { defaultMetrics: false });
    sb.faults.errorRate = 1;
    const faulted = sb.stats().faulted;
    const err = await thrown(() => api(sb, "k-retry-2", { metrics: metrics2, attempts: 2, baseDelayMs: 1 }).videos(ids));
    assert.ok(err instanceof YouTubeError, String(err));
    assert.equal(err.code, "YT_ERR_UNAVAILABLE");
    assert.equal(err.retryable, true);
    assert.equal(err.status, 503);
    assert.equal(sb.stats().faulted - faulted, 2, "two attempts");
    assert.equal(await counterValue(metrics2.apiCalls, { method: "videos.list", outcome: "retry" }), 1);
    assert.equal(await counterValue(metrics2.apiCalls, { method: "videos.list", outcome: "error" }), 1);
  });

  test("client errors are not retried", async (t) => {
    const sb = await sandbox(t, { apiKeys: ["the-good-key"] });
    const metrics = new WorkerMetrics("yt-test", { defaultMetrics: false });
    const before = sb.stats().requests;
    const err = await thrown(() => api(sb, "a-bad-key", { metrics, attempts: 4 }).videos(["abcdefghijk"]));
    assert.ok(err instanceof YouTubeError);
    assert.equal(err.code, "YT_ERR_AUTH");
    assert.equal(err.reason, "keyInvalid");
    assert.equal(err.retryable, false);
    assert.equal(sb.stats().requests - before, 1);
    assert.equal(await counterValue(metrics.apiCalls, { outcome: "retry" }), 0);
  });
});
