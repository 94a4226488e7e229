import { YouTube } from "@prismq/task-types";
import { definePlatform } from "@prismq/worker-kit";
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
});
