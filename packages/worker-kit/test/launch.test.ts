import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startAppProcess, until } from "../src/testing.js";
import { KEY, TestServer } from "./helpers.js";

const FIXTURE = "test/fixtures/launch-app.ts";

describe("launchWorkerApp", () => {
  const server = new TestServer();
  const dir = mkdtempSync(join(tmpdir(), "wk-launch-"));
  before(() => server.start());
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = () => ({ TASKMANAGER_API_URL: server.url, TASKMANAGER_API_KEY: KEY, DATA_DIR: dir });

  it("answers --help from the spec's summary and shape, with the processor's and discovery app's shared variables, and exits 0", async () => {
    const app = startAppProcess({}, FIXTURE, { args: ["--help"] });
    assert.equal(await app.exited, 0, app.stderr());
    assert.ok(app.stdout().startsWith("launch-fixture: starts through launchWorkerApp"), app.stdout());
    for (const name of ["TASKMANAGER_API_URL", "FIXTURE_SOURCES", "DATA_DIR", "IDEA_DATABASE_URL", "FIXTURE_PAIR"]) assert.match(app.stdout(), new RegExp(`^ {2}${name} `, "m"), name);
    assert.equal(app.lines.length, 0, "nothing started");
  });

  it("exits 2 before anything starts on a bad variable, on what the spec's check refuses, and on what prepare refuses", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ IDEA_DATABASE_URL: "mysql://x" }, /^launch-fixture: invalid configuration:\n {2}- IDEA_DATABASE_URL: /],
      [{ FIXTURE_PAIR: "lonely" }, /^launch-fixture: FIXTURE_PAIR: needs its pair/],
      [{ FIXTURE_SOURCES: "bad" }, /^fixture sources: entry 1: bad/],
    ];
    for (const [env, message] of cases) {
      const app = startAppProcess({ ...base(), ...env }, FIXTURE);
      assert.equal(await app.exited, 2, app.stderr());
      assert.match(app.stderr(), message);
      assert.equal(app.lines.length, 0, "nothing started");
    }
  });

  it("starts: waits for the TaskManager, registers the platform's types, hands main what prepare read and the idea store, and stops cleanly", async () => {
    const app = startAppProcess({ ...base(), FIXTURE_SOURCES: "sources.yaml", SHUTDOWN_TIMEOUT_MS: "5000" }, FIXTURE);
    try {
      await until(() => app.lines.some((l) => l.msg === "launch-fixture running"), 20_000, "the fixture runs");
      const launched = app.lines.find((l) => l.msg === "launched");
      assert.deepEqual(launched?.prepared, ["sources.yaml"]);
      assert.deepEqual(launched?.registered, { registered: [], unchanged: [] });
      assert.equal(launched?.ideas, 0);
      assert.ok(app.lines.some((l) => l.msg === "ideas ready"), "the idea store was waited for as a dependency");
      assert.equal((await app.stop()).code, 0, app.stderr());
    } finally {
      await app.stop("SIGKILL");
    }
  });

  it("ends the start with exit 1 and one line when the TaskManager refuses the key", async () => {
    const app = startAppProcess({ ...base(), TASKMANAGER_API_KEY: "not-the-key" }, FIXTURE);
    assert.equal(await app.exited, 1, app.stderr());
    assert.match(app.stderr(), /^launch-fixture failed to start: the TaskManager at .* refused TASKMANAGER_API_KEY/);
  });
});
