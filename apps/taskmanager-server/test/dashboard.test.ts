import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { openIdeaStore } from "@prismq/idea-store";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import type { RunningServer } from "../src/server.js";
import { API_KEY, anySchema, api, call, sleep, start, taskIn } from "./helpers.js";

/** Debian's Chromium; `.ci/run` installs it. CHROMIUM_PATH may point elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));

const HOSTILE_ERROR = `<img src=x onerror="window.__pwned='error'"><script>window.__pwned='script'</script>`;
const HOSTILE_WORKER = `<img src=x onerror=window.__pwned='worker'>`;
const HOSTILE_PARAM = `<img src=x onerror=window.__pwned='params'>`;
const HOSTILE_CATEGORY = `<svg onload=window.__pwned='category'></svg>`;
const HOSTILE_REASON = `</td><img src=x onerror=window.__pwned='history'>`;
// Bidi controls: U+202E (right-to-left override) reverses everything after it on its line;
// U+2069 (pop directional isolate) would end an isolation early if nothing balanced it.
const BIDI_WORKER = "worker-\u202Eevil";
const BIDI_ERROR = "error \u2069\u202Egnp.exe then more";
const BIDI_PARAM = "param \u202Eoverride";
/** Any bidi embedding, override or isolate control. */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;

interface Stats {
  tasks: { total: number; byTypeStatus: Array<{ type: string; status: string; count: number }> };
  workers: Array<{ worker_id: string; claimed: number; task_ids: number[] }>;
  workersTotal: number;
  recentFailures: Array<{ id: number; error_message: string | null }>;
  failuresTotal: number;
  throughput: Array<{ completed: number }>;
  ideas: { total: number; byPlatform: Record<string, number>; byCategory: Record<string, number> } | null;
}

