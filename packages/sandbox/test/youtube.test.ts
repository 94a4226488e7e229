import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { youtube, type youtube_v3 } from "@googleapis/youtube";
import { searchTokens } from "../src/youtube-data.js";
import { startYouTubeSandbox, type YouTubeSandbox, type YouTubeSandboxOptions } from "../src/youtube.js";

const DAY = 86_400_000;

async function sandbox(t: TestContext, options: YouTubeSandboxOptions = {}): Promise<YouTubeSandbox> {
  const sb = await startYouTubeSandbox(options);
  t.after(() => sb.close());
  return sb;
}

/** The real client, pointed at the sandbox; no automatic retries so faults are seen as they are. */
function client(sb: YouTubeSandbox, key: string | null = "test-key"): youtube_v3.Youtube {
  return youtube({ version: "v3", rootUrl: sb.rootUrl, retry: false, ...(key === null ? {} : { auth: key }) });
}

interface ParsedError {
  status: number | undefined;
  code: unknown;
  message: string;
  reason: string | undefined;
  domain: string | undefined;
  statusName: string | undefined;
}

/** Runs a call that must fail and returns what googleapis (gaxios) made of the error. */
async function failure(call: Promise<unknown>): Promise<ParsedError> {
  try {
    await call;
  } catch (e) {
    const err = e as {
      status?: number;
      code?: unknown;
      message: string;
      cause?: { errors?: Array<{ reason?: string; domain?: string }> };
      response?: { data?: { error?: { status?: string; errors?: Array<{ reason?: string; domain?: string }> } } };
    };
    assert.equal(e instanceof Error && e.constructor.name, "GaxiosError");
    const entry = err.response?.data?.error?.errors?.[0];
    assert.deepEqual(err.cause?.errors?.[0], entry, "gaxios exposes the API's errors[] as err.cause.errors");
    return { status: err.status, code: err.code, message: err.message, reason: entry?.reason, domain: entry?.domain, statusName: err.response?.data?.error?.status };
  }
  assert.fail("the call should have failed");
}

