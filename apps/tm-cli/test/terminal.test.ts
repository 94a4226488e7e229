import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TaskManagerClient } from "@prismq/taskmanager-client";
import { escapeControls, terminalSafe } from "../src/format.js";
import { KEY, TestServer, httpServer, tm, uid } from "./helpers.js";

// What a hostile server (or a hostile worker, through ours) puts in its strings: clear the
// screen and home the cursor, set the window title (ended by BEL), recolour with the one-byte
// C1 CSI, reverse the rest of the line (RLO), close an isolate early (PDI), DEL, NUL, CR, LF, TAB.
const CLEAR = "\x1b[2J\x1b[H";
const TITLE = "\x1b]0;owned\x07";
const HOSTILE = `${CLEAR}${TITLE}red\u009b31m rlo\u202eexe.txt del\x7f lri\u2066x\u2069 rlm\u200f alm\u061c nul\x00 cr\rlf\ntab\tend`;

/** Any character a terminal would act on; LF is allowed (tm's own line breaks). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

function assertNoRawControls(text: string, what: string): void {
  const m = RAW_CONTROL.exec(text);
  assert.equal(m, null, `${what}: raw U+${m?.[0].codePointAt(0)?.toString(16).padStart(4, "0")} at ${m?.index} in ${JSON.stringify(text)}`);
}

/** The escapes of the clear-screen, title and override sequences are visible in the text. */
function assertEscapedVisibly(text: string, what: string): void {
  assert.ok(text.includes("\\u001b[2J\\u001b[H"), `${what}: the clear-screen sequence is shown escaped: ${text}`);
  assert.ok(text.includes("\\u001b]0;owned\\u0007"), `${what}: the title sequence is shown escaped: ${text}`);
  assert.ok(text.includes("\\u202e"), `${what}: the right-to-left override is shown escaped: ${text}`);
}

describe("escapeControls, the one escaping function of tm's output", () => {
  test("escapes C0, DEL, C1 and the bidi controls as visible \\u escapes", () => {
    assert.equal(escapeControls("\x1b[2J"), "\\u001b[2J");
    assert.equal(escapeControls("\x07\x00\x7f\u0080\u009b\u009f"), "\\u0007\\u0000\\u007f\\u0080\\u009b\\u009f");
    assert.equal(escapeControls("a\nb\tc\rd"), "a\\u000ab\\u0009c\\u000dd");
    for (const c of ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c"]) {
      assert.equal(escapeControls(c), `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    }
  });

  test("keeps printable text, accents, other scripts and emoji as they are", () => {
    const text = `plain ASCII ~!@#$%^&*()_+{}|:"<>? \\ é ß 日本語 עברית العربية 🎉 \u00a0\u00ff`;
    assert.equal(escapeControls(text), text);
  });

  test("its escapes keep JSON text valid and equal to the same value", () => {
    const value = { [HOSTILE]: [HOSTILE, { k: HOSTILE }] };
    const escaped = escapeControls(JSON.stringify(value));
    assertNoRawControls(escaped, "escaped JSON");
    assert.deepEqual(JSON.parse(escaped), value);
  });

  test("terminalSafe keeps the writer's own line breaks and escapes everything else", () => {
    let written = "";
    terminalSafe({ write: (s: string) => (written += s) }).write(`a${CLEAR}\nb\u202ec\r\n`);
    assert.equal(written, "a\\u001b[2J\\u001b[H\nb\\u202ec\\u000d\n");
  });
});

/** A TaskManager whose every string is hostile: the worst a server (or a proxy) can answer. */
async function hostileServer(): Promise<{ env: Record<string, string>; close(): Promise<void> }> {
  const ts = 1_700_000_000;
  const task = {
    id: 7,
    type: HOSTILE,
    status: "failed",
    params: { [HOSTILE]: HOSTILE, nested: { list: [HOSTILE] } },
    result: { note: HOSTILE },
    error_message: HOSTILE,
    priority: 0,
    progress: 0,
    attempts: 3,
    claimed_by: HOSTILE,
    claimed_at: HOSTILE,
    completed_at: "2025-01-01 00:01:00",
    created_at: "2025-01-01 00:00:00",
  };
  const routes: Record<string, unknown> = {
    "GET /api/health": { status: HOSTILE, database: HOSTILE, timestamp: ts },
    "GET /api/task-types": {
      items: [{ id: 1, name: HOSTILE, version: HOSTILE, param_schema: { type: "object", properties: { [HOSTILE]: { description: HOSTILE } } }, is_active: true, created_at: HOSTILE, updated_at: HOSTILE }],
      count: 1,
    },
    "GET /api/task-types/Hostile.Type": {
      items: [{ id: 1, name: HOSTILE, version: HOSTILE, param_schema: { type: "object", properties: { [HOSTILE]: { description: HOSTILE } } }, is_active: true, created_at: HOSTILE, updated_at: HOSTILE }],
      count: 1,
    },
    "POST /api/tasks": { id: 7, status: HOSTILE, deduplicated: false, dedupe_key: HOSTILE },
    "GET /api/tasks": { items: [task], count: 1 },
    "GET /api/tasks/7": { items: [task], count: 1 },
    "GET /api/tasks/7/history": {
      items: [{ id: 1, task_id: 7, status_change: HOSTILE, worker_id: HOSTILE, message: HOSTILE, created_at: HOSTILE }],
      count: 1,
    },
    "POST /api/tasks/7/requeue": { id: 7, status: HOSTILE, message: HOSTILE },
    "POST /api/tasks/7/fail": { id: 7, status: HOSTILE, message: HOSTILE },
    "GET /api/stats": {
      tasks: { total: 1, byTypeStatus: [{ type: HOSTILE, status: "failed", count: 1 }, { type: "Plain.Type", status: HOSTILE, count: 2 }] },
      workers: [{ worker_id: HOSTILE, claimed: 1, task_ids: [7] }],
      recentFailures: [{ id: 7, type: HOSTILE, error_message: HOSTILE, [HOSTILE]: HOSTILE }],
      throughput: [{ minute: HOSTILE, created: 1, [HOSTILE]: 2 }],
      ideas: { total: 3, byPlatform: { [HOSTILE]: 1 }, byCategory: [{ category: HOSTILE, count: 2 }] },
    },
  };
  const s = await httpServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on("end", () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.headers["x-api-key"] !== KEY && req.url !== "/api/health") return send(401, { error: HOSTILE, message: HOSTILE });
      const path = (req.url ?? "").split("?", 1)[0];
      if (req.method === "POST" && path === "/api/tasks/8/fail") return send(400, { success: false, error: HOSTILE, details: [HOSTILE, `error: ${HOSTILE}`], timestamp: ts });
      const data = routes[`${req.method} ${path}`];
      if (data === undefined) return send(404, { success: false, error: "Endpoint not found", timestamp: ts });
      send(200, { success: true, message: HOSTILE, data, timestamp: ts });
    });
  });
  return { env: { TASKMANAGER_API_URL: s.url, TASKMANAGER_API_KEY: KEY }, close: s.close };
}

