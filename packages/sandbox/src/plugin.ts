import { startRedditSandbox } from "./reddit.js";
import { World } from "./world.js";
import { startYouTubeSandbox } from "./youtube.js";

/**
 * What an orchestrator passes to a platform's sandbox factory (the one a
 * platform descriptor's `sandbox` reference names). Generic: every platform's
 * factory takes the same options.
 */
export interface PlatformSandboxOptions {
  /** Port on loopback. @defaultValue 0 (any free port) */
  port?: number;
  /** Added to every API answer, in ms. @defaultValue 0 */
  latencyMs?: number;
  /** Share of API answers that are a 503, 0..1. @defaultValue 0 */
  errorRate?: number;
  /** Requests per minute per client, where the API limits them. @defaultValue 100 */
  rpm?: number;
  /** Advance the world clock by one hour every this many ms of real time; 0 = never. @defaultValue 0 */
  tickMs?: number;
  /**
   * One object for every sandbox of one run: the sandboxes of this module keep
   * their shared world (linked data, one clock) in it.
   */
  shared?: Record<string, unknown>;
}

/** A platform's sandbox as an orchestrator sees it. */
export interface PlatformSandbox {
  /** Its base URL (no trailing slash); the descriptor's `sandbox.env(url)` turns it into variables. */
  readonly url: string;
  close(): Promise<void>;
}

interface SharedWorld {
  world?: World;
  timer?: NodeJS.Timeout;
  users?: number;
}

/** The world of a run, made by the first sandbox that asks; its clock ticks until the last sandbox closes. */
function sharedWorld(o: PlatformSandboxOptions): { world: World; release(): void } {
  const s = (o.shared ?? {}) as SharedWorld;
  if (!s.world) {
    s.world = new World();
    const tick = o.tickMs ?? 0;
    const world = s.world;
    if (tick > 0) s.timer = setInterval(() => world.clock.advance(3_600_000), tick);
  }
  s.users = (s.users ?? 0) + 1;
  return {
    world: s.world,
    release: () => {
      s.users = (s.users ?? 1) - 1;
      if (s.users === 0 && s.timer) clearInterval(s.timer);
    },
  };
}

const faultsOf = (o: PlatformSandboxOptions) => ({ latencyMs: o.latencyMs ?? 0, errorRate: Math.min(1, o.errorRate ?? 0) });

/** The YouTube Data API sandbox as a platform plug-in's sandbox factory. */
export async function youtubePlatformSandbox(o: PlatformSandboxOptions = {}): Promise<PlatformSandbox> {
  const { world, release } = sharedWorld(o);
  const sandbox = await startYouTubeSandbox({ world, port: o.port ?? 0, faults: faultsOf(o) });
  return { url: sandbox.url, close: () => sandbox.close().finally(release) };
}

/** The Reddit API sandbox as a platform plug-in's sandbox factory. */
export async function redditPlatformSandbox(o: PlatformSandboxOptions = {}): Promise<PlatformSandbox> {
  const { world, release } = sharedWorld(o);
  const sandbox = await startRedditSandbox({ world, port: o.port ?? 0, rateLimit: { requests: o.rpm ?? 100, windowMs: 60_000 }, faults: faultsOf(o) });
  return { url: sandbox.url, close: () => sandbox.close().finally(release) };
}