async function raw(sb: YouTubeSandbox, path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(sb.url + path, {
    method: init?.method ?? "GET",
    ...(init?.body !== undefined ? { body: JSON.stringify(init.body), headers: { "content-type": "application/json" } } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The channel with the most videos now (every default-world channel has some). */
function biggestChannel(sb: YouTubeSandbox): number {
  let best = 0;
  for (let c = 1; c < sb.data.channelCount; c++) if (sb.data.uploadCount(c) > sb.data.uploadCount(best)) best = c;
  return best;
}

async function allUploads(yt: youtube_v3.Youtube, playlistId: string, maxResults = 50): Promise<youtube_v3.Schema$PlaylistItem[]> {
  const items: youtube_v3.Schema$PlaylistItem[] = [];
  let pageToken: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const res = await yt.playlistItems.list({ part: ["snippet", "contentDetails"], playlistId, maxResults, ...(pageToken ? { pageToken } : {}) });
    items.push(...(res.data.items ?? []));
    pageToken = res.data.nextPageToken ?? undefined;
    if (!pageToken) return items;
  }
  assert.fail("paging did not end");
}

const seconds = (iso: string): number => {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(iso);
  assert.ok(m && iso !== "PT", `ISO 8601 duration: ${iso}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
};

test("a channel resolved by handle pages through its uploads playlist to the end, newest first, without repeats", async (t) => {
  const sb = await sandbox(t);
  const yt = client(sb);
  const c = biggestChannel(sb);
  const info = sb.data.channel(c);
  for (const handle of [info.handle, info.handle.slice(1).toUpperCase()]) {
    const res = await yt.channels.list({ part: ["snippet", "contentDetails", "statistics"], forHandle: handle });
    assert.equal(res.data.items?.length, 1, `forHandle=${handle}`);
    assert.equal(res.data.items?.[0]?.id, info.id);
  }
  const channel = (await yt.channels.list({ part: ["snippet", "contentDetails", "statistics"], forHandle: info.handle })).data.items?.[0];
  assert.ok(channel);
  assert.equal(channel.kind, "youtube#channel");
  assert.equal(channel.snippet?.customUrl, info.handle.toLowerCase());
  assert.ok(Date.parse(channel.snippet?.publishedAt ?? "") < sb.world.config.start, "created before the timeline");
  const uploads = channel.contentDetails?.relatedPlaylists?.uploads;
  assert.equal(uploads, `UU${info.id.slice(2)}`);
  assert.match(channel.statistics?.subscriberCount ?? "", /^\d+$/);
  assert.equal(channel.statistics?.hiddenSubscriberCount, false);

  const items = await allUploads(yt, uploads, 50);
  const ids = items.map((it) => it.contentDetails?.videoId);
  assert.ok(items.length > 50, "more than one page");
  assert.equal(items.length, Number(channel.statistics?.videoCount));
  assert.deepEqual(ids, sb.data.uploads(c));
  assert.equal(new Set(ids).size, ids.length, "no repeats");
  items.forEach((it, k) => {
    assert.equal(it.kind, "youtube#playlistItem");
    assert.equal(it.snippet?.position, k);
    assert.equal(it.snippet?.playlistId, uploads);
    assert.equal(it.snippet?.resourceId?.videoId, it.contentDetails?.videoId);
    assert.equal(it.snippet?.videoOwnerChannelId, info.id);
    assert.equal(it.snippet?.publishedAt, it.contentDetails?.videoPublishedAt);
    assert.match(it.snippet?.publishedAt ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    if (k > 0) assert.ok(Date.parse(it.snippet?.publishedAt ?? "") <= Date.parse(items[k - 1]?.snippet?.publishedAt ?? ""), "newest first");
  });
  assert.ok(Date.parse(items[0]?.snippet?.publishedAt ?? "") <= sb.world.clock.now(), "nothing from the future");

  // Small pages give the same list; maxResults=0 gives the total only.
  assert.deepEqual(
    (await allUploads(yt, uploads, 7)).map((it) => it.contentDetails?.videoId),
    ids,
  );
  const empty = await yt.playlistItems.list({ part: ["snippet"], playlistId: uploads, maxResults: 0 });
  assert.deepEqual(empty.data.items, []);
  assert.equal(empty.data.pageInfo?.totalResults, ids.length);
  assert.equal(empty.data.nextPageToken, undefined);
});

test("videos.list returns 50 videos in one call with only the requested parts, string statistics, ISO 8601 durations and Shorts", async (t) => {
  // About ordinary videos: no live broadcasts (P0D) and no comments turned off in this world.
  const sb = await sandbox(t, { strict: { liveShare: 0, commentsDisabledShare: 0, garbageRate: 0 } });
  const yt = client(sb);
  const ids = sb.data.videoIds().slice(-50).reverse();
  const res = await yt.videos.list({ part: ["snippet", "statistics", "contentDetails"], id: ids });
  assert.equal(res.data.kind, "youtube#videoListResponse");
  const items = res.data.items ?? [];
  assert.deepEqual(
    items.map((v) => v.id),
    ids,
    "one item per id, in the order asked",
  );
  const durations = items.map((v) => seconds(v.contentDetails?.duration ?? ""));
  assert.ok(durations.some((s) => s <= 60), "some Shorts");
  assert.ok(durations.some((s) => s > 240), "some long videos");
  for (const v of items) {
    const i = sb.data.videoIndex(v.id ?? "") as number;
    const info = sb.data.video(i);
    assert.equal(v.kind, "youtube#video");
    assert.match(v.etag ?? "", /^[\w-]{20,}$/);
    for (const k of ["viewCount", "likeCount", "commentCount", "favoriteCount"] as const) assert.match(v.statistics?.[k] ?? "", /^\d+$/, `${k} is a string of digits`);
    assert.ok(Number(v.statistics?.likeCount) <= Number(v.statistics?.viewCount));
    assert.equal(v.snippet?.title, info.title);
    assert.equal(v.snippet?.channelId, info.channelId);
    assert.equal(v.snippet?.channelTitle, sb.data.channel(info.channelIndex).title);
    assert.equal(v.snippet?.categoryId, info.categoryId);
    assert.equal(v.snippet?.publishedAt, new Date(Math.floor(info.publishedAt / 1000) * 1000).toISOString().replace(".000Z", "Z"));
    assert.ok((v.snippet?.tags?.length ?? 0) >= 3 && (v.snippet?.tags?.length ?? 0) <= 8);
    assert.equal(v.snippet?.liveBroadcastContent, "none");
    assert.equal(v.snippet?.defaultAudioLanguage, "en");
    assert.ok(v.snippet?.thumbnails?.default?.url && v.snippet.thumbnails.medium?.url && v.snippet.thumbnails.high?.url);
    assert.equal(seconds(v.contentDetails?.duration ?? ""), info.durationSeconds);
    assert.equal(v.contentDetails?.caption, "false");
    assert.equal(v.contentDetails?.definition, "hd");
    assert.equal(v.contentDetails?.dimension, "2d");
    assert.equal(v.contentDetails?.projection, "rectangular");
    assert.equal(typeof v.contentDetails?.licensedContent, "boolean");
  }
  const onlyStats = await yt.videos.list({ part: ["statistics"], id: ids.slice(0, 3) });
  for (const v of onlyStats.data.items ?? []) assert.deepEqual(Object.keys(v).sort(), ["etag", "id", "kind", "statistics"]);
  const units = sb.quota("test-key");
  assert.equal(units.spent, 2, "one unit per call, whatever the parts and ids");
});

test("videos.list with more than 50 ids is a 400 that googleapis parses into a GaxiosError, and still costs its unit", async (t) => {
  const sb = await sandbox(t);
  const yt = client(sb);
  const ids = sb.data.videoIds().slice(0, 51);
  const err = await failure(yt.videos.list({ part: ["snippet"], id: ids }));
  assert.equal(err.status, 400);
  assert.equal(err.code, 400);
  assert.equal(err.reason, "invalidParameter");
  assert.equal(err.domain, "youtube.parameter");
  assert.equal(err.statusName, "INVALID_ARGUMENT");
  assert.match(err.message, /51/);
  assert.equal(sb.quota("test-key").spent, 1);

  const part = await failure(yt.videos.list({ part: ["snippet", "bogus"], id: ids.slice(0, 1) }));
  assert.deepEqual([part.status, part.reason, part.domain], [400, "unknownPart", "youtube.part"]);
  const noFilter = await failure(yt.videos.list({ part: ["snippet"] }));
  assert.deepEqual([noFilter.status, noFilter.reason], [400, "missingRequiredParameter"]);
  const badMax = await failure(yt.search.list({ part: ["snippet"], maxResults: 51 }));
  assert.deepEqual([badMax.status, badMax.reason], [400, "invalidParameter"]);
  assert.equal(sb.quota("test-key").spent, 1 + 1 + 1 + 100, "failed calls cost their method's price");
});

test("unknown and deleted video ids are silently omitted; a video deleted at runtime disappears from every answer", async (t) => {
  const sb = await sandbox(t);
  const yt = client(sb);
  const deleted = sb.data.deletedVideoIds();
  assert.ok(deleted.length > 0 && deleted.length < sb.data.visibleAt() * 0.03, `about 1% deleted, got ${deleted.length}`);
  const alive = sb.data.videoIds().slice(0, 3);
  const res = await yt.videos.list({ part: ["id"], id: [alive[0] as string, "xxxxxxxxxxx", deleted[0] as string, ...alive.slice(1)] });
  assert.deepEqual(
    res.data.items?.map((v) => v.id),
    alive,
  );

  const c = biggestChannel(sb);
  const playlistId = sb.data.channel(c).uploadsPlaylistId;
  const before = (await yt.playlistItems.list({ part: ["contentDetails"], playlistId, maxResults: 5 })).data;
  const victim = before.items?.[1]?.contentDetails?.videoId as string;
  const del = await raw(sb, `/_sandbox/videos/${victim}/delete`, { method: "POST" });
  assert.deepEqual([del.status, del.body.deleted], [200, true]);
  assert.equal((await raw(sb, `/_sandbox/videos/${victim}/delete`, { method: "POST" })).body.deleted, false, "already deleted");
  assert.equal((await raw(sb, "/_sandbox/videos/nonexistent1/delete", { method: "POST" })).status, 404);

  assert.deepEqual((await yt.videos.list({ part: ["id"], id: [victim] })).data.items, []);
  const after = (await yt.playlistItems.list({ part: ["contentDetails"], playlistId, maxResults: 5 })).data;
  assert.equal(after.pageInfo?.totalResults, (before.pageInfo?.totalResults ?? 0) - 1);
  assert.ok(!after.items?.some((it) => it.contentDetails?.videoId === victim));
  const title = sb.data.title(sb.data.videoIndex(victim) as number);
  const found = await yt.search.list({ part: ["snippet"], type: ["video"], q: title, channelId: sb.data.channel(c).id, maxResults: 50, order: "date" });
  assert.ok(!found.data.items?.some((it) => it.id?.videoId === victim));
  assert.equal((await failure(yt.commentThreads.list({ part: ["snippet"], videoId: victim }))).reason, "videoNotFound");
  assert.ok(sb.deleteVideo(alive[0] as string));
  assert.deepEqual((await yt.videos.list({ part: ["id"], id: [alive[0] as string] })).data.items, []);
});

test("search matches any word of q in titles, tags and descriptions, honours order=date and publishedAfter, and pages to the end", async (t) => {
  // The calm search: any word matches, instant indexing, no cap (the strict one has its own tests).
  const sb = await sandbox(t, { strict: { allTermsMatch: false, indexingLagMs: 0, searchCap: 0, garbageRate: 0 } });
  const yt = client(sb);
  const after = sb.world.config.start + 10 * DAY;
  const terms = ["sourdough", "ramen", "curry"];
  const expected = new Set(
    sb.data.videoIds().filter((id) => {
      const v = sb.data.video(sb.data.videoIndex(id) as number);
      const words = new Set(searchTokens(`${v.title} ${v.description} ${v.tags.join(" ")}`));
      return v.publishedAt >= after && terms.some((w) => words.has(w));
    }),
  );
  assert.ok(expected.size > 30, `enough matches to page (${expected.size})`);

  const seen: string[] = [];
  let last = Infinity;
  let pageToken: string | undefined;
  let pages = 0;
  do {
    const res = await yt.search.list({
      part: ["snippet"],
      q: "Sourdough RAMEN curry",
      type: ["video"],
      order: "date",
      publishedAfter: new Date(after).toISOString(),
      maxResults: 10,
      ...(pageToken ? { pageToken } : {}),
    });
    pages++;
    assert.equal(res.data.kind, "youtube#searchListResponse");
    assert.equal(res.data.pageInfo?.totalResults, expected.size);
    if (pages > 1) assert.ok(res.data.prevPageToken, "prevPageToken after the first page");
    for (const item of res.data.items ?? []) {
      assert.equal(item.kind, "youtube#searchResult");
      assert.equal(item.id?.kind, "youtube#video");
      const published = Date.parse(item.snippet?.publishedAt ?? "");
      assert.ok(published >= Math.floor(after / 1000) * 1000, "publishedAfter");
      assert.ok(published <= last, "order=date: newest first");
      assert.equal((item.snippet as { publishTime?: string } | undefined)?.publishTime, item.snippet?.publishedAt, "publishTime (not in googleapis' types, sent by the real API)");
      last = published;
      seen.push(item.id?.videoId ?? "");
    }
    pageToken = res.data.nextPageToken ?? undefined;
  } while (pageToken && pages < 100);
  assert.equal(pages, Math.ceil(expected.size / 10));
  assert.equal(new Set(seen).size, seen.length, "no repeats");
  assert.deepEqual(new Set(seen), expected);
});

test("search filters by channel, duration and category, sorts by viewCount, and needs type=video for video filters", async (t) => {
  // About filters: instant indexing and exact totals (no cap), so every published video counts.
  const sb = await sandbox(t, { strict: { indexingLagMs: 0, searchCap: 0, garbageRate: 0 } });
  const yt = client(sb);
  const c = biggestChannel(sb);
  const channelId = sb.data.channel(c).id;
  const res = await yt.search.list({ part: ["snippet"], channelId, order: "viewCount", maxResults: 50 });
  assert.equal(res.data.pageInfo?.totalResults, sb.data.uploadCount(c));
  const items = res.data.items ?? [];
  assert.equal(items.length, 50);
  assert.ok(items.every((it) => it.snippet?.channelId === channelId));
  const views = items.map((it) => sb.data.viewCount(sb.data.videoIndex(it.id?.videoId ?? "") as number));
  assert.deepEqual(
    views,
    [...views].sort((a, b) => b - a),
    "order=viewCount",
  );

  for (const [videoDuration, ok] of [
    ["short", (s: number) => s < 240],
    ["medium", (s: number) => s >= 240 && s <= 1200],
    ["long", (s: number) => s > 1200],
  ] as const) {
    const r = await yt.search.list({ part: ["snippet"], channelId, type: ["video"], videoDuration, maxResults: 50 });
    assert.ok((r.data.items?.length ?? 0) > 0, videoDuration);
    for (const it of r.data.items ?? []) assert.ok(ok(sb.data.durationSeconds(sb.data.videoIndex(it.id?.videoId ?? "") as number)), videoDuration);
  }
  const music = await yt.search.list({ part: ["snippet"], type: ["video"], videoCategoryId: "10", maxResults: 50 });
  assert.ok((music.data.items?.length ?? 0) > 0);
  for (const it of music.data.items ?? []) assert.equal(sb.data.video(sb.data.videoIndex(it.id?.videoId ?? "") as number).categoryId, "10");

  const err = await failure(yt.search.list({ part: ["snippet"], videoDuration: "short" }));
  assert.deepEqual([err.status, err.reason, err.domain], [400, "invalidSearchFilter", "youtube.search"]);
  const channels = await yt.search.list({ part: ["snippet"], type: ["channel"], q: "linux" });
  assert.deepEqual(channels.data.items, []);
  const unknown = await yt.search.list({ part: ["snippet"], channelId: "UCxxxxxxxxxxxxxxxxxxxxxx" });
  assert.equal(unknown.data.pageInfo?.totalResults, 0);
  const none = await yt.search.list({ part: ["snippet"], q: "ramen -ramen" });
  assert.equal(none.data.pageInfo?.totalResults, 0, "-word excludes");
});

test("page tokens are opaque and bound to their query: tampered or reused on another query they are a 400 invalidPageToken", async (t) => {
  const sb = await sandbox(t);
  const yt = client(sb);
  const first = await yt.search.list({ part: ["snippet"], q: "guitar", maxResults: 5 });
  const token = first.data.nextPageToken ?? "";
  assert.ok(token.length > 0);
  assert.doesNotMatch(token, /guitar/);
  const second = await yt.search.list({ part: ["snippet"], q: "guitar", maxResults: 5, pageToken: token });
  assert.notDeepEqual(
    second.data.items?.map((i) => i.id?.videoId),
    first.data.items?.map((i) => i.id?.videoId),
  );
  const tampered = Buffer.from(Buffer.from(token, "base64url").toString("utf8").replace(/^\d+/, "999")).toString("base64url");
  for (const call of [
    yt.search.list({ part: ["snippet"], q: "guitar", pageToken: tampered }),
    yt.search.list({ part: ["snippet"], q: "piano", pageToken: token }),
    yt.search.list({ part: ["snippet"], q: "guitar", pageToken: "not-a-token" }),
  ]) {
    const err = await failure(call);
    assert.deepEqual([err.status, err.reason], [400, "invalidPageToken"]);
  }
  const playlistId = sb.data.channel(0).uploadsPlaylistId;
  const err = await failure(yt.playlistItems.list({ part: ["snippet"], playlistId, pageToken: token }));
  assert.equal(err.reason, "invalidPageToken", "a search token is no playlist token");
});

test("mostPopular lists videos by view count per region and category, pages up to 200, and 404s an unknown category", async (t) => {
  const sb = await sandbox(t);
  const yt = client(sb);
  const chart = async (regionCode: string, videoCategoryId?: string): Promise<youtube_v3.Schema$Video[]> => {
    const out: youtube_v3.Schema$Video[] = [];
    let pageToken: string | undefined;
    do {
      const res = await yt.videos.list({ part: ["snippet", "statistics"], chart: "mostPopular", regionCode, maxResults: 50, ...(videoCategoryId ? { videoCategoryId } : {}), ...(pageToken ? { pageToken } : {}) });
      out.push(...(res.data.items ?? []));
      pageToken = res.data.nextPageToken ?? undefined;
    } while (pageToken);
    return out;
  };
  const us = await chart("US");
  assert.equal(us.length, 200);
  assert.equal(new Set(us.map((v) => v.id)).size, 200);
  const views = us.map((v) => Number(v.statistics?.viewCount));
  assert.deepEqual(
    views,
    [...views].sort((a, b) => b - a),
  );
  const jp = await chart("jp");
  assert.notDeepEqual(
    jp.map((v) => v.id),
    us.map((v) => v.id),
    "regions differ",
  );
  const music = await chart("US", "10");
  assert.ok(music.length > 0);
  assert.ok(music.every((v) => v.snippet?.categoryId === "10"));
  const mviews = music.map((v) => Number(v.statistics?.viewCount));
  assert.deepEqual(
    mviews,
    [...mviews].sort((a, b) => b - a),
  );
  const page = await yt.videos.list({ part: ["id"], chart: "mostPopular" });
  assert.equal(page.data.items?.length, 5, "default maxResults 5");
  const err = await failure(yt.videos.list({ part: ["id"], chart: "mostPopular", videoCategoryId: "1" }));
  assert.deepEqual([err.status, err.reason, err.statusName], [404, "videoChartNotFound", "NOT_FOUND"]);
});

test("commentThreads lists min(commentCount, 40) threads by relevance or time, with real shapes and links to other videos", async (t) => {
  const sb = await sandbox(t);
  const yt = client(sb);
  const now = sb.world.clock.now();
  const old = sb.data.videoIds().filter((id) => sb.data.publishedAt(sb.data.videoIndex(id) as number) < now - 5 * DAY);
  const busy = old.find((id) => sb.data.commentCount(sb.data.videoIndex(id) as number) > 45) as string;
  const few = old.find((id) => {
    const n = sb.data.commentCount(sb.data.videoIndex(id) as number);
    return n > 3 && n < 20;
  }) as string;
  assert.ok(busy && few);
  for (const id of [busy, few]) {
    const stats = (await yt.videos.list({ part: ["statistics"], id: [id] })).data.items?.[0]?.statistics;
    const res = await yt.commentThreads.list({ part: ["snippet"], videoId: id, maxResults: 100 });
    assert.equal(res.data.kind, "youtube#commentThreadListResponse");
    assert.equal(res.data.items?.length, Math.min(40, Number(stats?.commentCount)));
  }

  const byTime: youtube_v3.Schema$CommentThread[] = [];
  let pageToken: string | undefined;
  do {
    const res = await yt.commentThreads.list({ part: ["snippet", "replies"], videoId: busy, maxResults: 15, order: "time", ...(pageToken ? { pageToken } : {}) });
    byTime.push(...(res.data.items ?? []));
    pageToken = res.data.nextPageToken ?? undefined;
  } while (pageToken);
  assert.equal(byTime.length, 40);
  const times = byTime.map((th) => Date.parse(th.snippet?.topLevelComment?.snippet?.publishedAt ?? ""));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => b - a),
    "order=time: newest first",
  );
  const published = sb.data.publishedAt(sb.data.videoIndex(busy) as number);
  assert.ok(times.every((tm) => tm > published && tm <= now));
  for (const th of byTime) {
    const top = th.snippet?.topLevelComment;
    assert.equal(th.kind, "youtube#commentThread");
    assert.equal(th.snippet?.videoId, busy);
    assert.equal(top?.kind, "youtube#comment");
    assert.equal(top?.id, th.id);
    assert.equal(top?.snippet?.videoId, busy);
    assert.equal(typeof top?.snippet?.likeCount, "number");
    assert.equal(typeof top?.snippet?.textDisplay, "string");
    assert.equal(typeof top?.snippet?.textOriginal, "string");
    assert.match(top?.snippet?.authorDisplayName ?? "", /^@\w+$/);
    assert.match(top?.snippet?.authorChannelId?.value ?? "", /^UC[\w-]{22}$/);
    assert.equal(top?.snippet?.updatedAt, top?.snippet?.publishedAt);
    assert.equal(th.snippet?.canReply, true);
    assert.equal(th.snippet?.isPublic, true);
    assert.equal(typeof th.snippet?.totalReplyCount, "number");
    if ((th.snippet?.totalReplyCount ?? 0) > 0) assert.ok((th.replies?.comments?.length ?? 0) > 0, "part=replies includes replies");
    else assert.equal(th.replies, undefined);
  }
  const byLikes = (await yt.commentThreads.list({ part: ["snippet"], videoId: busy, maxResults: 100, order: "relevance" })).data.items ?? [];
  const likes = byLikes.map((th) => th.snippet?.topLevelComment?.snippet?.likeCount ?? -1);
  assert.deepEqual(
    likes,
    [...likes].sort((a, b) => b - a),
    "order=relevance: most liked first",
  );
  assert.deepEqual(new Set(byLikes.map((th) => th.id)), new Set(byTime.map((th) => th.id)));

  // Some comments link other videos of the world, in both URL forms.
  const links = new Map<string, string>();
  for (const id of old.slice(-300)) {
    const i = sb.data.videoIndex(id) as number;
    for (let k = 0; k < sb.data.commentThreadCount(i); k++) {
      const text = sb.data.commentThreadResource(i, k, { replies: false, textFormat: "plainText" }).snippet?.topLevelComment.snippet.textOriginal ?? "";
      for (const m of text.matchAll(/https:\/\/(?:www\.youtube\.com\/watch\?v=|youtu\.be\/)([\w-]{11})/g)) links.set(m[0], m[1] as string);
    }
  }
  assert.ok([...links.keys()].some((u) => u.includes("youtu.be/")) && [...links.keys()].some((u) => u.includes("watch?v=")), "both link forms");
  const linked = [...new Set(links.values())].slice(0, 50);
  const resolved = await yt.videos.list({ part: ["id"], id: linked });
  assert.equal(resolved.data.items?.length, linked.length, "linked videos exist");
  const html = (await yt.commentThreads.list({ part: ["snippet"], videoId: busy, maxResults: 100 })).data.items ?? [];
  for (const th of html) {
    const s = th.snippet?.topLevelComment?.snippet;
    if (s?.textOriginal?.includes("https://")) assert.match(s.textDisplay ?? "", /<a href="https:/, "textFormat=html links");
  }
});

test("unknown playlists, videos and handles: 404 playlistNotFound, 404 videoNotFound, and a channel answer without items", async (t) => {
  const sb = await sandbox(t);
  const yt = client(sb);
  const pl = await failure(yt.playlistItems.list({ part: ["snippet"], playlistId: "UUxxxxxxxxxxxxxxxxxxxxxx" }));
  assert.deepEqual([pl.status, pl.code, pl.reason, pl.statusName], [404, 404, "playlistNotFound", "NOT_FOUND"]);
  const vid = await failure(yt.commentThreads.list({ part: ["snippet"], videoId: "xxxxxxxxxxx" }));
  assert.deepEqual([vid.status, vid.reason, vid.domain], [404, "videoNotFound", "youtube.commentThread"]);
  const future = sb.data.videoId(sb.data.videoCount - 1);
  assert.equal((await failure(yt.commentThreads.list({ part: ["snippet"], videoId: future }))).status, 404, "a video not yet published does not exist");
  assert.deepEqual((await yt.videos.list({ part: ["id"], id: [future] })).data.items, []);
  const ch = await yt.channels.list({ part: ["snippet"], forHandle: "@nobody-here" });
  assert.equal(ch.status, 200);
  assert.equal(ch.data.items, undefined, "like the real API: no items key");
  assert.equal(ch.data.pageInfo?.totalResults, 0);
  const byId = await yt.channels.list({ part: ["id"], id: [sb.data.channel(1).id, "UCxxxxxxxxxxxxxxxxxxxxxx", sb.data.channel(2).id] });
  assert.deepEqual(
    byId.data.items?.map((c) => c.id),
    [sb.data.channel(1).id, sb.data.channel(2).id],
  );
  const missing = await raw(sb, "/youtube/v3/nothing?key=k");
  assert.equal(missing.status, 404);
});

test("quota: every call costs the real price (search 100, others 1), per key and per method in /_sandbox/stats", async (t) => {
  const sb = await sandbox(t);
  const a = client(sb, "key-a");
  const b = client(sb, "key-b");
  const ids = sb.data.videoIds().slice(0, 10);
  await a.search.list({ part: ["snippet"], q: "guitar" });
  await a.search.list({ part: ["snippet"], q: "drums", order: "date" });
  for (let k = 0; k < 3; k++) await a.videos.list({ part: ["snippet", "statistics"], id: ids });
  await b.channels.list({ part: ["snippet"], forHandle: sb.data.channel(0).handle });
  await b.playlistItems.list({ part: ["snippet"], playlistId: sb.data.channel(0).uploadsPlaylistId });
  const stats = await raw(sb, "/_sandbox/stats");
  assert.equal(stats.status, 200);
  const quota = stats.body.quota as Record<string, { spent: number; limit: number; byMethod: Record<string, number>; calls: Record<string, number> }>;
  assert.equal(quota["key-a"]?.spent, 203);
  assert.equal(quota["key-a"]?.limit, 10_000);
  assert.deepEqual(quota["key-a"]?.byMethod, { "search.list": 200, "videos.list": 3 });
  assert.deepEqual(quota["key-a"]?.calls, { "search.list": 2, "videos.list": 3 });
  assert.equal(quota["key-b"]?.spent, 2);
  assert.deepEqual(quota["key-b"]?.byMethod, { "channels.list": 1, "playlistItems.list": 1 });
  assert.equal(stats.body.requests, 7);
  assert.deepEqual(sb.stats().quota["key-a"], quota["key-a"]);

  const reset = await raw(sb, "/_sandbox/reset", { method: "POST" });
  assert.equal(reset.status, 200);
  assert.deepEqual(sb.stats().quota, {});
  assert.equal(sb.stats().requests, 0);
});

test("when the daily quota is spent the API answers 403 quotaExceeded, parsed by googleapis like the real one", async (t) => {
  const sb = await sandbox(t, { dailyQuota: 250 });
  const yt = client(sb, "small-key");
  await yt.search.list({ part: ["snippet"], q: "yoga" });
  await yt.search.list({ part: ["snippet"], q: "squat" });
  const err = await failure(yt.search.list({ part: ["snippet"], q: "cardio" }));
  assert.equal(err.status, 403);
  assert.equal(err.code, 403);
  assert.equal(err.reason, "quotaExceeded");
  assert.equal(err.domain, "youtube.quota");
  assert.equal(err.statusName, "PERMISSION_DENIED");
  assert.equal(err.message, 'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.');
  await yt.videos.list({ part: ["id"], id: sb.data.videoIds().slice(0, 1) });
  assert.deepEqual([sb.quota("small-key").spent, sb.quota("small-key").rejected], [201, 1], "a cheap call still fits; the refused one costs nothing");

  const set = await raw(sb, "/_sandbox/quota", { method: "POST", body: { key: "small-key", spent: 250 } });
  assert.equal(set.status, 200);
  assert.equal((await failure(yt.videos.list({ part: ["id"], id: ["x"] }))).reason, "quotaExceeded");
  await raw(sb, "/_sandbox/quota", { method: "POST", body: { key: "small-key", spent: 0, limit: 1000 } });
  await yt.search.list({ part: ["snippet"], q: "cardio" });
  assert.equal(sb.quota("small-key").spent, 100);
  assert.equal(sb.quota("other-key").spent, 0, "quota is per key");
});

test("quota resets at midnight America/Los_Angeles of the injected wall clock", async (t) => {
  let wall = Date.parse("2026-01-15T07:58:00Z"); // 23:58 in Los Angeles (UTC-8 in January)
  const sb = await sandbox(t, { dailyQuota: 100, now: () => wall });
  const yt = client(sb);
  await yt.search.list({ part: ["snippet"], q: "rocket" });
  assert.equal((await failure(yt.channels.list({ part: ["id"], id: ["x"] }))).reason, "quotaExceeded");
  wall += 60_000; // 23:59
  assert.equal((await failure(yt.channels.list({ part: ["id"], id: ["x"] }))).reason, "quotaExceeded");
  wall += 60_000; // 00:00 next day
  await yt.search.list({ part: ["snippet"], q: "rocket" });
  assert.deepEqual([sb.quota("test-key").spent, sb.quota("test-key").day], [100, "2026-01-15"]);
});

test("a missing key is a 403 forbidden, an unknown key a 400 keyInvalid, and neither costs quota", async (t) => {
  const sb = await sandbox(t, { apiKeys: ["good-key"] });
  const missing = await failure(client(sb, null).videos.list({ part: ["id"], id: ["x"] }));
  assert.deepEqual([missing.status, missing.reason, missing.message, missing.statusName], [403, "forbidden", "The request is missing a valid API key.", "PERMISSION_DENIED"]);
  const bad = await failure(client(sb, "bad-key").videos.list({ part: ["id"], id: ["x"] }));
  assert.deepEqual([bad.status, bad.reason, bad.message], [400, "keyInvalid", "API key not valid. Please pass a valid API key."]);
  const ok = await client(sb, "good-key").videos.list({ part: ["id"], id: sb.data.videoIds().slice(0, 2) });
  assert.equal(ok.data.items?.length, 2);
  assert.deepEqual(Object.keys(sb.stats().quota), ["good-key"]);

  const open = await sandbox(t);
  assert.equal((await failure(client(open, null).search.list({ part: ["snippet"] }))).status, 403);
  const any = await client(open, "anything").search.list({ part: ["snippet"] });
  assert.equal(any.status, 200, "without apiKeys any non-empty key is valid");
});

test("advancing the world clock shows new uploads first in the playlist, while an old page token keeps its snapshot", async (t) => {
  const sb = await sandbox(t);
  const yt = client(sb);
  const c = biggestChannel(sb);
  const playlistId = sb.data.channel(c).uploadsPlaylistId;
  const before = sb.data.uploads(c);
  const first = await yt.playlistItems.list({ part: ["contentDetails"], playlistId, maxResults: 10 });
  const visible = sb.world.visibleVideos();

  const adv = await raw(sb, "/_sandbox/advance", { method: "POST", body: { ms: 2 * DAY } });
  assert.equal(adv.status, 200);
  assert.ok((adv.body.visibleVideos as number) > visible);
  const now = await yt.playlistItems.list({ part: ["contentDetails"], playlistId, maxResults: 50 });
  const ids = now.data.items?.map((it) => it.contentDetails?.videoId) ?? [];
  const fresh = ids.indexOf(before[0]);
  assert.ok(fresh > 0, "new uploads come before the old newest");
  assert.equal(now.data.pageInfo?.totalResults, before.length + fresh);
  const newest = Date.parse(now.data.items?.[0]?.contentDetails?.videoPublishedAt ?? "");
  assert.ok(newest > Date.parse(first.data.items?.[0]?.contentDetails?.videoPublishedAt ?? ""));
  assert.ok(newest <= sb.world.clock.now());
  assert.deepEqual(ids.slice(fresh), before.slice(0, 50 - fresh));

  const next = await yt.playlistItems.list({ part: ["contentDetails"], playlistId, maxResults: 10, pageToken: first.data.nextPageToken ?? "" });
  assert.deepEqual(
    next.data.items?.map((it) => it.contentDetails?.videoId),
    before.slice(10, 20),
    "page 2 of the old snapshot: no repeats",
  );
  assert.equal((await raw(sb, "/_sandbox/advance", { method: "POST", body: { ms: -1 } })).status, 400);
});

test("the same seed gives the same answers and another seed different ones", async (t) => {
  const answers = async (sb: YouTubeSandbox): Promise<unknown[]> => {
    const yt = client(sb);
    const ch = (await yt.channels.list({ part: ["snippet", "contentDetails", "statistics"], forHandle: "@tech0" })).data;
    const pl = (await yt.playlistItems.list({ part: ["snippet", "contentDetails"], playlistId: ch.items?.[0]?.contentDetails?.relatedPlaylists?.uploads ?? "", maxResults: 20 })).data;
    const ids = pl.items?.map((it) => it.contentDetails?.videoId ?? "") ?? [];
    const videos = (await yt.videos.list({ part: ["snippet", "statistics", "contentDetails"], id: ids })).data;
    const search = (await yt.search.list({ part: ["snippet"], q: "linux", maxResults: 20 })).data;
    const popular = (await yt.videos.list({ part: ["snippet"], chart: "mostPopular", maxResults: 20 })).data;
    const busy = sb.data.videoIds().find((id) => sb.data.commentThreadCount(sb.data.videoIndex(id) as number) > 5) ?? "";
    const comments = (await yt.commentThreads.list({ part: ["snippet", "replies"], videoId: busy })).data;
    return [ch, pl, videos, search, popular, comments];
  };
  const a = await answers(await sandbox(t, { world: { seed: "same" } }));
  const b = await answers(await sandbox(t, { world: { seed: "same" } }));
  assert.deepEqual(a, b);
  const other = await answers(await sandbox(t, { world: { seed: "other" } }));
  const ids = (x: unknown[]): unknown => (x[1] as youtube_v3.Schema$PlaylistItemListResponse).items?.map((it) => it.contentDetails?.videoId);
  const titles = (x: unknown[]): unknown => (x[2] as youtube_v3.Schema$VideoListResponse).items?.map((v) => v.snippet?.title);
  assert.notDeepEqual(ids(a), ids(other));
  assert.notDeepEqual(titles(a), titles(other));
});

test("faults: errorRate 1 answers 503 backendError (not charged, sandbox endpoints unaffected), latencyMs delays answers", async (t) => {
  const sb = await sandbox(t, { faults: { errorRate: 1 } });
  const yt = client(sb);
  const err = await failure(yt.search.list({ part: ["snippet"], q: "mars" }));
  assert.deepEqual([err.status, err.reason, err.domain, err.statusName], [503, "backendError", "global", "UNAVAILABLE"]);
  assert.equal(err.message, "The service is currently unavailable.");
  const stats = await raw(sb, "/_sandbox/stats");
  assert.equal(stats.status, 200, "sandbox endpoints are never faulted");
  assert.deepEqual([stats.body.faulted, stats.body.requests], [1, 1]);
  assert.equal(sb.quota("test-key").spent, 0);

  const set = await raw(sb, "/_sandbox/faults", { method: "POST", body: { errorRate: 0, latencyMs: 200 } });
  assert.deepEqual(set.body, { latencyMs: 200, errorRate: 0 });
  const started = performance.now();
  await yt.videos.list({ part: ["id"], id: ["x"] });
  assert.ok(performance.now() - started >= 180, "latency added");
  sb.faults.latencyMs = 0;
  sb.faults.errorRate = 1;
  assert.equal((await failure(yt.videos.list({ part: ["id"], id: ["x"] }))).status, 503, "faults are mutable on the sandbox object");
  assert.equal((await raw(sb, "/_sandbox/faults", { method: "POST", body: { errorRate: 2 } })).status, 400);
});

test("fields selects a partial response like the real API", async (t) => {
  const sb = await sandbox(t);
  const yt = client(sb);
  const ids = sb.data.videoIds().slice(0, 3);
  const res = await yt.videos.list({ part: ["snippet", "statistics"], id: ids, fields: "items(id,snippet/title,statistics(viewCount))" });
  assert.deepEqual(Object.keys(res.data), ["items"]);
  for (const v of res.data.items ?? []) {
    assert.deepEqual(Object.keys(v), ["id", "snippet", "statistics"]);
    assert.deepEqual(Object.keys(v.snippet ?? {}), ["title"]);
    assert.deepEqual(Object.keys(v.statistics ?? {}), ["viewCount"]);
  }
  assert.equal((await failure(yt.videos.list({ part: ["id"], id: ids, fields: "items(id" }))).status, 400);
});

test("a world of 100,000 videos starts and answers a playlist page and searches (their speed is measured by pnpm bench:sandbox)", async (t) => {
  const sb = await sandbox(t, { world: { videos: 100_000, channels: 50 } });
  const yt = client(sb);
  const c = biggestChannel(sb);
  const page = await yt.playlistItems.list({ part: ["snippet", "contentDetails"], playlistId: sb.data.channel(c).uploadsPlaylistId, maxResults: 50 });
  assert.equal(page.data.items?.length, 50);
  const search = await yt.search.list({ part: ["snippet"], q: "telescope", order: "viewCount", maxResults: 50 });
  assert.equal(search.data.items?.length, 50);
  assert.ok((search.data.pageInfo?.totalResults ?? 0) > 1000);
  const next = await yt.search.list({ part: ["snippet"], q: "telescope", order: "viewCount", maxResults: 50, pageToken: search.data.nextPageToken ?? "" });
  assert.equal(next.data.items?.length, 50);
  const ids = page.data.items?.map((it) => it.contentDetails?.videoId ?? "") ?? [];
  const videos = await yt.videos.list({ part: ["statistics"], id: ids });
  assert.equal(videos.data.items?.length, 50);
});
