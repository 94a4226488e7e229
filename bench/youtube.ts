/**
 * YouTube quota efficiency and throughput, ours beside the original approach,
 * on the same sandbox world in one run:
 *
 * - ours: channel uploads through playlistItems.list (50 a page, stopping at the
 *   first known video), Video tasks, then the processor's batches of 50 through
 *   one videos.list call each, ideas upserted;
 * - original: search.list per channel (100 units a page of 50), then one
 *   videos.list call per video.
 *
 * Quota units per video come from the sandbox's own per-method counters. The
 * throughput part runs the whole loop with the sandbox answering after 50 ms.
 *
 *   pnpm bench:youtube        (BENCH_VIDEOS=12000 BENCH_LATENCY_MS=50 BENCH_SPEED_CHANNELS=6 by default)
 */
import { startYouTubeSandbox } from "@prismq/sandbox";
import { YouTube } from "@prismq/task-types";
import { DirectOutbox, FileState } from "@prismq/worker-kit";
import { YouTubeApi, videoToIdea } from "@prismq/youtube-source";
import { YouTubeDiscovery } from "../apps/youtube-discovery/src/discovery.js";
import { YouTubeProcessor } from "../apps/youtube-processor/src/processor.js";
import { benchWorker, logger, openRig } from "./rig.js";

const VIDEOS = Number(process.env.BENCH_VIDEOS ?? 12_000);
/** Channels walked in the throughput part (the original approach is slow at 50 ms a call). */
const SPEED_CHANNELS = Number(process.env.BENCH_SPEED_CHANNELS ?? 6);
const LATENCY = Number(process.env.BENCH_LATENCY_MS ?? 50);
/** The most a channel walk takes (the catalog's limit for `max_videos`). */
const MAX_VIDEOS = 500;

interface Run {
  name: string;
  videos: number;
  units: number;
  calls: number;
  seconds: number;
}

function rig(latencyMs: number) {
  return openRig("bench-yt-", () =>
    startYouTubeSandbox({ world: { seed: "bench", channels: 24, videos: VIDEOS }, dailyQuota: 100_000_000, faults: { latencyMs } }),
  );
}

type Rig = Awaited<ReturnType<typeof rig>>;
const channelsOf = (r: Rig, n: number) => Array.from({ length: n }, (_, c) => r.sandbox.data.channel(c));
const quota = (r: Rig, key: string) => r.sandbox.quota(key);
const callsOf = (u: { calls: Record<string, number> }) => Object.values(u.calls).reduce((a, b) => a + b, 0);

async function ours(latencyMs: number, channelCount: number): Promise<Run> {
  const r = await rig(latencyMs);
  const key = "ours";
  const api = new YouTubeApi({ apiKey: key, rootUrl: r.sandbox.rootUrl });
  const outbox = new DirectOutbox({ client: r.client });
  const discovery = new YouTubeDiscovery({ api, outbox, state: new FileState(r.dir, "bench"), logger });
  const processor = new YouTubeProcessor({ api, ideas: r.ideas, outbox, logger, crossModule: false, now: () => r.sandbox.world.clock.now() });
  const worker = benchWorker(r, {
    outbox,
    claim: (signal) => YouTube.Video.claim(r.client, { workerId: "bench", signal }),
    handle: (batch, signal) => processor.handle(batch, signal),
  });
  const t0 = performance.now();
  // Discovery of every channel, 4 at a time, then the processor drains the queue.
  const channels = channelsOf(r, channelCount);
  for (let i = 0; i < channels.length; i += 4) {
    await Promise.all(channels.slice(i, i + 4).map((ch) => discovery.channel({ channel_id: ch.handle, max_videos: MAX_VIDEOS })));
  }
  await worker.drain();
  const seconds = (performance.now() - t0) / 1000;
  const u = quota(r, key);
  const run = { name: "ours: uploads playlist + batched videos.list", videos: await r.ideas.count(), units: u.spent, calls: callsOf(u), seconds };
  await r.close();
  return run;
}

async function original(latencyMs: number, channelCount: number): Promise<Run> {
  const r = await rig(latencyMs);
  const key = "original";
  const api = new YouTubeApi({ apiKey: key, rootUrl: r.sandbox.rootUrl });
  const t0 = performance.now();
  // The original workers: search.list by channel, newest first, then one videos.list per video, one at a time.
  // Both approaches take each channel's newest MAX_VIDEOS uploads, so they store the same videos.
  for (const ch of channelsOf(r, channelCount)) {
    let pageToken: string | undefined;
    let taken = 0;
    do {
      const page = await api.search({ channelId: ch.id, order: "date", maxResults: 50, pageToken });
      for (const item of page.items.slice(0, MAX_VIDEOS - taken)) {
        taken++;
        const [video] = await api.videos([item.videoId]);
        if (video) await r.ideas.upsert(videoToIdea(video, [], r.sandbox.world.clock.now()));
      }
      pageToken = page.nextPageToken;
    } while (pageToken && taken < MAX_VIDEOS);
  }
  const seconds = (performance.now() - t0) / 1000;
  const u = quota(r, key);
  const run = { name: "original: search.list + one videos.list per video", videos: await r.ideas.count(), units: u.spent, calls: callsOf(u), seconds };
  await r.close();
  return run;
}

const f = (n: number, d = 2) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

const quotaRuns = [await ours(0, 24), await original(0, 24)];
const speedRuns = [await ours(LATENCY, SPEED_CHANNELS), await original(LATENCY, SPEED_CHANNELS)];
const [q1, q2] = quotaRuns as [Run, Run];
const [s1, s2] = speedRuns as [Run, Run];

console.log(`\n## YouTube: quota per video and throughput (${VIDEOS} videos in the world, 24 channels)\n`);
console.log(`| approach | videos stored | quota units | units per video | API calls | videos/s at ${LATENCY} ms latency (${SPEED_CHANNELS} channels) |`);
console.log("|---|---|---|---|---|---|");
for (const [q, s] of [[q1, s1], [q2, s2]] as const) {
  console.log(`| ${q.name} | ${q.videos} | ${q.units} | ${f(q.units / q.videos, 3)} | ${q.calls} | ${f(s.videos / s.seconds, 1)} |`);
}
console.log(`\nQuota: ours spends ${f(q2.units / q1.videos / (q1.units / q1.videos), 0)}x fewer units per video (target <= 0.05, floor 0.04). Throughput: ${f((s1.videos / s1.seconds) / (s2.videos / s2.seconds), 1)}x.`);
