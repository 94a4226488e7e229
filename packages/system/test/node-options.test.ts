// Issue 18, lean services: every service process runs with the same V8 settings under the
// orchestrator and in the Docker image, and a caller can turn them off.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { platform as reddit } from "@prismq/reddit-source";
import { platform as youtube } from "@prismq/youtube-source";
import { SERVICE_NODE_OPTIONS, System } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "system-node-options-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const APPS = ["youtube-discovery", "youtube-processor", "reddit-discovery", "reddit-processor"];

describe("the services' NODE_OPTIONS", () => {
  it("every app gets SERVICE_NODE_OPTIONS by default", () => {
    const sys = new System({ platforms: [youtube, reddit], dataDir: join(dir, "a"), sandbox: false });
    for (const app of APPS) assert.equal(sys.envOf(app).NODE_OPTIONS, SERVICE_NODE_OPTIONS, app);
  });

  it('nodeOptions "" leaves Node\'s own defaults: no NODE_OPTIONS at all', () => {
    const sys = new System({ platforms: [youtube, reddit], dataDir: join(dir, "b"), sandbox: false, nodeOptions: "" });
    for (const app of APPS) assert.equal(sys.envOf(app).NODE_OPTIONS, undefined, app);
  });

  it("the Docker image sets the same NODE_OPTIONS", () => {
    const dockerfile = readFileSync(fileURLToPath(new URL("../../../Dockerfile", import.meta.url)), "utf8");
    assert.match(dockerfile, new RegExp(`^ENV .*NODE_OPTIONS=${SERVICE_NODE_OPTIONS.replace(/[-=]/g, "\\$&")}(\\s|$)`, "m"));
  });
});
