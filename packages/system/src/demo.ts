import type { AnyPlatformDescriptor } from "@prismq/worker-kit";

/** The demo's sources file text per platform name (for `SystemOptions.sources`), each source run every `every`; platforms without a demo are left out. */
export function demoSources(platforms: readonly AnyPlatformDescriptor[], every: string): Record<string, string> {
  return Object.fromEntries(platforms.flatMap((p) => (p.demo ? [[p.name, p.demo.sources(every)]] : [])));
}

/** The demo's variables of every platform, with `env`'s own value where it sets one. */
export function demoEnv(platforms: readonly AnyPlatformDescriptor[], env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of platforms) for (const [name, value] of Object.entries(p.demo?.env ?? {})) out[name] = env[name] ?? value;
  return out;
}
