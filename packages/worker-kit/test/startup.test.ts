import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RedisOutage, StartupError, createLogger, runMain, waitForDependency } from "../src/index.js";

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ service: "svc", level: "debug", destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
  return { lines, logger };
}

describe("waitForDependency", () => {
  it("retries with backoff until the dependency answers: one warn line when it waits, one info line when it is there", async () => {
    const { lines, logger } = capture();
    let tries = 0;
    const value = await waitForDependency(
      "taskmanager",
      async () => {
        if (++tries < 5) throw new Error("connect ECONNREFUSED 127.0.0.1:9");
        return "up";
      },
      { deadline: Date.now() + 10_000, logger, minDelayMs: 10, maxDelayMs: 40 },
    );
    assert.equal(value, "up");
    assert.equal(tries, 5);
    assert.deepEqual(
      lines.map((l) => [l.level, l.dependency, String(l.msg).replace(/[\d.]+ s/g, "N s")]),
      [
        [40, "taskmanager", "waiting for taskmanager: connect ECONNREFUSED 127.0.0.1:9 (retrying with backoff for up to N s)"],
        [30, "taskmanager", "taskmanager ready after N s"],
      ],
    );
  });

  it("gives up at the deadline with a StartupError of one line naming the dependency and the last reason", async () => {
    const { lines, logger } = capture();
    const started = Date.now();
    const err = await waitForDependency("redis", () => Promise.reject(new Error("connect ECONNREFUSED\n    at stack")), { deadline: Date.now() + 300, logger, minDelayMs: 20, maxDelayMs: 50 }).catch((e: unknown) => e);
    assert.ok(err instanceof StartupError, String(err));
    assert.equal(err.code, "KIT_ERR_STARTUP");
    assert.equal(err.dependency, "redis");
    assert.match(err.message, /^redis still unreachable after [\d.]+ s \(STARTUP_TIMEOUT_SECONDS\): connect ECONNREFUSED$/);
    assert.ok(Date.now() - started < 2_000);
    assert.equal(lines.filter((l) => l.level === 40).length, 1, "one waiting line, not one per try");
  });

  it("stops at once on an error `fatal` names (a wrong key), without waiting", async () => {
    let tries = 0;
    const err = await waitForDependency(
      "taskmanager",
      async () => {
        tries++;
        throw Object.assign(new Error("Unauthorized"), { status: 401 });
      },
      { deadline: Date.now() + 60_000, fatal: (e) => ((e as { status?: number }).status === 401 ? "the key was refused" : undefined) },
    ).catch((e: unknown) => e);
    assert.ok(err instanceof StartupError);
    assert.equal(err.message, "the key was refused");
    assert.equal(tries, 1);
  });
});

describe("runMain and StartupError", () => {
  it("writes a StartupError as one line without a stack, and exits 1", async () => {
    let text = "";
    const codes: number[] = [];
    runMain("svc", () => Promise.reject(new StartupError("redis", "redis still unreachable after 60.0 s (STARTUP_TIMEOUT_SECONDS): connect ECONNREFUSED")), { exit: (c) => codes.push(c), stderr: (t) => (text += t) });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(codes, [1]);
    assert.equal(text, "svc failed to start: redis still unreachable after 60.0 s (STARTUP_TIMEOUT_SECONDS): connect ECONNREFUSED\n");
  });
});

describe("RedisOutage", () => {
  it("logs the first connection error of an outage once, none of the retries, and one line when Redis is back", () => {
    const { lines, logger } = capture();
    const outage = new RedisOutage(logger);
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6390"), { code: "ECONNREFUSED" });
    for (let i = 0; i < 50; i++) outage.error(refused, i % 2 ? "outbox worker" : "redis");
    assert.equal(outage.down, true);
    outage.back();
    outage.back();
    assert.equal(outage.down, false);
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg]),
      [
        [40, "redis unreachable: reconnecting with backoff (logged once per outage; /readyz says not ready until it is back)"],
        [30, "redis reachable again"],
      ],
    );
    assert.equal(lines[1]?.errors, 50);
    // A second outage is logged again.
    outage.error(refused);
    assert.equal(lines.length, 3);
  });

  it("always logs an error that is not about the connection", () => {
    const { lines, logger } = capture();
    const outage = new RedisOutage(logger);
    outage.error(new Error("ERR unknown command 'FOO'"), "outbox queue");
    outage.error(new Error("ERR unknown command 'FOO'"), "outbox queue");
    assert.equal(lines.length, 2);
    assert.equal(outage.down, false);
  });
});
