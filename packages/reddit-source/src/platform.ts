import { Reddit, YouTube, defineEdge, extractYouTubeIds } from "@prismq/task-types";
import { definePlatform } from "@prismq/worker-kit";
import { RedditApi } from "./api.js";
import { connectReddit, redditBudgetOptions, redditEnv, type RedditEnv } from "./env.js";
import { postToIdea } from "./idea.js";

/** Each YouTube video linked from a post or its top comments becomes a Video task, one hop further. */
export const toYouTubeVideos = defineEdge({
  from: "reddit",
  to: YouTube.Video,
  targets: (source) => source.texts.flatMap((text) => extractYouTubeIds(text)).map((video_id) => ({ video_id })),
});

/** Reddit as a plug-in: its task types, variables, request budget, API, mapping, edges and sandbox. */
export const platform = definePlatform({
  name: "reddit",
  taskTypes: Object.values(Reddit),
  config: redditEnv,
  budget: (c: RedditEnv) => redditBudgetOptions(c),
  // Signs in first: refused credentials reject here.
  createApi: async (c: RedditEnv, ports) => new RedditApi({ client: await connectReddit(c), ...ports }),
  toIdea: postToIdea,
  edges: [toYouTubeVideos],
  sandbox: {
    module: "@prismq/sandbox",
    factory: "redditPlatformSandbox",
    env: (url) => ({ REDDIT_API_URL: url, REDDIT_CLIENT_ID: "sandbox-client", REDDIT_CLIENT_SECRET: "sandbox-secret", REDDIT_REFRESH_TOKEN: "sandbox-refresh" }),
    // As against the real Reddit (100 a minute, the apps' default 90): a tenth below the limit, so budget windows that drift apart stay within it.
    limitsEnv: (rpm) => ({ REDDIT_REQUESTS_PER_MINUTE: String(Math.max(1, Math.floor(rpm * 0.9))) }),
  },
  demo: {
    sources: (every) =>
      `# Written by pnpm start: what the demo discovers.\nsources:\n` +
      `  - kind: subreddit\n    subreddit: technology\n    sort: new\n    limit: 100\n    every: ${every}\n` +
      `  - kind: subreddit\n    subreddit: Cooking\n    sort: new\n    limit: 100\n    every: ${every}\n`,
    // Reddit requires one; the environment's REDDIT_USER_AGENT wins.
    env: { REDDIT_USER_AGENT: "node:prismq-workers:0.1.0 (by /u/prismq)" },
  },
});
