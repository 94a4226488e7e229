import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { ENV_TABLE_END, ENV_TABLE_START, envRows, envTable, helpText, readmeEnvTable, wantsHelp, withEnvTable } from "../src/index.js";

const shape = {
  URL: z.url().describe("Where the API is."),
  PORT: z.string().transform(Number).default(8080).describe("TCP port | 0 picks one."),
  REDIS_URL: z.string().describe("Switches hybrid mode on.").optional(),
  KEYS: z.string().optional().transform((v) => (v ?? "").split(",").filter(Boolean)).describe("Accepted keys."),
};

describe("envRows", () => {
  it("reads name, default (what an unset variable becomes) and meaning (the description, also under wrappers)", () => {
    assert.deepEqual(envRows(shape), [
      { name: "URL", default: "(required)", meaning: "Where the API is." },
      { name: "PORT", default: "8080", meaning: "TCP port | 0 picks one." },
      { name: "REDIS_URL", default: "", meaning: "Switches hybrid mode on." },
      { name: "KEYS", default: "", meaning: "Accepted keys." },
    ]);
  });
  it("refuses a variable without a description", () => {
    assert.throws(() => envRows({ X: z.string() }), /X has no description/);
  });
});

describe("helpText and envTable", () => {
  it("help lists every variable with its default and meaning", () => {
    const text = helpText(shape, { service: "svc", summary: "does things." });
    assert.match(text, /^svc: does things\.\n/);
    assert.match(text, /\n {2}PORT +8080 +TCP port \| 0 picks one\.\n/);
    assert.match(text, /\n {2}URL +\(required\) +Where the API is\.\n/);
    assert.match(text, /\n {2}REDIS_URL +- +Switches hybrid mode on\.\n/);
  });
  it("the table escapes pipes and shows defaults as code", () => {
    const table = envTable(shape);
    assert.equal(table.split("\n")[3], "| `PORT` | `8080` | TCP port \\| 0 picks one. |");
    assert.equal(table.split("\n").length, 2 + 4);
  });
  it("readmes: the table between the markers is read and replaced", () => {
    const readme = `# x\n\n${ENV_TABLE_START}\nold\n${ENV_TABLE_END}\n\nmore\n`;
    assert.equal(readmeEnvTable(readme), "old");
    const updated = withEnvTable(readme, envTable(shape));
    assert.equal(readmeEnvTable(updated), envTable(shape));
    assert.ok(updated.endsWith(`${ENV_TABLE_END}\n\nmore\n`));
    assert.equal(readmeEnvTable("no markers"), undefined);
  });
  it("wantsHelp sees --help and -h", () => {
    assert.equal(wantsHelp(["--help"]), true);
    assert.equal(wantsHelp(["-h"]), true);
    assert.equal(wantsHelp(["--once"]), false);
  });
});
