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
