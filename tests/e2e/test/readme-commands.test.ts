// The README's two commands do their own set-up: `pnpm test` installs and starts the services the
// tests need through scripts/test-services.sh (which .ci/run uses too), and no root script shows
// the build tool's telemetry notice, even for a user who never answered it (a fresh HOME).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { root } from "./system.js";

const scripts = () => (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

function run(cmd: string, args: string[], env: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  const child = spawn(cmd, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, output })));
}

describe("the README's test command sets up what the tests need", () => {
  it("pnpm test runs scripts/test-services.sh before the tests, and .ci/run uses that script instead of steps of its own", () => {
    assert.match(scripts().test ?? "", /^bash scripts\/test-services\.sh && .*turbo run test/);
    const ci = readFileSync(join(root, ".ci", "run"), "utf8");
    assert.match(ci, /^bash scripts\/test-services\.sh$/m);
    assert.match(ci, /pnpm install --frozen-lockfile && pnpm test$/m, ".ci/run runs the README's test command");
    for (const step of ["redis-server", "pg_ctlcluster", "apt-get install", "createdb"]) assert.ok(!ci.includes(step), `.ci/run leaves "${step}" to the script`);
    const services = readFileSync(join(root, "scripts", "test-services.sh"), "utf8");
    for (const what of ["apt-get update", "redis-server", "postgresql", "chromium", "TEST_REDIS_URL", "TEST_DATABASE_URL", "createdb test"]) assert.ok(services.includes(what), `the script handles ${what}`);
  });

  it("with every service up, the script is a quiet no-op (exit 0, prints nothing), also when the tests use services of their own", { timeout: 60_000 }, async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, TEST_REDIS_URL: process.env.TEST_REDIS_URL, TEST_DATABASE_URL: process.env.TEST_DATABASE_URL };
    const plain = await run("bash", ["scripts/test-services.sh"], env);
    assert.equal(plain.code, 0, plain.output);
    assert.equal(plain.output, "");
    // Services of their own: nothing local is checked or started for them (here: addresses nothing answers).
    const own = await run("bash", ["scripts/test-services.sh"], { ...env, TEST_REDIS_URL: "redis://127.0.0.1:1", TEST_DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    assert.equal(own.code, 0, own.output);
    assert.equal(own.output, "");
  });
});

describe("no telemetry notice from the root scripts", () => {
  it("every root script that runs turbo turns its telemetry and update notices off itself", () => {
    for (const [name, cmd] of Object.entries(scripts())) {
      for (const part of cmd.split("&&").map((s) => s.trim())) {
        if (!/(^|\s)turbo\s/.test(part)) continue;
        assert.match(part, /^TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1 turbo /, `script "${name}": ${part}`);
      }
    }
  });

  it("pnpm build with a fresh HOME prints no telemetry notice", { timeout: 120_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), "e2e-fresh-home-"));
    try {
      // A dry run: the same start-up (where the notice is printed), no build.
      const { code, output } = await run("pnpm", ["build", "--dry=json"], { PATH: process.env.PATH, HOME: home });
      assert.equal(code, 0, output.slice(-2000));
      assert.doesNotMatch(output, /collects completely anonymous telemetry|Attention:/i, output.slice(0, 2000));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