describe("tm shows hostile server text escaped, never raw", () => {
  let hostile: Awaited<ReturnType<typeof hostileServer>>;
  before(async () => {
    hostile = await hostileServer();
  });
  after(async () => {
    await hostile.close();
  });

  const commands: Array<[string, string[]]> = [
    ["health", ["health"]],
    ["types", ["types"]],
    ["types <name>", ["types", "Hostile.Type"]],
    ["create", ["create", "Hostile.Type", '{"a":1}']],
    ["tasks", ["tasks"]],
    ["show", ["show", "7"]],
    ["requeue", ["requeue", "7"]],
    ["fail", ["fail", "7", "--error", "x"]],
    ["stats", ["stats"]],
  ];

  for (const [name, argv] of commands) {
    test(`${name}: the human output holds no raw control character, and shows the sequences escaped`, async () => {
      const r = await tm(argv, { env: hostile.env });
      assert.equal(r.code, 0, r.err);
      assertNoRawControls(r.out, `tm ${name}`);
      assertNoRawControls(r.err, `tm ${name} (stderr)`);
      assertEscapedVisibly(r.out, `tm ${name}`);
    });

    test(`${name} --json: exact JSON (the hostile strings parse back unchanged) with no raw C1, DEL or bidi control`, async () => {
      const r = await tm([...argv, "--json"], { env: hostile.env });
      assert.equal(r.code, 0, r.err);
      assertNoRawControls(r.out, `tm ${name} --json`);
      const doc: unknown = JSON.parse(r.out);
      assert.ok(JSON.stringify(doc).includes(JSON.stringify(HOSTILE).slice(1, -1)), `tm ${name} --json carries the hostile string exactly`);
    });
  }

  test("show --json gives back the task's strings exactly", async () => {
    const r = await tm(["show", "7", "--json"], { env: hostile.env });
    const doc = JSON.parse(r.out) as { task: { errorMessage: string; claimedBy: string; params: Record<string, unknown> }; history: Array<{ workerId: string; message: string }> };
    assert.equal(doc.task.errorMessage, HOSTILE);
    assert.equal(doc.task.claimedBy, HOSTILE);
    assert.deepEqual(doc.task.params, { [HOSTILE]: HOSTILE, nested: { list: [HOSTILE] } });
    assert.equal(doc.history[0]?.workerId, HOSTILE);
    assert.equal(doc.history[0]?.message, HOSTILE);
  });

  test("show keeps its layout: each hostile value stays on its own line", async () => {
    const r = await tm(["show", "7"], { env: hostile.env });
    const lines = r.out.split("\n");
    const error = lines.find((l) => l.startsWith("error:"));
    assert.ok(error?.includes("\\u001b[2J"), "the error field is one line with the escapes");
    assert.ok(error?.endsWith("cr lf tab end"), "CR, LF and TAB inside a field are one space each");
    assert.ok(lines.includes("history (1):"));
  });

  test("a refusal's message and details from the server are escaped on stderr, as text and as JSON", async () => {
    const r = await tm(["fail", "8", "--error", "x"], { env: hostile.env });
    assert.equal(r.code, 1);
    assert.equal(r.out, "");
    assertNoRawControls(r.err, "refusal");
    assertEscapedVisibly(r.err, "refusal");
    assert.equal(r.err.split("\n").filter((l) => l.startsWith("  - ")).length, 2, "each detail on one line");

    const j = await tm(["fail", "8", "--error", "x", "--json"], { env: hostile.env });
    assert.equal(j.code, 1);
    assertNoRawControls(j.err, "refusal --json");
    const doc = JSON.parse(j.err) as { error: { message: string; details: string[] } };
    assert.equal(doc.error.message, HOSTILE);
    assert.deepEqual(doc.error.details, [HOSTILE, `error: ${HOSTILE}`]);
  });

  test("an unauthorized answer's text is escaped too", async () => {
    const r = await tm(["tasks"], { env: { ...hostile.env, TASKMANAGER_API_KEY: "not-the-key-at-all" } });
    assert.equal(r.code, 1);
    assertNoRawControls(r.err, "401");
    assertEscapedVisibly(r.err, "401");
  });

  test("usage errors that echo the command line escape it", async () => {
    for (const argv of [["show", HOSTILE], [HOSTILE], ["tasks", "--status", HOSTILE], ["tasks", `--${HOSTILE}`], ["help", HOSTILE]]) {
      const r = await tm(argv, { env: hostile.env });
      assert.equal(r.code, 2, `tm ${JSON.stringify(argv)}`);
      assertNoRawControls(r.out + r.err, `tm ${JSON.stringify(argv)}`);
    }
  });
});

