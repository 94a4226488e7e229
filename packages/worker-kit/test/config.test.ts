// parseConfig with commonEnv and the env field builders: typed defaults, one
// ConfigError naming every bad variable, empty strings as unset, and values of
// secret-looking variables never echoed back.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { ConfigError, WorkerKitError, commonEnv, env, parseConfig, type Env, envRows } from "../src/index.js";

const API_URL = "http://localhost:3000/api";
const API_KEY = "tm-key-0123456789abcdef";
/** The smallest environment commonEnv accepts. */
const GOOD: Env = { TASKMANAGER_API_URL: API_URL, TASKMANAGER_API_KEY: API_KEY };

/** Runs `fn`, asserts it threw a ConfigError, and returns it. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected parseConfig to throw a ConfigError");
}

/** The one problem about `name`; fails unless there is exactly one. */
function problemOf(err: ConfigError, name: string): string {
  const found = err.problems.filter((p) => p.startsWith(`${name}:`));
  assert.equal(found.length, 1, `expected one problem about ${name}, got ${JSON.stringify(err.problems)}`);
  return found[0] as string;
}

describe("parseConfig with commonEnv", () => {
  it("returns typed defaults for every unset optional variable, plus the app's own fields", () => {
    const config = parseConfig("svc", { ...commonEnv, OWN: env.int(7) }, GOOD);
    assert.deepEqual(config, {
      TASKMANAGER_API_URL: API_URL,
      TASKMANAGER_API_KEY: API_KEY,
      QUEUE_PREFIX: "prismq",
      LOG_LEVEL: "info",
      LOG_PRETTY: false,
      HEALTH_HOST: "127.0.0.1",
      HEALTH_PORT: 0,
      SHUTDOWN_TIMEOUT_MS: 15_000,
      STARTUP_TIMEOUT_SECONDS: 60,
      TASKMANAGER_CLAIM_TIMEOUT_SECONDS: 300,
      OWN: 7,
    });
    assert.equal(config.REDIS_URL, undefined);
    // Typed: numbers come out as numbers, not strings.
    const port: number = config.HEALTH_PORT;
    const own: number = config.OWN;
    assert.equal(typeof port, "number");
    assert.equal(typeof own, "number");
  });

  it("parses given values into their types", () => {
    const config = parseConfig(
      "svc",
      { ...commonEnv, OWN: env.int(7) },
      {
        ...GOOD,
        REDIS_URL: "redis://localhost:6379",
        QUEUE_PREFIX: "my_app.v2-x",
        LOG_LEVEL: "debug",
        HEALTH_HOST: "0.0.0.0",
        HEALTH_PORT: "9100",
        SHUTDOWN_TIMEOUT_MS: "30000",
        OWN: "42",
      },
    );
    assert.equal(config.REDIS_URL, "redis://localhost:6379");
    assert.equal(config.QUEUE_PREFIX, "my_app.v2-x");
    assert.equal(config.LOG_LEVEL, "debug");
    assert.equal(config.HEALTH_HOST, "0.0.0.0");
    assert.equal(config.HEALTH_PORT, 9100);
    assert.equal(config.SHUTDOWN_TIMEOUT_MS, 30_000);
    assert.equal(config.OWN, 42);
  });

  it("ignores variables that are not in the shape", () => {
    const config = parseConfig("svc", { ...commonEnv }, { ...GOOD, PATH: "/usr/bin", UNRELATED: "x" });
    assert.equal("PATH" in config, false);
    assert.equal("UNRELATED" in config, false);
  });

  it("throws one ConfigError with one problem per bad variable, each named in the message", () => {
    const bad: Env = {
      TASKMANAGER_API_URL: "ftp://tm.example/api",
      // TASKMANAGER_API_KEY missing
      REDIS_URL: "http://localhost:6379",
      QUEUE_PREFIX: "has space",
      LOG_LEVEL: "loud",
      HEALTH_PORT: "70000",
      SHUTDOWN_TIMEOUT_MS: "soon",
      OWN: "-3",
    };
    const err = configError(() => parseConfig("youtube-discovery", { ...commonEnv, OWN: env.int(1, 0, 10) }, bad));
    const names = ["TASKMANAGER_API_URL", "TASKMANAGER_API_KEY", "REDIS_URL", "QUEUE_PREFIX", "LOG_LEVEL", "HEALTH_PORT", "SHUTDOWN_TIMEOUT_MS", "OWN"];
    assert.ok(err instanceof WorkerKitError);
    assert.equal(err.code, "KIT_ERR_CONFIG");
    assert.equal(err.name, "ConfigError");
    assert.equal(err.problems.length, names.length, JSON.stringify(err.problems));
    for (const name of names) {
      const problem = problemOf(err, name);
      assert.ok(err.message.includes(problem), `message lacks "${problem}":\n${err.message}`);
    }
    assert.match(err.message, /^youtube-discovery: invalid configuration/);
    assert.equal(problemOf(err, "TASKMANAGER_API_KEY"), "TASKMANAGER_API_KEY: is required");
    assert.equal(problemOf(err, "HEALTH_PORT"), 'HEALTH_PORT: must be at most 65535 (got "70000")');
    assert.equal(problemOf(err, "SHUTDOWN_TIMEOUT_MS"), 'SHUTDOWN_TIMEOUT_MS: must be a whole number (got "soon")');
    assert.equal(problemOf(err, "OWN"), 'OWN: must be at least 0 (got "-3")');
  });

  it("says a missing required variable 'is required', for commonEnv's and the app's own", () => {
    const err = configError(() => parseConfig("svc", { ...commonEnv, CHANNEL: z.string() }, {}));
    assert.deepEqual(err.problems, ["TASKMANAGER_API_URL: is required", "TASKMANAGER_API_KEY: is required", "CHANNEL: is required"]);
  });

  it("counts empty strings as unset: required ones are missing, optional ones take their default", () => {
    const config = parseConfig("svc", { ...commonEnv, OWN: env.int(7) }, { ...GOOD, REDIS_URL: "", HEALTH_PORT: "", LOG_LEVEL: "", OWN: "" });
    assert.equal(config.REDIS_URL, undefined);
    assert.equal(config.HEALTH_PORT, 0);
    assert.equal(config.LOG_LEVEL, "info");
    assert.equal(config.OWN, 7);

    const err = configError(() => parseConfig("svc", { ...commonEnv }, { TASKMANAGER_API_URL: API_URL, TASKMANAGER_API_KEY: "" }));
    assert.deepEqual(err.problems, ["TASKMANAGER_API_KEY: is required"]);
  });

  it("echoes the bad value of an ordinary variable, clipped to 80 characters", () => {
    const long = `http://${"a".repeat(150)}.example/v1`;
    const err = configError(() => parseConfig("svc", { ...commonEnv }, { ...GOOD, TASKMANAGER_API_URL: long }));
    const problem = problemOf(err, "TASKMANAGER_API_URL");
    assert.equal(problem, `TASKMANAGER_API_URL: must end in /api (got "${long.slice(0, 77)}...")`);
    assert.ok(!err.message.includes(long));
  });
});

