// The strict YouTube sandbox (the default): each real-world behaviour, through the real client, and the
// switches that turn it off.
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { youtube, type youtube_v3 } from "@googleapis/youtube";
import { CALM_YOUTUBE, STRICT_YOUTUBE, resolveYouTubeStrictness, startYouTubeSandbox, type YouTubeSandbox, type YouTubeSandboxOptions } from "../src/youtube.js";

async function sandbox(t: TestContext, options: YouTubeSandboxOptions = {}): Promise<YouTubeSandbox> {
  const sb = await startYouTubeSandbox(options);
  t.after(() => sb.close());
  return sb;
}

function client(sb: YouTubeSandbox): youtube_v3.Youtube {
  return youtube({ version: "v3", rootUrl: sb.rootUrl, retry: false, auth: "test-key" });
}

async function post(sb: YouTubeSandbox, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${sb.url}/_sandbox/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function failure(call: Promise<unknown>): Promise<{ status: number | undefined; reason: string | undefined }> {
  try {
    await call;
  } catch (e) {
    const err = e as { status?: number; response?: { data?: { error?: { errors?: Array<{ reason?: string }> } } } };
    return { status: err.status, reason: err.response?.data?.error?.errors?.[0]?.reason };
  }
  return assert.fail("the call should have failed");
}

test("strict is the default; strict: false is the calm world; an object turns single switches off", () => {
  assert.deepEqual(resolveYouTubeStrictness(undefined), STRICT_YOUTUBE);
  assert.deepEqual(resolveYouTubeStrictness(false), CALM_YOUTUBE);
  assert.deepEqual(resolveYouTubeStrictness({ garbageRate: 0 }), { ...STRICT_YOUTUBE, garbageRate: 0 });
  assert.equal(STRICT_YOUTUBE.searchCap, 500);
  assert.equal(STRICT_YOUTUBE.allTermsMatch, true);
});

test("search.list: every term must match (a|b for either), as the real search combines terms", async (t) => {
  const sb = await sandbox(t, { strict: { indexingLagMs: 0, garbageRate: 0 } });
  const yt = client(sb);
  const total = async (q: string) => (await yt.search.list({ part: ["id"], q, maxResults: 50 })).data.pageInfo?.totalResults ?? 0;
  const sourdough = await total("sourdough");
  const ramen = await total("ramen");
  const both = await total("sourdough ramen");
  const either = await total("sourdough|ramen");
  assert.ok(both < Math.min(sourdough, ramen), `both (${both}) fewer than each (${sourdough}, ${ramen})`);
  assert.ok(either > Math.max(sourdough, ramen), `either (${either}) more than each`);
  const res = await yt.search.list({ part: ["snippet"], q: "sourdough ramen", maxResults: 50 });
  for (const it of res.data.items ?? []) {
    const i = sb.data.videoIndex(it.id?.videoId ?? "") as number;
    const text = `${sb.data.title(i)} ${sb.data.description(i)} ${sb.data.tags(i).join(" ")}`.toLowerCase();
    assert.ok(text.includes("sourdough") && text.includes("ramen"), sb.data.title(i));
  }
});

test("search.list stops paging at 500 results and its totalResults is an estimate", async (t) => {
  const sb = await sandbox(t, { world: { channels: 1, videos: 4_000 }, strict: { garbageRate: 0 } });
  const yt = client(sb);
  let pageToken: string | undefined;
  let listed = 0;
  let totalResults = 0;
  for (let k = 0; k < 30; k++) {
    const res = await yt.search.list({ part: ["id"], q: "laptop", order: "date", maxResults: 50, ...(pageToken ? { pageToken } : {}) });
    listed += res.data.items?.length ?? 0;
    totalResults = res.data.pageInfo?.totalResults ?? 0;
    pageToken = res.data.nextPageToken ?? undefined;
    if (!pageToken) break;
  }
  const matches = sb.data.search({ terms: ["laptop"], groups: [["laptop"]], excluded: [], order: "date" }).length;
  assert.ok(matches > 500, `${matches} matches`);
  assert.equal(listed, 500, "no page past the 500th result");
  assert.notEqual(totalResults, matches, "an estimate, not the exact count");
  assert.ok(Math.abs(totalResults - matches) / matches < 0.1, `close: ${totalResults} for ${matches}`);
});

test("search.list finds a video only minutes to hours after it is published (indexing lag)", async (t) => {
  const sb = await sandbox(t, { strict: { garbageRate: 0 } });
  const yt = client(sb);
  const c = 0;
  const newest = sb.data.uploads(c).slice(0, 200);
  const found = new Set<string>();
  let pageToken: string | undefined;
  for (let k = 0; k < 5; k++) {
    const res = await yt.search.list({ part: ["id"], channelId: sb.data.channel(c).id, order: "date", maxResults: 50, ...(pageToken ? { pageToken } : {}) });
    for (const it of res.data.items ?? []) found.add(it.id?.videoId ?? "");
    pageToken = res.data.nextPageToken ?? undefined;
    if (!pageToken) break;
  }
  const now = sb.world.clock.now();
  const recent = newest.filter((id) => sb.data.publishedAt(sb.data.videoIndex(id) as number) > now - 3 * 3_600_000);
  const old = newest.filter((id) => sb.data.publishedAt(sb.data.videoIndex(id) as number) < now - 3 * 3_600_000).slice(0, 20);
  assert.ok(recent.some((id) => !found.has(id)), "some videos of the last 3 hours are not indexed yet");
  assert.ok(
    old.every((id) => found.has(id)),
    "older ones are",
  );
  sb.advance(3 * 3_600_000);
  const later = await yt.search.list({ part: ["id"], channelId: sb.data.channel(c).id, order: "date", maxResults: 50, publishedBefore: new Date(now).toISOString() });
  const laterIds = new Set((later.data.items ?? []).map((it) => it.id?.videoId));
  assert.ok(
    recent.every((id) => laterIds.has(id)),
    "three hours later they are",
  );
});

test("playlistItems.list on a channel with no uploads is a 404 playlistNotFound (and 200 empty with the switch off)", async (t) => {
  const sb = await sandbox(t, { strict: { garbageRate: 0 } });
  const added = await post(sb, "channels", { handle: "quietone", username: "QuietOne" });
  assert.equal(added.status, 200);
  const yt = client(sb);
  const ch = await yt.channels.list({ part: ["contentDetails"], forHandle: "quietone" });
  const uploads = ch.data.items?.[0]?.contentDetails?.relatedPlaylists?.uploads as string;
  assert.ok(uploads.startsWith("UU"));
  assert.deepEqual(await failure(yt.playlistItems.list({ part: ["contentDetails"], playlistId: uploads })), { status: 404, reason: "playlistNotFound" });
  sb.strictness.emptyPlaylistNotFound = false;
  const calm = await yt.playlistItems.list({ part: ["contentDetails"], playlistId: uploads });
  assert.deepEqual(calm.data.items, []);
  const byUser = await yt.channels.list({ part: ["id"], forUsername: "QuietOne" });
  assert.equal(byUser.data.items?.[0]?.id, added.body.id, "forUsername takes the legacy username");
});

test("live and upcoming videos: duration P0D, liveBroadcastContent live/upcoming, no viewCount while upcoming", async (t) => {
  const sb = await sandbox(t, { strict: { garbageRate: 0 } });
  const [a, b] = sb.data.videoIds().slice(-10, -8) as [string, string];
  assert.equal((await post(sb, `videos/${a}/live`, { state: "live" })).status, 200);
  assert.equal((await post(sb, `videos/${b}/live`, { state: "upcoming" })).status, 200);
  assert.equal((await post(sb, `videos/${b}/live`, { state: "soon" })).status, 400);
  const res = await client(sb).videos.list({ part: ["snippet", "contentDetails", "statistics", "liveStreamingDetails"], id: [a, b] });
  const [va, vb] = res.data.items ?? [];
  assert.equal(va?.snippet?.liveBroadcastContent, "live");
  assert.equal(va?.contentDetails?.duration, "P0D");
  assert.ok(va?.liveStreamingDetails?.actualStartTime);
  assert.equal(vb?.snippet?.liveBroadcastContent, "upcoming");
  assert.equal(vb?.statistics?.viewCount, undefined);
  // By default a seeded share of videos is live or upcoming around its publication.
  const shareLive = sb.data.videoIds().filter((id) => sb.data.liveState(sb.data.videoIndex(id) as number, sb.data.publishedAt(sb.data.videoIndex(id) as number) + 1) !== "none").length;
  assert.ok(shareLive > 0, "some videos are broadcasts");
});

test("commentThreads: 403 commentsDisabled for videos with comments off (made-for-kids ones among them), staged rateLimitExceeded, accessNotConfigured and keyInvalid", async (t) => {
  const sb = await sandbox(t, { strict: { garbageRate: 0 } });
  const yt = client(sb);
  const ids = sb.data.videoIds();
  const off = ids.find((id) => sb.data.commentsDisabled(sb.data.videoIndex(id) as number));
  assert.ok(off, "the default world has videos with comments off");
  assert.deepEqual(await failure(yt.commentThreads.list({ part: ["snippet"], videoId: off })), { status: 403, reason: "commentsDisabled" });
  assert.ok(ids.some((id) => sb.data.madeForKids(sb.data.videoIndex(id) as number)), "some are made for kids");
  const on = ids.find((id) => !sb.data.commentsDisabled(sb.data.videoIndex(id) as number)) as string;
  for (const [status, reason] of [
    [403, "rateLimitExceeded"],
    [403, "accessNotConfigured"],
    [400, "keyInvalid"],
  ] as const) {
    assert.equal((await post(sb, "stage", { kind: "error", status, reason, path: "/youtube/v3/commentThreads" })).status, 200);
    assert.deepEqual(await failure(yt.commentThreads.list({ part: ["snippet"], videoId: on })), { status, reason });
  }
  const ok = await yt.commentThreads.list({ part: ["snippet"], videoId: on });
  assert.equal(ok.status, 200, "a staged glitch is used up");
});

test("upstream glitches: a share of answers is a 200 HTML page or {}, and staged ones hit the next matching request", async (t) => {
  const sb = await sandbox(t, { strict: { garbageRate: 0.5 } });
  const kinds = new Set<string>();
  for (let k = 0; k < 40; k++) {
    const res = await fetch(`${sb.rootUrl}youtube/v3/videos?part=id&id=${sb.data.videoIds()[k] as string}&key=k`);
    assert.equal(res.status, 200);
    const text = await res.text();
    kinds.add(text.startsWith("<!DOCTYPE html>") ? "html" : text === "{}" ? "empty" : "real");
  }
  assert.deepEqual([...kinds].sort(), ["empty", "html", "real"]);
  assert.ok(sb.stats().glitches > 0);

  sb.strictness.garbageRate = 0;
  assert.equal((await post(sb, "stage", { kind: "bad-item", path: "/youtube/v3/videos" })).status, 200);
  const ids = sb.data.videoIds().slice(0, 2);
  const res = await client(sb).videos.list({ part: ["snippet"], id: ids });
  assert.equal(res.data.items?.[0]?.snippet?.title as unknown, 12345);
  assert.equal(typeof res.data.items?.[1]?.snippet?.title, "string");
  assert.equal((await post(sb, "stage", { kind: "nonsense" })).status, 400);
  assert.equal((await post(sb, "strictness", { garbageRate: -1 })).status, 400);
  assert.equal((await post(sb, "strictness", { searchCap: 100 })).body.searchCap, 100);
});