describe("tm against our server, with hostile worker ids, errors and params", () => {
  const server = new TestServer();
  let client: TaskManagerClient;
  let env: Record<string, string>;
  const worker = `w${CLEAR}${TITLE}\u202e1`;
  const error = `boom ${CLEAR}${TITLE} \u202eevil\u009b31m`;
  let type = "";
  let id = 0;

  before(async () => {
    await server.start();
    client = server.client();
    env = server.env;
    type = `Test.Hostile.${uid()}`;
    await client.registerTaskType({ name: type, version: `1.0.0${CLEAR}${TITLE}\u202e`, paramSchema: { type: "object" } });
    id = (await client.createTask(type, { [`k${TITLE}`]: error })).id;
    const w = server.client(worker);
    await w.claimTask({ taskType: type });
    await w.reportProgress(id, 50, error);
    await w.close();
    // A second task, still held by the hostile worker id, so `tm stats` lists it.
    const held = (await client.createTask(type, { n: 2 })).id;
    const w2 = server.client(worker);
    assert.equal((await w2.claimTask({ taskType: type }))?.id, held);
    await w2.close();
  });
  after(async () => {
    await client.close();
    await server.destroy();
  });

  test("show, tasks, types and stats print them escaped, after a failure with that error", async () => {
    const w = server.client(worker);
    await w.failTask(id, error, { retryable: false });
    await w.close();
    for (const argv of [["show", String(id)], ["tasks", "--type", type], ["types"], ["stats"]]) {
      const r = await tm(argv, { env });
      assert.equal(r.code, 0, r.err);
      assertNoRawControls(r.out, `tm ${argv.join(" ")}`);
      assert.ok(r.out.includes("\\u202e"), `tm ${argv.join(" ")} shows the override escaped`);
      assert.ok(r.out.includes("\\u001b[2J"), `tm ${argv.join(" ")} shows the clear-screen escaped`);
    }
    const j = JSON.parse((await tm(["show", String(id), "--json"], { env })).out) as { task: { errorMessage: string; claimedBy: string }; history: Array<{ workerId: string | null }> };
    assert.equal(j.task.errorMessage, error);
    assert.equal(j.task.claimedBy, worker);
    assert.ok(j.history.some((h) => h.workerId === worker));
  });
});
