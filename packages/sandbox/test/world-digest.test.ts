// The generated world is a fixed function of its seed: tests, demos and benchmarks elsewhere rely
// on the same videos, posts and topics coming back. This pins a digest of a default world's data
// (and of the staging switches' effects), so a refactor of how the data is built cannot change it.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { RedditData } from "../src/reddit-data.js";
import { TOPICS, World } from "../src/world.js";
import { YouTubeData } from "../src/youtube-data.js";

const ALL_VIDEO_PARTS = new Set(["id", "snippet", "contentDetails", "statistics", "status", "player", "topicDetails", "recordingDetails", "localizations", "liveStreamingDetails", "paidProductPlacementDetails"]);
const ALL_CHANNEL_PARTS = new Set(["id", "snippet", "contentDetails", "statistics", "status", "brandingSettings", "topicDetails", "localizations", "contentOwnerDetails", "auditDetails"]);

const digest = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex");

function youtubeWorld(world: World) {
  const yt = new YouTubeData(world);
  const out: unknown[] = [];
  for (let c = 0; c < yt.channelCount; c++) out.push(yt.channelResource(c, ALL_CHANNEL_PARTS));
  for (let i = 0; i < 400; i++) out.push(yt.videoResource(i, ALL_VIDEO_PARTS), yt.liveState(i), yt.commentsDisabled(i), yt.madeForKids(i), yt.indexedAt(i));
  const [a, b] = yt.videoIds();
  out.push(yt.setLive(a!, "live"), yt.setCommentsDisabled(b!, true), yt.setLive("no-such-video", "live"), yt.setCommentsDisabled("no-such-video", true));
  out.push(yt.liveState(yt.videoIndex(a!)!), yt.commentsDisabled(yt.videoIndex(b!)!));
  yt.clearStaged();
  out.push(yt.liveState(yt.videoIndex(a!)!), yt.commentsDisabled(yt.videoIndex(b!)!));
  return out;
}

function redditWorld(world: World) {
  const rd = new RedditData(world);
  const out: unknown[] = [];
  for (let s = 0; s < world.config.subreddits; s++) out.push(rd.subreddit(s));
  for (let i = 0; i < 400; i++) out.push(rd.postThing(i), rd.removalOf(i), rd.isHeld(i), rd.isListed(i));
  for (let i = 0; i < 60; i++) out.push(rd.commentTree(i), rd.automodComment(i));
  const staged = [rd.removePost(3, "author"), rd.holdPost(rd.postId(4)), rd.approvePost(5), rd.removePost(-1), rd.holdPost("zzzzzz"), rd.approvePost(world.config.posts)];
  out.push(staged, [3, 4, 5].map((i) => [rd.removalOf(i), rd.isHeld(i), rd.isListed(i)]));
  out.push(rd.approvePost(4), rd.isHeld(4));
  rd.resetRemovals();
  out.push([3, 4, 5].map((i) => [rd.removalOf(i), rd.isHeld(i), rd.isListed(i)]));
  return out;
}

test("a default world's topics, videos, channels, subreddits and posts are the same as ever", () => {
  const world = new World();
  assert.equal(digest(TOPICS), "68423b394e35f412f55dc1d73b3e5a73a49deca0bfa51555b51ae1fc45fe6a71");
  assert.equal(digest(youtubeWorld(world)), "d61d4ae8ddfeffab9437ec7ff05f6238926c7e09cc99031df2dca57fd106020d");
  assert.equal(digest(redditWorld(world)), "1851721e13f67b1fcdf4f5851e9e71f90846fcc7e329b9fa84dd5d9ad455a297");
});
