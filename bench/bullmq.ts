/**
 * The reference a user would otherwise pick: a local BullMQ queue on the same
 * Redis doing the work the TaskManager benchmark measures. Creates are `add`s
 * (with a job id as the dedupe key, as our creates dedupe), a claim+complete
 * cycle is a worker picking a job and finishing it, at 8 and 32 in flight.
 * Prints a Markdown table to put beside `bench/taskmanager-server.ts`'s.
 *
 *   pnpm bench:bullmq        (BENCH_TASKS=12000, REDIS_URL=redis://127.0.0.1:6379 by default)
 */
import { randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";

const TASKS = Number(process.env.BENCH_TASKS ?? 12_000);
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const url = new URL(REDIS_URL);
const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };

async function run(concurrency: number): Promise<{ createsPerS: number; cyclesPerS: number }> {
  const prefix = `bench-bullmq-${randomBytes(4).toString("hex")}`;
  const queue = new Queue("bench", { connection, prefix });
  // Creates: one at a time from `concurrency` producers, like the HTTP creates of the server benchmark.
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < TASKS) {
        const n = next++;
        await queue.add("task", { n }, { jobId: `t-${n}`, removeOnComplete: true });
      }
    }),
  );
  const createsPerS = TASKS / ((performance.now() - t0) / 1000);
  // Cycles: workers take and complete every job.
  let done = 0;
  const t1 = performance.now();
  let allDone: () => void = () => {};
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const worker = new Worker(
    "bench",
    async () => {
      if (++done === TASKS) allDone();
    },
    { connection, prefix, concurrency },
  );
  await finished;
  const cyclesPerS = TASKS / ((performance.now() - t1) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { createsPerS, cyclesPerS };
}

/** Creates/s and cycles/s at 8 and 32 in flight; `undefined` when no Redis answers. */
export async function bullmqReference(): Promise<{ creates: number; cycles8: number; cycles32: number } | undefined> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => {});
  try {
    await probe.connect();
  } catch {
    return undefined;
  }
  probe.disconnect();
  const r8 = await run(8);
  const r32 = await run(32);
  return { creates: r8.createsPerS, cycles8: r8.cyclesPerS, cycles32: r32.cyclesPerS };
}

// Run directly, it prints its own table; `bench/taskmanager-server.ts` imports it for a row of its table.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await bullmqReference();
  if (!r) {
    console.log(`\nBullMQ reference: no Redis at ${REDIS_URL}; skipped.`);
    process.exit(0);
  }
  const f = (n: number) => Math.round(n).toLocaleString("en-US");
  console.log(`\n## BullMQ reference on the same Redis (${TASKS} jobs)\n`);
  console.log("| target | creates/s (8 producers) | cycles/s at 8 | cycles/s at 32 |");
  console.log("|---|---|---|---|");
  console.log(`| BullMQ queue (local, no HTTP, no SQL) | ${f(r.creates)} | ${f(r.cycles8)} | ${f(r.cycles32)} |`);
}
