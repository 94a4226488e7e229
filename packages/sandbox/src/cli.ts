#!/usr/bin/env node
// `pnpm sandbox`: both offline APIs on one world, with the variables that point the apps at them.
import { parseArgs } from "node:util";
import { DEFAULT_REDDIT_CLIENT, startRedditSandbox } from "./reddit.js";
import { World } from "./world.js";
import { startYouTubeSandbox } from "./youtube.js";

const HELP = `pnpm sandbox [options]: serve the offline YouTube Data API v3 and Reddit API on loopback.

  --seed <text>          world seed (same seed, same data)         default prismq
  --videos <n>           videos over the timeline                  default 2400
  --posts <n>            Reddit posts over the timeline            default 3000
  --youtube-port <n>     default 8091 (0: any free port)
  --reddit-port <n>      default 8092 (0: any free port)
  --tick <ms>            advance the world clock every <ms> of real time, so new uploads and posts appear; 0 = never (default 0)
  --tick-by <ms>         world time per tick                       default 3600000 (one hour)
  --latency <ms>         added to every API answer                 default 0
  --error-rate <0..1>    share of API answers that are a 503       default 0
  --quota <units>        YouTube daily quota per key               default 10000
  --rpm <n>              Reddit requests per minute per client     default 100
`;

function num(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`--${name} must be a number >= 0, got "${v}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: "string" },
      videos: { type: "string" },
      posts: { type: "string" },
      "youtube-port": { type: "string" },
      "reddit-port": { type: "string" },
      tick: { type: "string" },
      "tick-by": { type: "string" },
      latency: { type: "string" },
      "error-rate": { type: "string" },
      quota: { type: "string" },
      rpm: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const world = new World({ seed: values.seed ?? "prismq", videos: num(values.videos, "videos", 2_400), posts: num(values.posts, "posts", 3_000) });
  const faults = { latencyMs: num(values.latency, "latency", 0), errorRate: Math.min(1, num(values["error-rate"], "error-rate", 0)) };
  const youtube = await startYouTubeSandbox({ world, port: num(values["youtube-port"], "youtube-port", 8091), dailyQuota: num(values.quota, "quota", 10_000), faults });
  const reddit = await startRedditSandbox({ world, port: num(values["reddit-port"], "reddit-port", 8092), rateLimit: { requests: num(values.rpm, "rpm", 100), windowMs: 60_000 }, faults });
  const tick = num(values.tick, "tick", 0);
  const tickBy = num(values["tick-by"], "tick-by", 3_600_000);
  const timer = tick > 0 ? setInterval(() => world.clock.advance(tickBy), tick) : undefined;

  process.stdout.write(
    [
      `YouTube Data API v3 sandbox: ${youtube.rootUrl}  (stats: ${youtube.url}/_sandbox/stats)`,
      `Reddit API sandbox:          ${reddit.url}  (stats: ${reddit.url}/_sandbox/stats)`,
      `World: seed "${world.config.seed}", ${world.visibleVideos()} of ${world.config.videos} videos and ${world.visiblePosts()} of ${world.config.posts} posts visible${timer ? `, +${tickBy} ms of world time every ${tick} ms` : ""}`,
      "",
      "Point the apps at it:",
      `  YOUTUBE_API_ROOT_URL=${youtube.rootUrl}`,
      "  YOUTUBE_API_KEY=sandbox-key",
      `  REDDIT_API_URL=${reddit.url}`,
      `  REDDIT_CLIENT_ID=${DEFAULT_REDDIT_CLIENT.clientId}`,
      `  REDDIT_CLIENT_SECRET=${DEFAULT_REDDIT_CLIENT.clientSecret}`,
      `  REDDIT_REFRESH_TOKEN=${DEFAULT_REDDIT_CLIENT.refreshTokens?.[0] ?? ""}`,
      "",
      "Ctrl-C stops.",
      "",
    ].join("\n"),
  );
  const stop = () => {
    if (timer) clearInterval(timer);
    void Promise.all([youtube.close(), reddit.close()]).then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox: ${err instanceof Error ? err.message : String(err)}\n${HELP}`);
  process.exit(2);
});
