// Pastes each service's table of variables, generated from its zod schema, into its README
// between the env-table markers. `pnpm docs:env`; each service's test fails until this is run
// after a schema change.
import { readFileSync, writeFileSync } from "node:fs";
import { envTable, withEnvTable, type EnvShape } from "@prismq/env-help";

const services: Array<[string, () => Promise<EnvShape>]> = [
  ["apps/youtube-discovery", async () => (await import("../apps/youtube-discovery/src/config.js")).shape],
  ["apps/youtube-processor", async () => (await import("../apps/youtube-processor/src/config.js")).shape],
  ["apps/reddit-discovery", async () => (await import("../apps/reddit-discovery/src/config.js")).shape],
  ["apps/reddit-processor", async () => (await import("../apps/reddit-processor/src/config.js")).shape],
  ["apps/taskmanager-server", async () => (await import("../apps/taskmanager-server/src/config.js")).envShape],
];

for (const [dir, shape] of services) {
  const path = `${dir}/README.md`;
  const before = readFileSync(path, "utf8");
  const after = withEnvTable(before, envTable(await shape()));
  if (after !== before) writeFileSync(path, after);
  console.log(`${path}: ${after === before ? "up to date" : "table updated"}`);
}