describe("the dashboard in a real browser (Chromium)", () => {
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  let dashboardUrl: string;
  const dirs: string[] = [];
  const problems: string[] = [];
  const requests: string[] = [];
  const video = { name: "Dash.YouTube.Video", id: 0 };
  const post = { name: "Dash.Reddit.Post", id: 0 };
  const claimedVideos: number[] = [];
  let hostileFailure = 0;
  let operatorFailure = 0;
  let bidiFailure = 0;

  const tm = () => api(server.url);
  const stats = async (): Promise<Stats> => (await tm().get("/stats")).json.data as Stats;
  const text = (testId: string) => page.getByTestId(testId).first().textContent({ timeout: 2000 });

  /** Waits until the element shows `expected` (the page polls every 2 s). */
  async function waitForText(testId: string, expected: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: string | null = null;
    while (Date.now() < deadline) {
      last = await text(testId).catch(() => null);
      if (last === expected) return;
      await sleep(100);
    }
    assert.fail(`${testId}: expected "${expected}", the page still shows "${last}"`);
  }

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: the dashboard test needs Debian's Chromium. ` +
          "Install it with `apt-get install -y chromium` (.ci/run does this), or set CHROMIUM_PATH.",
      );
    }
    const dir = mkdtempSync(join(tmpdir(), "tm-dash-"));
    dirs.push(dir);
    const ideasDir = join(dir, "ideas");
    const writer = await openIdeaStore({ dataDir: ideasDir });
    await writer.upsertMany([
      { title: "A", sourceId: "v1", sourcePlatform: "youtube", category: "Technology" },
      { title: "B", sourceId: "v2", sourcePlatform: "youtube", category: "Technology" },
      { title: "C", sourceId: "v3", sourcePlatform: "youtube", category: null },
      { title: "D", sourceId: "p1", sourcePlatform: "reddit", category: HOSTILE_CATEGORY },
    ]);
    await writer.close();
    server = await start({ kind: "sqlite", path: join(dir, "tasks.sqlite") }, { ideas: await openIdeaStore({ dataDir: ideasDir }), maxAttempts: 2 });
    dashboardUrl = `${server.url}/dashboard`;

    // Hostile type names never get in: they are refused at register.
    const evil = await tm().post("/task-types/register", { name: `<img src=x onerror=alert(1)>`, version: "1", param_schema: anySchema });
    assert.equal(evil.status, 400);
    for (const t of [video, post]) {
      const r = await tm().post("/task-types/register", { name: t.name, version: "1.0.0", param_schema: anySchema });
      t.id = r.json.data.id;
    }
    for (let i = 0; i < 4; i++) await taskIn(server.url, video, "pending");
    for (let i = 0; i < 2; i++) claimedVideos.push(await taskIn(server.url, video, "claimed", "worker-a"));
    await taskIn(server.url, post, "claimed", HOSTILE_WORKER);
    const created = await tm().post("/tasks", { type: post.name, params: { title: HOSTILE_PARAM, n: 1 } });
    hostileFailure = created.json.data.id;
    await tm().post("/tasks/claim", { worker_id: "worker-b", task_type_id: post.id, sort_by: "id", sort_order: "DESC" });
    await tm().post(`/tasks/${hostileFailure}/complete`, { worker_id: "worker-b", success: false, error: HOSTILE_ERROR, retryable: false });
    operatorFailure = await taskIn(server.url, post, "pending");
    await tm().post(`/tasks/${operatorFailure}/fail`, { error: `operator: ${HOSTILE_ERROR}` });
    const requeued = await taskIn(server.url, post, "failed");
    await tm().post(`/tasks/${requeued}/requeue`, { reason: HOSTILE_REASON });
    // A worker whose id and error hold bidi controls: one task it still holds, one it failed.
    await taskIn(server.url, post, "claimed", BIDI_WORKER);
    bidiFailure = (await tm().post("/tasks", { type: post.name, params: { title: BIDI_PARAM, n: 2 } })).json.data.id;
    const bidiClaim = await tm().post("/tasks/claim", { worker_id: BIDI_WORKER, task_type_id: post.id, sort_by: "id", sort_order: "DESC" });
    assert.equal(bidiClaim.json.data.id, bidiFailure);
    await tm().post(`/tasks/${bidiFailure}/complete`, { worker_id: BIDI_WORKER, success: false, error: BIDI_ERROR, retryable: false });

    context = await chromium.launchPersistentContext(join(dir, "chromium-profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("dialog", (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on("console", (m) => {
      // The refused key's 401 is expected (the browser logs it); anything else is a problem.
      if (/status of 401/.test(m.text())) return;
      if (m.type() === "error" || /Content Security Policy|Trusted Type/i.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("request", (r) => requests.push(r.url()));
  });

  after(async () => {
    await context?.close();
    await server?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("serves the page without a key, with a strict hash-based CSP and nothing from elsewhere", async () => {
    const r = await call(server.url, "GET", "/dashboard", undefined, {});
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/html/);
    const csp = r.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /require-trusted-types-for 'script'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    const script = /<script>([\s\S]*)<\/script>/.exec(r.text)?.[1] ?? "";
    const hash = createHash("sha256").update(script).digest("base64");
    assert.ok(csp.includes(`script-src 'sha256-${hash}'`), "the CSP admits exactly the page's script");
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    assert.doesNotMatch(r.text, /https?:|\bsrc=|innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
  });

  it("loads, asks for the key, and says clearly when the key is wrong", async () => {
    await page.goto(dashboardUrl);
    assert.ok(await page.getByTestId("api-key-input").isVisible());
    await page.getByTestId("api-key-input").fill("not-the-right-key-at-all");
    await page.getByTestId("api-key-submit").click();
    await page.getByTestId("auth-error").waitFor({ state: "visible", timeout: 10_000 });
    assert.match((await text("auth-error")) ?? "", /refused this API key \(401 Unauthorized\)/);
    assert.equal(await page.locator("main").isVisible(), false);
    assert.equal(await page.evaluate<number>("sessionStorage.length"), 0, "a refused key is not kept");
  });

  it("with the right key shows the same counts as the API", async () => {
    await page.getByTestId("api-key-input").fill(API_KEY);
    await page.getByTestId("api-key-submit").click();
    const expected = await stats();
    await waitForText("total-tasks", String(expected.tasks.total));
    assert.equal(await page.getByTestId("auth-error").isVisible(), false);
    for (const type of [video.name, post.name]) {
      let total = 0;
      for (const status of ["pending", "claimed", "completed", "failed"]) {
        const count = expected.tasks.byTypeStatus.find((r) => r.type === type && r.status === status)?.count ?? 0;
        total += count;
        assert.equal(await text(`status-${type}-${status}`), String(count), `${type} ${status}`);
      }
      assert.equal(await text(`status-${type}-total`), String(total));
    }
    assert.equal(await text(`status-${video.name}-claimed`), "2");
    for (const status of ["pending", "claimed", "completed", "failed"]) {
      const sum = expected.tasks.byTypeStatus.filter((r) => r.status === status).reduce((n, r) => n + r.count, 0);
      assert.equal(await text(`status-total-${status}`), String(sum), `all ${status}`);
    }
    // Workers and what they hold.
    const rows = page.getByTestId("worker-row");
    assert.equal(await rows.count(), expected.workers.length);
    for (const [i, w] of expected.workers.entries()) {
      assert.equal(await rows.nth(i).getByTestId("worker-id").textContent(), w.worker_id);
      assert.equal(await rows.nth(i).getByTestId("worker-claimed").textContent(), String(w.claimed));
      assert.deepEqual(await rows.nth(i).getByTestId("task-link").allTextContents(), w.task_ids.map((id) => `#${id}`));
    }
    // Failures, newest first.
    const failures = page.getByTestId("failure-row");
    assert.equal(await failures.count(), expected.recentFailures.length);
    assert.deepEqual(await failures.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-task-id")))), expected.recentFailures.map((f) => f.id));
    // Ideas by platform and category.
    assert.ok(expected.ideas);
    assert.equal(await text("ideas-total"), String(expected.ideas.total));
    assert.equal(await text("ideas-youtube"), "3");
    assert.equal(await text("ideas-reddit"), "1");
    assert.equal(await text("ideas-category-Technology"), "2");
    assert.equal(await text("ideas-category-uncategorized"), "1");
    // Throughput: the hour's totals and one bar group per minute.
    const hourCompleted = expected.throughput.reduce((n, m) => n + m.completed, 0);
    assert.equal(await text("throughput-completed"), String(hourCompleted));
    assert.equal(await page.locator("[data-testid=throughput-chart] g[data-minute]").count(), 60);
  });

  it("updates the counts after tasks complete", async () => {
    const before = await stats();
    const completedBefore = before.tasks.byTypeStatus.find((r) => r.type === video.name && r.status === "completed")?.count ?? 0;
    for (const id of claimedVideos) {
      const r = await tm().post(`/tasks/${id}/complete`, { worker_id: "worker-a", success: true, result: { done: true } });
      assert.equal(r.status, 200);
    }
    await tm().post("/tasks", { type: video.name, params: { late: 1 } });
    await waitForText(`status-${video.name}-completed`, String(completedBefore + 2));
    await waitForText(`status-${video.name}-claimed`, "0");
    await waitForText("total-tasks", String(before.tasks.total + 1));
    const after = await stats();
    assert.equal(await text("throughput-completed"), String(after.throughput.reduce((n, m) => n + m.completed, 0)));
    assert.equal(await page.getByTestId("worker-row").count(), after.workers.length);
    assert.ok(!(await page.getByTestId("worker-id").allTextContents()).includes("worker-a"));
  });

  it("shows hostile errors, worker ids, params and categories as text and runs none of them", async () => {
    const errors = await page.getByTestId("failure-error").allTextContents();
    assert.ok(errors.includes(HOSTILE_ERROR), "the error is shown verbatim");
    assert.ok(errors.includes(`operator: ${HOSTILE_ERROR}`));
    assert.ok((await page.getByTestId("worker-id").allTextContents()).includes(HOSTILE_WORKER));
    assert.equal(await text(`ideas-category-${HOSTILE_CATEGORY}`), "1");
    // Strings, evaluated in the page (this project compiles without the DOM library).
    const state = await page.evaluate<unknown>(`({
      pwned: window.__pwned ?? null,
      images: document.querySelectorAll("img").length,
      scripts: document.querySelectorAll("script").length,
      svgs: document.querySelectorAll("svg").length,
    })`);
    assert.deepEqual(state, { pwned: null, images: 0, scripts: 1, svgs: 1 });
  });

  it("opens a task's detail with params, error and history from a failure row and from a worker", async () => {
    await page.getByTestId("failure-row").filter({ has: page.locator(`[data-task-id="${hostileFailure}"]`) }).getByTestId("task-link").click();
    await page.getByTestId("task-detail").waitFor({ state: "visible" });
    await waitForText("detail-status", "failed");
    assert.equal(await text("detail-title"), `Task #${hostileFailure}`);
    assert.equal(await text("detail-type"), post.name);
    assert.deepEqual(JSON.parse((await text("detail-params")) ?? ""), { title: HOSTILE_PARAM, n: 1 });
    assert.equal(await text("detail-error"), HOSTILE_ERROR);
    const history = (await tm().get(`/tasks/${hostileFailure}/history`)).json.data.items as Array<{ status_change: string }>;
    assert.deepEqual(await page.getByTestId("history-status").allTextContents(), history.map((h) => h.status_change));
    assert.deepEqual(await page.getByTestId("history-status").allTextContents(), ["created", "claimed", "failed"]);

    // A worker's task: still claimed, by the hostile worker id.
    const hostileRow = page.getByTestId("worker-row").filter({ hasText: HOSTILE_WORKER });
    await hostileRow.getByTestId("task-link").first().click();
    await waitForText("detail-status", "claimed");
    assert.equal(await text("detail-claimed_by"), HOSTILE_WORKER);
    assert.equal(await page.getByTestId("history-row").count(), 2);

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, "dashboard.png");
    await page.getByTestId("failure-row").filter({ has: page.locator(`[data-task-id="${operatorFailure}"]`) }).getByTestId("task-link").click();
    await waitForText("detail-status", "failed");
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000, "a screenshot was written");
  });

  /** Where each character of `word` is drawn (left edge, px), in the element with that test id. */
  async function charLefts(testId: string, word: string): Promise<number[]> {
    return page.evaluate<number[]>(`(() => {
      const root = document.querySelector('[data-testid=${JSON.stringify(testId)}]');
      const word = ${JSON.stringify(word)};
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const at = n.data.indexOf(word);
        if (at < 0) continue;
        const range = document.createRange();
        return Array.from(word, (_, i) => { range.setStart(n, at + i); range.setEnd(n, at + i + 1); return range.getBoundingClientRect().left; });
      }
      return [];
    })()`);
  }

  /** Every text node holding a bidi control, under the elements that match `selector`: is it alone in an isolating <bdi>? */
  async function bidiTextNodes(selector: string): Promise<Array<{ text: string; parent: string; unicodeBidi: string }>> {
    return page.evaluate<Array<{ text: string; parent: string; unicodeBidi: string }>>(`(() => {
      const out = [];
      for (const root of document.querySelectorAll(${JSON.stringify(selector)})) {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          if (!${BIDI_CONTROL.toString()}.test(n.data)) continue;
          out.push({ text: n.data, parent: n.parentElement.tagName, unicodeBidi: getComputedStyle(n.parentElement).unicodeBidi });
        }
      }
      return out;
    })()`);
  }

  it("isolates bidi text: a worker id or error holding U+202E sits in its own <bdi> and cannot reverse what follows", async () => {
    const row = page.getByTestId("failure-row").filter({ has: page.locator(`[data-task-id="${bidiFailure}"]`) });
    await row.waitFor({ state: "visible", timeout: 15_000 });
    // The stray U+2069 is dropped (it is invisible); everything else is shown as it came.
    assert.equal(await row.getByTestId("failure-error").textContent(), BIDI_ERROR.replace("\u2069", ""));
    const workerCell = page.getByTestId("worker-id").filter({ hasText: "evil" });
    assert.equal(await workerCell.textContent(), BIDI_WORKER);

    // Every server string in the tables is the only child of a <bdi> with unicode-bidi: isolate.
    const cells = await page.evaluate<Array<{ testId: string; children: string[]; unicodeBidi: string | null }>>(`(() =>
      Array.from(document.querySelectorAll("[data-testid=worker-id], [data-testid=failure-type], [data-testid=failure-error], #types tr > td:first-child"), (td) => ({
        testId: td.getAttribute("data-testid") || "type",
        children: Array.from(td.childNodes, (n) => n.nodeName),
        unicodeBidi: td.firstElementChild ? getComputedStyle(td.firstElementChild).unicodeBidi : null,
      })))()`);
    assert.ok(cells.length >= 6, `server cells found: ${cells.length}`);
    for (const c of cells) assert.deepEqual({ children: c.children, unicodeBidi: c.unicodeBidi }, { children: ["BDI"], unicodeBidi: "isolate" }, c.testId);
    const nodes = await bidiTextNodes("#workers, #failures, #types, #ideas");
    assert.equal(nodes.length, 2, "the worker id of the held task and the failure's error");
    for (const n of nodes) assert.deepEqual({ parent: n.parent, unicodeBidi: n.unicodeBidi }, { parent: "BDI", unicodeBidi: "isolate" }, n.text);

    // The cell after the error is still drawn after it, left to right.
    const boxes = await row.locator("td").evaluateAll((tds) => tds.map((td) => td.getBoundingClientRect().left));
    assert.deepEqual([...boxes].sort((a, b) => a - b), boxes, "the row's cells keep their order");

    // The task's detail: fields, error and history rows isolate the worker id and the error too.
    await row.getByTestId("task-link").click();
    await waitForText("detail-status", "failed");
    assert.equal(await text("detail-title"), `Task #${bidiFailure}`);
    assert.equal(await text("detail-claimed_by"), BIDI_WORKER);
    assert.equal(await text("detail-error"), BIDI_ERROR.replace("\u2069", ""));
    const detail = await bidiTextNodes("#detail-fields, #detail-error, #detail-history");
    assert.ok(detail.length >= 4, `bidi text nodes in the detail: ${detail.length}`);
    for (const n of detail) assert.deepEqual({ parent: n.parent, unicodeBidi: n.unicodeBidi }, { parent: "BDI", unicodeBidi: "isolate" }, n.text);
    // Params keep their JSON, with the override shown as its escape.
    const params = (await text("detail-params")) ?? "";
    assert.doesNotMatch(params, BIDI_CONTROL);
    assert.ok(params.includes("param \\u202eoverride"), params);
    assert.deepEqual(JSON.parse(params), { title: BIDI_PARAM, n: 2 });
  });

  it("keeps our own text after a server message in reading order, whatever bidi controls the message holds", async () => {
    // The stats answer an error whose text closes an isolate early and then overrides to right-to-left.
    await page.route("**/api/stats", (route) =>
      route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ success: false, error: "stats \u2069\u202Eunavailable" }) }),
    );
    try {
      await page.getByTestId("net-error").waitFor({ state: "visible", timeout: 10_000 });
      const before = await charLefts("net-error", "Cannot");
      const after = await charLefts("net-error", "Retrying");
      assert.equal(after.length, "Retrying".length);
      for (const xs of [before, after]) {
        for (let i = 1; i < xs.length; i++) assert.ok((xs[i] as number) > (xs[i - 1] as number), `drawn left to right: ${xs.join(", ")}`);
      }
      assert.ok((after[0] as number) > (before.at(-1) as number), "our text after the message is drawn after it");
      // The stray U+2069 is dropped (it is invisible); the rest is shown as it came.
      assert.match((await text("net-error")) ?? "", /^Cannot load the stats: stats \u202Eunavailable\. Retrying every 2 s\.$/u);
    } finally {
      await page.unroute("**/api/stats");
    }
    await page.getByTestId("net-error").waitFor({ state: "hidden", timeout: 10_000 });
  });

  it("shows the totals beside the worker and failure lists, and says what is listed once the server caps them", async () => {
    // Below the caps: every worker and failure is listed, and the totals say so.
    let expected = await stats();
    await waitForText("workers-summary-total", String(expected.workersTotal));
    assert.equal(expected.workersTotal, expected.workers.length);
    assert.equal(await page.getByTestId("workers-summary-listed").count(), 0);
    assert.equal(await text("failures-summary-total"), String(expected.failuresTotal));
    assert.equal(await page.getByTestId("failures-summary-listed").count(), 0);

    // 60 more workers and 22 more final failures: over the caps of 50 and 20.
    const many = { name: "Dash.Many", id: 0 };
    many.id = (await tm().post("/task-types/register", { name: many.name, version: "1", param_schema: anySchema })).json.data.id;
    for (let i = 0; i < 60; i++) await taskIn(server.url, many, "claimed", `many-worker-${String(i).padStart(2, "0")}`);
    for (let i = 0; i < 22; i++) await taskIn(server.url, many, "failed");
    expected = await stats();
    assert.ok(expected.workersTotal > 50 && expected.failuresTotal > 20);
    await waitForText("workers-summary-total", String(expected.workersTotal));
    await waitForText("failures-summary-total", String(expected.failuresTotal));
    assert.equal(await text("workers-summary-listed"), "50");
    assert.equal(await text("failures-summary-listed"), "20");
    assert.match((await text("workers-summary")) ?? "", new RegExp(`^${expected.workersTotal} workers holding tasks, showing the 50 holding the most$`));
    assert.match((await text("failures-summary")) ?? "", new RegExp(`^${expected.failuresTotal} failed tasks, showing the 20 newest$`));
    assert.equal(await page.getByTestId("worker-row").count(), 50);
    assert.equal(await page.getByTestId("failure-row").count(), 20);
    assert.deepEqual(await page.getByTestId("worker-id").allTextContents(), expected.workers.map((w) => w.worker_id));
  });

  it("keeps the key for the session, talks only to its own server, and raised no errors", async () => {
    await page.reload();
    await waitForText("total-tasks", String((await stats()).tasks.total));
    assert.equal(await page.getByTestId("api-key-input").isVisible(), false);
    const origin = new URL(server.url).origin;
    assert.ok(requests.length > 0);
    assert.deepEqual(requests.filter((u) => !u.startsWith(`${origin}/`)), [], "no request leaves the server");
    assert.deepEqual(problems, []);
    assert.equal(await page.evaluate<unknown>("window.__pwned ?? null"), null);
  });

  it("forgets the key on request and asks for it again", async () => {
    await page.getByTestId("api-key-forget").click();
    await page.getByTestId("api-key-input").waitFor({ state: "visible" });
    assert.equal(await page.locator("main").isVisible(), false);
    assert.equal(await page.evaluate<number>("sessionStorage.length"), 0);
    await page.reload();
    assert.ok(await page.getByTestId("api-key-input").isVisible());
    assert.equal(await page.locator("main").isVisible(), false);
  });
});
