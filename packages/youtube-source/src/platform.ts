import { YouTube } from "@prismq/task-types";
import { definePlatform, durationMs } from "@prismq/worker-kit";
import { YouTubeApi } from "./api.js";
import { QUOTA_TIME_ZONE } from "./costs.js";
import { toRedditSearch } from "./edges.js";
import { youtubeEnv, type YouTubeEnv } from "./env.js";
import { videoToIdea } from "./idea.js";

/** YouTube as a plug-in: its task types, variables, quota budget, API, mapping, edges and sandbox. */
export const platform = definePlatform({
  name: "youtube",
  taskTypes: Object.values(YouTube),
  config: youtubeEnv,
  budget: (c: YouTubeEnv) => ({ name: "youtube-quota", limit: c.YOUTUBE_DAILY_QUOTA, window: { kind: "daily", timeZone: QUOTA_TIME_ZONE } }),
  createApi: async (c: YouTubeEnv, ports) => new YouTubeApi({ apiKey: c.YOUTUBE_API_KEY, rootUrl: c.YOUTUBE_API_ROOT_URL, ...ports }),
  toIdea: videoToIdea,
  edges: [toRedditSearch],
  sandbox: { module: "@prismq/sandbox", factory: "youtubePlatformSandbox", env: (url) => ({ YOUTUBE_API_ROOT_URL: `${url}/`, YOUTUBE_API_KEY: "sandbox-key" }) },
  demo: { sources: demoSources },
});

/** The chart changes slowly: the demo reads it at most every half hour. */
const CHART_EVERY = "30m";
const CHART_EVERY_MS = 30 * 60_000;

/** Two channels of the sandbox world and its US chart. */
function demoSources(every: string): string {
  const chartEvery = (durationMs(every) ?? 0) > CHART_EVERY_MS ? every : CHART_EVERY;
  return (
    `# Written by pnpm start: what the demo discovers.\nsources:\n` +
    `  - kind: channel\n    channel: "@tech0"\n    max_videos: 100\n    every: ${every}\n` +
    `  - kind: channel\n    channel: "@cooking2"\n    max_videos: 100\n    every: ${every}\n` +
    `  - kind: most_popular\n    region: US\n    max_results: 50\n    every: ${chartEvery}\n`
  );
}
