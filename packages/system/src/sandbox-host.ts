#!/usr/bin/env node
// The sandbox process of a system: imports each platform's sandbox factory (the
// descriptor's `sandbox` reference), starts them with one shared object, prints
// `SANDBOX <platform> <url>` for each and `SANDBOXES READY`, and closes them on SIGTERM.
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** The one argument of this script, as JSON. */
export interface SandboxHostSpec {
  sandboxes: Array<{ platform: string; module: string; factory: string }>;
  options: { latencyMs?: number; errorRate?: number; rpm?: number; tickMs?: number };
  /** The directory whose node_modules the modules are resolved from. */
  resolveFrom: string;
}

type Factory = (o: Record<string, unknown>) => Promise<{ url: string; close(): Promise<void> }>;

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as SandboxHostSpec;
  const require = createRequire(join(spec.resolveFrom, "package.json"));
  const shared: Record<string, unknown> = {};
  const running: Array<{ close(): Promise<void> }> = [];
  const stop = () => void Promise.all(running.map((s) => s.close())).then(() => process.exit(0), () => process.exit(1));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  for (const s of spec.sandboxes) {
    const mod = (await import(pathToFileURL(require.resolve(s.module)).href)) as Record<string, unknown>;
    const factory = mod[s.factory];
    if (typeof factory !== "function") throw new Error(`${s.module} has no export ${s.factory} (the sandbox of ${s.platform})`);
    const sandbox = await (factory as Factory)({ ...spec.options, port: 0, shared });
    running.push(sandbox);
    process.stdout.write(`SANDBOX ${s.platform} ${sandbox.url}\n`);
  }
  process.stdout.write("SANDBOXES READY\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