describe("parseConfig and secrets", () => {
  const secretShapes: [string, z.ZodType][] = [
    ["OWN_SECRET", z.string().min(40)],
    ["TASKMANAGER_API_KEY", z.string().regex(/^[a-f0-9]{32}$/, "must be 32 hex digits")],
    ["REDDIT_TOKEN", z.string().min(40)],
    ["db_password", z.string().min(40)],
  ];
  for (const [name, schema] of secretShapes) {
    it(`never echoes the value of ${name}, but still names it`, () => {
      const value = `sup3r-s3cret-value-for-${name}`;
      const err = configError(() => parseConfig("svc", { ...commonEnv, [name]: schema }, { ...GOOD, [name]: value }));
      const problem = problemOf(err, name);
      assert.match(problem, /\(got "\[redacted\]"\)$/);
      assert.ok(err.message.includes(name));
      assert.ok(!err.message.includes(value), `message echoes the secret:\n${err.message}`);
      assert.ok(!err.problems.some((p) => p.includes(value)));
      assert.ok(!JSON.stringify(err).includes(value));
    });
  }

  it("never echoes the password inside a bad REDIS_URL", () => {
    // The logger redacts REDIS_URL and safeRedisUrl() exists because the URL carries
    // the Redis password; a URL with the wrong scheme must not put it in the error.
    const password = "hunter2-redis-pass";
    const err = configError(() => parseConfig("svc", { ...commonEnv }, { ...GOOD, REDIS_URL: `http://default:${password}@redis.internal:6379` }));
    assert.ok(err.message.includes("REDIS_URL"));
    assert.ok(!err.message.includes(password), `message echoes the Redis password:\n${err.message}`);
    assert.ok(!err.problems.some((p) => p.includes(password)));
  });
});

