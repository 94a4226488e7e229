import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../src/config.js";

describe("configuration", () => {
  it("has working defaults: SQLite under ./data, port 8080, 300 s claims, 3 attempts", () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.host, "127.0.0.1");
    assert.equal(c.sqlitePath, "./data/taskmanager.sqlite");
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.claimTimeoutSeconds, 300);
    assert.equal(c.maxAttempts, 3);
    assert.equal(c.bodyLimitBytes, 1024 * 1024);
    assert.deepEqual(c.apiKeys, []);
  });

  it("selects PostgreSQL for a postgres URL and SQLite for a sqlite: URL", () => {
    assert.equal(loadConfig({ DATABASE_URL: "postgres://u@h/db" }).databaseUrl, "postgres://u@h/db");
    const s = loadConfig({ DATABASE_URL: "sqlite:/tmp/x.db" });
    assert.equal(s.databaseUrl, undefined);
    assert.equal(s.sqlitePath, "/tmp/x.db");
    assert.deepEqual(loadConfig({ API_KEYS: " aaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbb " }).apiKeys, ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"]);
  });

  it("waits 1 ms for PostgreSQL group commit's batches by default (bench: 1.26x the cycles/s of 0 at 32 workers), 0 when asked", () => {
    const c = loadConfig({ DATABASE_URL: "postgres://u@h/db" });
    assert.equal(c.databaseBatchWindowMs, 1);
    assert.equal(c.databaseBatchMax, 100);
    assert.equal(loadConfig({ DATABASE_URL: "postgres://u@h/db", DATABASE_BATCH_WINDOW_MS: "0" }).databaseBatchWindowMs, 0);
  });

  it("names every bad variable in one error", () => {
    try {
      loadConfig({ PORT: "eighty", MAX_ATTEMPTS: "0", DATABASE_URL: "mysql://x", API_KEYS: "short", LOG_LEVEL: "loud", DATABASE_SCHEMA: "Bad-Schema" });
      assert.fail("expected a ConfigError");
    } catch (caught) {
      assert.ok(caught instanceof ConfigError);
      const err: ConfigError = caught;
      assert.equal(err.code, "TM_ERR_CONFIG");
      const text = err.problems.join("\n");
      for (const name of ["PORT", "MAX_ATTEMPTS", "DATABASE_URL", "API_KEYS", "LOG_LEVEL", "DATABASE_SCHEMA"]) {
        assert.match(text, new RegExp(`^${name}: `, "m"), name);
      }
      assert.match(err.message, /whole number, got "eighty"/);
    }
  });
});

describe("configuration of keys and connection limits", () => {
  it("has connection defaults: 30 s request, 10 s headers, 10 s keep-alive, 1000 connections, no scoped keys", () => {
    const c = loadConfig({});
    assert.equal(c.requestTimeoutMs, 30_000);
    assert.equal(c.headersTimeoutMs, 10_000);
    assert.equal(c.keepAliveTimeoutMs, 10_000);
    assert.equal(c.maxConnections, 1000);
    assert.deepEqual([c.readApiKeys, c.workerApiKeys, c.operatorApiKeys], [[], [], []]);
  });

  it("reads the timeouts, the cap and the three scoped key lists", () => {
    const c = loadConfig({
      REQUEST_TIMEOUT_MS: "5000",
      HEADERS_TIMEOUT_MS: "2000",
      KEEP_ALIVE_TIMEOUT_MS: "700",
      MAX_CONNECTIONS: "64",
      READ_API_KEYS: "read-key-0123456789",
      WORKER_API_KEYS: "worker-key-0123456789, worker-key-9876543210",
      OPERATOR_API_KEYS: "operator-key-0123456789",
    });
    assert.deepEqual([c.requestTimeoutMs, c.headersTimeoutMs, c.keepAliveTimeoutMs, c.maxConnections], [5000, 2000, 700, 64]);
    assert.deepEqual(c.readApiKeys, ["read-key-0123456789"]);
    assert.deepEqual(c.workerApiKeys, ["worker-key-0123456789", "worker-key-9876543210"]);
    assert.deepEqual(c.operatorApiKeys, ["operator-key-0123456789"]);
  });

  it("refuses a headers timeout longer than the request timeout, and limits outside their range", () => {
    assert.throws(() => loadConfig({ REQUEST_TIMEOUT_MS: "1000", HEADERS_TIMEOUT_MS: "2000" }), /HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS/);
    try {
      loadConfig({ REQUEST_TIMEOUT_MS: "0", KEEP_ALIVE_TIMEOUT_MS: "x", MAX_CONNECTIONS: "0" });
      assert.fail("expected a ConfigError");
    } catch (caught) {
      assert.ok(caught instanceof ConfigError);
      const text = caught.problems.join("\n");
      for (const name of ["REQUEST_TIMEOUT_MS", "KEEP_ALIVE_TIMEOUT_MS", "MAX_CONNECTIONS"]) assert.match(text, new RegExp(`^${name}: `, "m"), name);
    }
  });

  it("refuses keys that are not printable ASCII (non-ASCII, inner spaces, controls) in every key variable, never quoting the key", () => {
    const bad = {
      API_KEYS: "good-key-0123456789,schlüssel-0123456789",
      READ_API_KEYS: "read key with spaces 0123",
      WORKER_API_KEYS: "worker-key-\u0007-0123456789",
      OPERATOR_API_KEYS: "ключ-оператора-0123456789",
    };
    try {
      loadConfig(bad);
      assert.fail("expected a ConfigError");
    } catch (caught) {
      assert.ok(caught instanceof ConfigError);
      const text = caught.problems.join("\n");
      for (const name of Object.keys(bad)) assert.match(text, new RegExp(`^${name}: .*printable ASCII`, "m"), name);
      assert.match(text, /^API_KEYS: key 2 of 2 /m);
      for (const value of Object.values(bad)) for (const key of value.split(",")) assert.ok(!caught.message.includes(key.trim()), "the key is not in the message");
    }
  });

  it("still accepts printable ASCII keys with punctuation, trimmed around the commas", () => {
    const c = loadConfig({ API_KEYS: " !#$%&'()*+-./0123456789:;<=>?@[]^_`{|}~ , aaaaaaaaaaaaaaaa" });
    assert.deepEqual(c.apiKeys, ["!#$%&'()*+-./0123456789:;<=>?@[]^_`{|}~", "aaaaaaaaaaaaaaaa"]);
  });
});
