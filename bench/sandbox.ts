/**
 * The sandbox at scale: how long a 100,000-item world takes to start and to answer its first pages,
 * YouTube (playlist page, first search, which builds the index, and the next page) and Reddit (a
 * listing page through the real client). What the sandbox tests once asserted with timers.
 *
 *   pnpm bench:sandbox        (BENCH_ITEMS=100000 by default)
 */
import { performance } from "node:perf_hooks";
import { createRedditClient } from "@prismq/reddit-source";
import { startRedditSandbox, startYouTubeSandbox } from "@prismq/sandbox";

const ITEMS = Number(process.env.BENCH_ITEMS ?? 100_000);
const rows: Array<[string, number]> = [];
async function time<T>(what: string, run: () => Promise<T>): Promise<T> {
  const at = performance.now();
  const value = await run();
  rows.push([what, performance.now() - at]);
  return value;
}

const yt = await time(`YouTube: start a world of ${ITEMS.toLocaleString("en")} videos`, () => startYouTubeSandbox({ world: { videos: ITEMS, channels: 50 } }));
try {
  let channel = 0;
  for (let c = 1; c < yt.data.channelCount; c++) if (yt.data.uploadCount(c) > yt.data.uploadCount(channel)) channel = c;
  const get = async (path: string) => {
    const res = await fetch(`${yt.rootUrl}youtube/v3/${path}&key=bench-key`);
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    return (await res.json()) as { nextPageToken?: string };
  };
  await time("YouTube: a playlist page of 50", () => get(`playlistItems?part=snippet,contentDetails&maxResults=50&playlistId=${yt.data.channel(channel).uploadsPlaylistId}`));
  const first = await time("YouTube: the first search (builds the index)", () => get("search?part=snippet&q=telescope&order=viewCount&maxResults=50"));
  await time("YouTube: its next page", () => get(`search?part=snippet&q=telescope&order=viewCount&maxResults=50&pageToken=${first.nextPageToken ?? ""}`));
} finally {
  await yt.close();
}

const rd = await time(`Reddit: start a world of ${ITEMS.toLocaleString("en")} posts`, () => startRedditSandbox({ strict: false, world: { posts: ITEMS, subreddits: 40 } }));
try {
  const client = await createRedditClient({ userAgent: "node:prismq-bench:0.1.0 (by /u/prismq)", clientId: "sandbox-client", clientSecret: "sandbox-secret", baseUrl: rd.url });
  await time("Reddit: a listing page of 100", () => client.getNew("technology", { limit: 100 }));
} finally {
  await rd.close();
}

console.log(`\n## The sandbox at scale (${ITEMS.toLocaleString("en")} items)\n`);
console.log("| step | ms |");
console.log("|---|---|");
for (const [what, ms] of rows) console.log(`| ${what} | ${ms.toFixed(0)} |`);
