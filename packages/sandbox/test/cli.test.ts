import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";

function run(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], { stdio: "pipe" });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

describe("pnpm sandbox", () => {
  it("starts both APIs on one world, prints the variables for the apps, and stops on SIGTERM", async () => {
    const p = run(["--youtube-port", "0", "--reddit-port", "0", "--seed", "cli-test", "--videos", "300", "--posts", "300"]);
    const end = Date.now() + 15_000;
    while (!p.out().includes("Ctrl-C stops.")) {
      assert.ok(Date.now() < end, `no banner: ${p.err()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const root = /YOUTUBE_API_ROOT_URL=(\S+)/.exec(p.out())?.[1];
    const reddit = /REDDIT_API_URL=(\S+)/.exec(p.out())?.[1];
    assert.ok(root?.endsWith("/") && reddit, `banner: ${p.out()}`);
    assert.match(p.out(), /240 of 300 videos and 240 of 300 posts visible/);
    const videos = (await (await fetch(`${root}youtube/v3/videos?part=id&chart=mostPopular&regionCode=US&maxResults=3&key=sandbox-key`)).json()) as { items: unknown[] };
    assert.equal(videos.items.length, 3);
    const stats = (await (await fetch(`${reddit}/_sandbox/stats`)).json()) as { requests: { total: number } };
    assert.equal(stats.requests.total, 0);
    p.child.kill("SIGTERM");
    assert.equal(await p.exited, 0);
  });

  it("refuses a bad option with a clear message and exit code 2", async () => {
    const p = run(["--videos", "lots"]);
    assert.equal(await p.exited, 2);
    assert.match(p.err(), /--videos must be a number >= 0, got "lots"/);
  });
});