describe("env field builders", () => {
  it("env.bool reads true/false/1/0/yes/no and falls back when unset", () => {
    const shape = { ON: env.bool(false), OFF: env.bool(true) };
    const cases: [string, boolean][] = [
      ["true", true],
      ["1", true],
      ["yes", true],
      ["false", false],
      ["0", false],
      ["no", false],
    ];
    for (const [raw, want] of cases) assert.equal(parseConfig("svc", shape, { ON: raw }).ON, want, `ON=${raw}`);
    assert.deepEqual(parseConfig("svc", shape, {}), { ON: false, OFF: true });
  });

  it("env.bool rejects anything else with 'must be true or false'", () => {
    for (const raw of ["maybe", "TRUE", "on"]) {
      const err = configError(() => parseConfig("svc", { ON: env.bool(false) }, { ON: raw }));
      assert.deepEqual(err.problems, [`ON: must be true or false (got "${raw}")`]);
    }
  });

  it("env.list splits on commas, trims, and drops empty items", () => {
    const config = parseConfig("svc", { SOURCES: env.list() }, { SOURCES: " @a, @b,, @c ," });
    assert.deepEqual(config.SOURCES, ["@a", "@b", "@c"]);
    assert.deepEqual(parseConfig("svc", { SOURCES: env.list() }, { SOURCES: "one" }).SOURCES, ["one"]);
    assert.equal(parseConfig("svc", { SOURCES: env.list().optional() }, {}).SOURCES, undefined);
    const err = configError(() => parseConfig("svc", { SOURCES: env.list() }, { SOURCES: "" }));
    assert.deepEqual(err.problems, ["SOURCES: is required"]);
  });

  it("env.port accepts 0..65535 and rejects values outside or not whole", () => {
    const shape = { PORT: env.port(8080) };
    assert.equal(parseConfig("svc", shape, {}).PORT, 8080);
    assert.equal(parseConfig("svc", shape, { PORT: "0" }).PORT, 0);
    assert.equal(parseConfig("svc", shape, { PORT: "65535" }).PORT, 65_535);
    const bad: [string, string][] = [
      ["65536", "must be at most 65535"],
      ["-1", "must be at least 0"],
      ["80.5", "must be a whole number"],
      ["http", "must be a whole number"],
    ];
    for (const [raw, why] of bad) {
      const err = configError(() => parseConfig("svc", shape, { PORT: raw }));
      assert.deepEqual(err.problems, [`PORT: ${why} (got "${raw}")`]);
    }
  });

  it("env.int enforces its own bounds (SHUTDOWN_TIMEOUT_MS is 100..600000)", () => {
    assert.equal(parseConfig("svc", { ...commonEnv }, { ...GOOD, SHUTDOWN_TIMEOUT_MS: "100" }).SHUTDOWN_TIMEOUT_MS, 100);
    assert.equal(parseConfig("svc", { ...commonEnv }, { ...GOOD, SHUTDOWN_TIMEOUT_MS: "600000" }).SHUTDOWN_TIMEOUT_MS, 600_000);
    assert.deepEqual(configError(() => parseConfig("svc", { ...commonEnv }, { ...GOOD, SHUTDOWN_TIMEOUT_MS: "99" })).problems, [
      'SHUTDOWN_TIMEOUT_MS: must be at least 100 (got "99")',
    ]);
    assert.deepEqual(configError(() => parseConfig("svc", { ...commonEnv }, { ...GOOD, SHUTDOWN_TIMEOUT_MS: "600001" })).problems, [
      'SHUTDOWN_TIMEOUT_MS: must be at most 600000 (got "600001")',
    ]);
  });

  it("TASKMANAGER_API_URL must be an http(s) URL ending in /api", () => {
    for (const ok of ["http://localhost:3000/api", "https://tm.example.com/api", "https://tm.example.com/prismq/api/"]) {
      assert.equal(parseConfig("svc", { ...commonEnv }, { ...GOOD, TASKMANAGER_API_URL: ok }).TASKMANAGER_API_URL, ok);
    }
    const bad: [string, string][] = [
      ["http://localhost:3000", "must end in /api"],
      ["https://tm.example.com/api/v1", "must end in /api"],
      ["ftp://tm.example.com/api", "must be an http:// or https:// URL"],
      ["localhost:3000/api", "must be an http:// or https:// URL"],
    ];
    for (const [raw, why] of bad) {
      const err = configError(() => parseConfig("svc", { ...commonEnv }, { ...GOOD, TASKMANAGER_API_URL: raw }));
      assert.deepEqual(err.problems, [`TASKMANAGER_API_URL: ${why} (got "${raw}")`]);
    }
  });

  it("REDIS_URL must be redis:// or rediss://", () => {
    for (const ok of ["redis://localhost:6379", "rediss://cache.example.com:6380/2"]) {
      assert.equal(parseConfig("svc", { ...commonEnv }, { ...GOOD, REDIS_URL: ok }).REDIS_URL, ok);
    }
    for (const raw of ["http://localhost:6379", "localhost:6379", "valkey://localhost:6379"]) {
      const err = configError(() => parseConfig("svc", { ...commonEnv }, { ...GOOD, REDIS_URL: raw }));
      assert.deepEqual(err.problems, [`REDIS_URL: must be a redis:// or rediss:// URL (got "${raw}")`]);
    }
  });

  it("LOG_LEVEL must be a pino level and QUEUE_PREFIX 1-64 safe characters", () => {
    assert.equal(parseConfig("svc", { ...commonEnv }, { ...GOOD, LOG_LEVEL: "silent" }).LOG_LEVEL, "silent");
    const err = configError(() =>
      parseConfig("svc", { ...commonEnv }, { ...GOOD, LOG_LEVEL: "verbose", QUEUE_PREFIX: "x".repeat(65) }),
    );
    assert.equal(err.problems.length, 2);
    assert.match(problemOf(err, "LOG_LEVEL"), /\(got "verbose"\)$/);
    assert.match(problemOf(err, "QUEUE_PREFIX"), /^QUEUE_PREFIX: must be 1-64 letters, digits, _ \. -/);
  });
});

