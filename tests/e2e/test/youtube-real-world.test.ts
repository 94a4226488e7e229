import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { World, YouTubeData } from "@prismq/sandbox";
import { SCOPE, System } from "./system.js";

const DAY = 86_400_000;

describe("YouTube on the strict sandbox: glitches, broadcasts and a backlog staged while the whole system runs", () => {
  it("stores every reachable video exactly once, fails no task for a reason a retry fixes, and catches up a backlog", { timeout: 300_000 }, async () => {
    // A small per-run limit, so the uploads that appear later are more than one run takes.
    const scope = { channel: { handle: "@tech0", index: 0, max: 4 }, subreddit: SCOPE.subreddit };
    const sys = await System.start({ mode: "direct", every: "3s", scope });
    try {
      const expected = sys.expected().videos;
      // Upstream glitches for the next calls, through the sandbox's control API.
      await sys.youtubeSandbox("stage", { kind: "html", path: "/youtube/v3/videos", count: 2 });
      await sys.youtubeSandbox("stage", { kind: "bad-item", path: "/youtube/v3/videos", videoId: expected[3] });
      await sys.youtubeSandbox("stage", { kind: "gzip-bomb", path: "/youtube/v3/videos", inflatedBytes: 32 * 1024 * 1024 });
      await sys.youtubeSandbox("stage", { kind: "error", status: 403, reason: "rateLimitExceeded", path: "/youtube/v3/playlistItems", count: 2 });
      await sys.youtubeSandbox(`videos/${expected[0] as string}/live`, { state: "live" });

      const ideas = await sys.ideas();
      const stored = async (ids: readonly string[]) => {
        for (const id of ids) if (!(await ideas.get("youtube", id))) return false;
        return true;
      };
      try {
        await sys.until(() => stored(expected), "the channel's newest videos stored", 120_000, 500);

        // Six days pass: more uploads appear than one run takes; the next runs catch up the backlog.
        const local = new World();
        const before = new Set(new YouTubeData(local).uploads(0));
        await sys.youtubeSandbox("advance", { ms: 6 * DAY });
        local.clock.advance(6 * DAY);
        const fresh = new YouTubeData(local).uploads(0).filter((id) => !before.has(id));
        assert.ok(fresh.length > scope.channel.max, `${fresh.length} new uploads: more than one run's ${scope.channel.max}`);
        await sys.until(() => stored(fresh), `all ${fresh.length} new uploads stored`, 150_000, 500);

        const live = await ideas.get("youtube", expected[0] as string);
        assert.equal(live?.metadata.broadcast, "live");
        assert.equal(live?.metadata.isShort, false);
      } finally {
        await ideas.close();
      }
      await sys.settled(120_000);
      // No key in any log line (a fetch error quotes the URL, key included), nothing open, nothing failed for
      // a transient reason, every video stored once.
      await sys.verify();
    } finally {
      await sys.close();
    }
  });
});
