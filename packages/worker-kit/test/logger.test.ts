// createLogger and taskLogger: JSON lines with `service`, secrets redacted
// (and nowhere in the output), task fields on child lines, errors under `err`.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REDACT_PATHS, createLogger, taskLogger, type LoggerOptions } from "../src/index.js";

type Line = Record<string, unknown>;

/** A logger whose lines are kept in memory. */
function collect(options: Omit<LoggerOptions, "destination"> = { service: "svc" }) {
  const chunks: string[] = [];
  const logger = createLogger({ ...options, destination: { write: (chunk: string) => void chunks.push(chunk) } });
  return {
    logger,
    text: () => chunks.join(""),
    lines: (): Line[] =>
      chunks
        .join("")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Line),
  };
}

/** The value at a dotted path, e.g. `client.apiKey`. */
function at(line: Line, path: string[]): unknown {
  let v: unknown = line;
  for (const key of path) v = (v as Record<string, unknown> | undefined)?.[key];
  return v;
}

describe("createLogger", () => {
  it("writes one JSON line per call, each with service, level, time and msg", () => {
    const { logger, lines } = collect({ service: "youtube-discovery" });
    logger.info("first");
    logger.warn({ n: 2 }, "second");
    logger.child({ part: "x" }).error("third");
    const got = lines();
    assert.equal(got.length, 3);
    assert.deepEqual(
      got.map((l) => [l.service, l.level, l.msg]),
      [
        ["youtube-discovery", 30, "first"],
        ["youtube-discovery", 40, "second"],
        ["youtube-discovery", 50, "third"],
      ],
    );
    for (const l of got) {
      assert.equal(l.pid, process.pid);
      assert.equal(typeof l.time, "number");
    }
    assert.equal(got[1]?.n, 2);
    assert.equal(got[2]?.part, "x");
  });

  it("defaults to level info and honours a given level", () => {
    const byDefault = collect({ service: "svc" });
    byDefault.logger.debug("hidden");
    byDefault.logger.info("shown");
    assert.deepEqual(
      byDefault.lines().map((l) => l.msg),
      ["shown"],
    );

    const debug = collect({ service: "svc", level: "debug" });
    debug.logger.trace("hidden");
    debug.logger.debug("shown");
    assert.deepEqual(
      debug.lines().map((l) => l.msg),
      ["shown"],
    );

    const warn = collect({ service: "svc", level: "warn" });
    warn.logger.info("hidden");
    warn.logger.warn("shown");
    assert.deepEqual(
      warn.lines().map((l) => l.msg),
      ["shown"],
    );
  });

  it("redacts secrets at the top level, one level down and in headers, and they appear nowhere in the output", () => {
    const { logger, lines, text } = collect();
    const secrets: [string[], string][] = [
      [["apiKey"], "SECRET-apiKey-1"],
      [["client", "apiKey"], "SECRET-apiKey-nested-2"],
      [["token"], "SECRET-token-3"],
      [["auth", "token"], "SECRET-token-nested-4"],
      [["password"], "SECRET-password-5"],
      [["db", "password"], "SECRET-password-nested-6"],
      [["headers", "authorization"], "Bearer SECRET-authorization-7"],
      [["req", "headers", "authorization"], "Bearer SECRET-authorization-nested-8"],
      [["headers", "x-api-key"], "SECRET-x-api-key-9"],
      [["TASKMANAGER_API_KEY"], "SECRET-tm-key-10"],
      [["config", "TASKMANAGER_API_KEY"], "SECRET-tm-key-nested-11"],
      [["REDIS_URL"], "redis://:SECRET-redis-12@redis:6379"],
      [["accessToken"], "SECRET-accessToken-13"],
      [["refreshToken"], "SECRET-refreshToken-14"],
      [["clientSecret"], "SECRET-clientSecret-15"],
      [["secret"], "SECRET-secret-16"],
      [["key"], "SECRET-key-17"],
    ];
    const obj: Record<string, unknown> = {};
    for (const [path, value] of secrets) {
      let node = obj;
      for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
      node[path[path.length - 1] as string] = value;
    }
    // Non-secret neighbours stay as they are.
    (obj.client as Record<string, unknown>).name = "yt-client";
    (obj.headers as Record<string, unknown>)["content-type"] = "application/json";
    logger.info(obj, "calling the API");

    const [line] = lines();
    assert.ok(line);
    for (const [path, value] of secrets) {
      assert.equal(at(line, path), "[redacted]", `${path.join(".")} not redacted`);
      assert.ok(!text().includes(value), `${value} leaked into the output`);
    }
    assert.ok(!text().includes("SECRET-"), text());
    assert.equal(at(line, ["client", "name"]), "yt-client");
    assert.equal(at(line, ["headers", "content-type"]), "application/json");
    assert.equal(line.service, "svc");
  });

  it("redacts secrets in child bindings too", () => {
    const { logger, lines, text } = collect();
    logger.child({ apiKey: "SECRET-bound-key", client: { token: "SECRET-bound-token" } }).info("bound");
    const [line] = lines();
    assert.equal(line?.apiKey, "[redacted]");
    assert.equal(at(line as Line, ["client", "token"]), "[redacted]");
    assert.ok(!text().includes("SECRET-"), text());
  });

  it("does not change the logged object", () => {
    const { logger } = collect();
    const obj = { apiKey: "still-mine", client: { apiKey: "still-mine-too" } };
    logger.info(obj, "x");
    assert.deepEqual(obj, { apiKey: "still-mine", client: { apiKey: "still-mine-too" } });
  });

  it("applies extra redact paths on top of the built-in ones", () => {
    const plain = collect();
    plain.logger.info({ youtube: { quotaProject: "PROJECT-123" } }, "x");
    assert.equal(at(plain.lines()[0] as Line, ["youtube", "quotaProject"]), "PROJECT-123");

    const { logger, lines, text } = collect({ service: "svc", redact: ["youtube.quotaProject", "cookie"] });
    logger.info({ youtube: { quotaProject: "PROJECT-123", region: "US" }, cookie: "SESSION-abc", apiKey: "SECRET-k" }, "x");
    const [line] = lines();
    assert.ok(line);
    assert.equal(at(line, ["youtube", "quotaProject"]), "[redacted]");
    assert.equal(at(line, ["youtube", "region"]), "US");
    assert.equal(line.cookie, "[redacted]");
    assert.equal(line.apiKey, "[redacted]", "built-in paths still apply");
    assert.ok(!/PROJECT-123|SESSION-abc|SECRET-k/.test(text()), text());
    assert.ok(!REDACT_PATHS.includes("cookie"), "extra paths do not leak into the shared list");
  });

  it("logs an error under err with its type, message and stack", () => {
    const { logger, lines } = collect();
    const err = new TypeError("quota call failed");
    logger.error({ err, videoId: "abc" }, "fetch failed");
    logger.error(new RangeError("bare error"));
    const [withObj, bare] = lines();
    assert.deepEqual(
      { type: at(withObj as Line, ["err", "type"]), message: at(withObj as Line, ["err", "message"]) },
      { type: "TypeError", message: "quota call failed" },
    );
    assert.equal(at(withObj as Line, ["err", "stack"]), err.stack);
    assert.equal(withObj?.videoId, "abc");
    assert.equal(withObj?.msg, "fetch failed");
    assert.equal(at(bare as Line, ["err", "message"]), "bare error");
    assert.match(String(at(bare as Line, ["err", "stack"])), /^RangeError: bare error\n\s+at /);
    assert.equal(bare?.service, "svc");
  });
});