describe("env.checked and the descriptions of commonEnv", () => {
  it("refuses, at the config check, a value the library's own check throws on, with its message", () => {
    const shape = { ...commonEnv, STORE_URL: env.checked((v) => {
      if (!v.startsWith("sqlite:")) throw new Error(`unsupported scheme "${v.split(":")[0]}:"`);
    }).optional() };
    assert.equal(parseConfig("svc", shape, { ...GOOD, STORE_URL: "sqlite:/tmp/x" }).STORE_URL, "sqlite:/tmp/x");
    const err = (() => {
      try {
        parseConfig("svc", shape, { ...GOOD, STORE_URL: "mysql://u:p@h/db" });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems[0], 'STORE_URL: unsupported scheme "mysql:" (got "mysql://***@h/db")');
  });

  it("every common variable has a meaning, so --help and the READMEs can show it", () => {
    const rows = envRows(commonEnv);
    assert.deepEqual(rows.map((r) => r.name), Object.keys(commonEnv));
    assert.ok(rows.every((r) => r.meaning.length > 10));
    assert.equal(rows.find((r) => r.name === "STARTUP_TIMEOUT_SECONDS")?.default, "60");
    assert.equal(rows.find((r) => r.name === "TASKMANAGER_API_KEY")?.default, "(required)");
  });
});
