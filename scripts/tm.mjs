#!/usr/bin/env node
// `pnpm tm ...`: the operator CLI (apps/tm-cli). Builds it first when it has not been built yet.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = `${root}apps/tm-cli/dist/cli.js`;
if (!existsSync(cli)) {
  const built = spawnSync("pnpm", ["exec", "turbo", "run", "build", "--filter=@prismq/tm-cli...", "--output-logs=errors-only"], { cwd: root, stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", TURBO_NO_UPDATE_NOTIFIER: "1" } });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
const run = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(run.status ?? 1);