describe("taskLogger", () => {
  it("adds taskId, taskType and attempt to every line, keeping service", () => {
    const { logger, lines } = collect({ service: "worker" });
    const log = taskLogger(logger, { id: 41, type: "PrismQ.YouTube.Video", attempts: 3 });
    log.info("start");
    log.child({ step: "fetch" }).warn("slow");
    const got = lines();
    assert.equal(got.length, 2);
    for (const l of got) {
      assert.equal(l.service, "worker");
      assert.equal(l.taskId, 41);
      assert.equal(l.taskType, "PrismQ.YouTube.Video");
      assert.equal(l.attempt, 3);
    }
    assert.equal(got[1]?.step, "fetch");
  });

  it("leaves attempt out when the task has no attempts, and does not touch the root logger", () => {
    const { logger, lines } = collect();
    taskLogger(logger, { id: 7, type: "T" }).info("task line");
    logger.info("root line");
    const [task, root] = lines();
    assert.equal(task?.taskId, 7);
    assert.equal(task?.taskType, "T");
    assert.equal("attempt" in (task as Line), false);
    assert.equal("taskId" in (root as Line), false);
  });

  it("still redacts secrets on task lines", () => {
    const { logger, lines, text } = collect();
    taskLogger(logger, { id: 1, type: "T", attempts: 1 }).info({ request: { apiKey: "SECRET-task-key" } }, "x");
    assert.equal(at(lines()[0] as Line, ["request", "apiKey"]), "[redacted]");
    assert.ok(!text().includes("SECRET-task-key"));
  });
});

describe("createLogger({ pretty: true })", () => {
  it("writes readable lines (pino-pretty) instead of JSON, with the message, the fields and secrets still redacted", async () => {
    const { Writable } = await import("node:stream");
    let text = "";
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    const logger = createLogger({ service: "svc", pretty: true, destination });
    logger.info({ taskId: 7, apiKey: "very-secret-key-0123456789" }, "batch done");
    logger.flush();
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(text.length > 0, "it wrote");
    // Colors for a terminal; compared without them.
    text = text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
    assert.throws(() => JSON.parse(text.split("\n")[0] ?? ""), "not a JSON line");
    assert.match(text, /INFO/);
    assert.match(text, /batch done/);
    assert.match(text, /taskId: 7/);
    assert.doesNotMatch(text, /very-secret-key/);
  });
});
