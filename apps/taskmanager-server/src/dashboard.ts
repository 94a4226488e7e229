import { createHash } from "node:crypto";

/**
 * The operator dashboard served at `GET /api/dashboard`: one static page, its CSS and script
 * inline, nothing loaded from elsewhere. It asks for the API key (kept in sessionStorage), polls
 * `GET /api/stats` every 2 s and opens a task's detail and history on a click.
 *
 * Every piece of server text reaches the page through `textContent`, `createTextNode` or
 * `setAttribute`; the page never parses server text as HTML. Server strings (worker ids, types,
 * errors, messages, timestamps) are each shown in their own `<bdi>` (`unicode-bidi: isolate`)
 * with their isolate controls balanced, so a right-to-left override in one cannot reverse what
 * follows it; bidi controls in params and results are shown as JSON escapes. The Content-Security-Policy admits
 * only this script and this style (by hash), `fetch` to the same origin, and Trusted Types with
 * no policy, so even a string assigned to `innerHTML` would throw instead of running.
 */

const STYLE = `
:root { color-scheme: light dark; --fg: #1d232a; --muted: #5b6670; --line: #d6dbe0; --bg: #fff; --panel: #f5f7f9;
  --created: #3b7dd8; --completed: #2e9e5b; --failed: #d64545; --claimed: #c98a12; }
@media (prefers-color-scheme: dark) { :root { --fg: #e3e7eb; --muted: #9aa5b1; --line: #38414a; --bg: #15191d; --panel: #1d2329; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.15rem; margin: 0; }
#state { color: var(--muted); }
form { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; padding: .75rem 1.25rem; }
input { font: inherit; padding: .3rem .5rem; min-width: 22rem; max-width: 100%; }
button { font: inherit; cursor: pointer; }
.error { margin: .5rem 1.25rem; padding: .5rem .75rem; border-left: 4px solid var(--failed); background: var(--panel); }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(34rem, 100%), 1fr)); gap: 1rem; padding: 1rem 1.25rem; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; min-width: 0; overflow-x: auto; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
h3 { font-size: .9rem; margin: .75rem 0 .25rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.err { max-width: 32rem; overflow-wrap: anywhere; white-space: pre-wrap; }
.totals { display: flex; gap: 1.25rem; flex-wrap: wrap; margin-bottom: .5rem; }
.totals strong { font-size: 1.3rem; display: block; }
.muted { color: var(--muted); }
button.link { background: none; border: 0; padding: 0; color: var(--created); text-decoration: underline; margin-right: .4rem; }
pre { margin: 0; padding: .5rem; background: var(--bg); border: 1px solid var(--line); overflow: auto; max-height: 18rem; white-space: pre-wrap; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .75rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
bdi { unicode-bidi: isolate; }
svg { width: 100%; height: auto; display: block; }
svg .created { fill: var(--created); } svg .completed { fill: var(--completed); } svg .failed { fill: var(--failed); }
svg text { fill: var(--muted); font-size: 12px; }
.legend span { margin-right: 1rem; }
.sw { display: inline-block; width: .7rem; height: .7rem; margin-right: .3rem; vertical-align: middle; }
.sw.created { background: var(--created); } .sw.completed { background: var(--completed); } .sw.failed { background: var(--failed); }
`;

// Plain ES2020 run by the browser. No template literals inside: this is itself a template string.
const SCRIPT = `
"use strict";
(function () {
  var STORAGE_KEY = "prismq.taskmanager.apiKey";
  var POLL_MS = 2000;
  var STATUSES = ["pending", "claimed", "completed", "failed"];
  // The API base: this page lives at <base>/dashboard.
  var base = location.pathname.replace(/\\/dashboard\\/?$/, "");
  var $ = function (id) { return document.getElementById(id); };
  var key = null;
  var generation = 0;

  // Server text (worker ids, types, errors, messages) goes in a <bdi>: it takes its own
  // direction, and a right-to-left override inside it cannot reorder what follows. A stray
  // isolate closer (U+2069) would end the bdi's isolation early and an unclosed opener would
  // keep it open, so the isolates inside the text are balanced first (both are invisible).
  function isolated(value) {
    var text = String(value), open = 0, out = "";
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c === 0x2069) { if (open === 0) continue; open--; }
      else if (c >= 0x2066 && c <= 0x2068) open++;
      out += text.charAt(i);
    }
    for (; open > 0; open--) out += "\\u2069";
    var node = document.createElement("bdi");
    node.textContent = out;
    return node;
  }
  // el(tag, { text: ours, iso: the server's, other: attribute }, ...children)
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (name) {
      if (name === "text") node.textContent = String(attrs.text);
      else if (name === "iso") node.appendChild(isolated(attrs.iso));
      else node.setAttribute(name, String(attrs[name]));
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS($("chart").namespaceURI, tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = String(attrs.text);
      else node.setAttribute(name, String(attrs[name]));
    });
    return node;
  }
  function show(node, on) { node.hidden = !on; }
  // Bidi controls in params and results are shown as their JSON escapes (still the same JSON).
  function json(value) {
    return value === null || value === undefined ? "(none)" : JSON.stringify(value, null, 2).replace(/[\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]/g, function (c) {
      return "\\\\u" + c.charCodeAt(0).toString(16).padStart(4, "0");
    });
  }
  function taskLink(id) { return el("button", { type: "button", "class": "link", "data-testid": "task-link", "data-task-id": id, text: "#" + id }); }

  function AuthError() { this.name = "AuthError"; }
  async function get(path) {
    var res = await fetch(base + path, { headers: { "X-API-Key": key }, cache: "no-store", signal: AbortSignal.timeout(10000) });
    if (res.status === 401) throw new AuthError();
    var body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (!res.ok || !body || body.success !== true) {
      var err = new Error(body && typeof body.error === "string" ? body.error : "HTTP " + res.status);
      err.status = res.status;
      throw err;
    }
    return body.data;
  }

  // Drops the key and hides the tables: a refused key and "Forget key" both end here.
  function disconnect() {
    generation++;
    key = null;
    sessionStorage.removeItem(STORAGE_KEY);
    show($("main"), false);
    show($("forget"), false);
    show($("net-error"), false);
    $("state").textContent = "Not connected";
  }

  function refused() {
    disconnect();
    $("auth-error").textContent = "The server refused this API key (401 Unauthorized). Paste the key the server printed at start or one of its API_KEYS, then Connect.";
    show($("auth-error"), true);
    $("key").focus();
  }

  function renderTasks(tasks) {
    $("total-tasks").textContent = String(tasks.total);
    var byType = new Map();
    var byStatus = { pending: 0, claimed: 0, completed: 0, failed: 0 };
    tasks.byTypeStatus.forEach(function (r) {
      if (!byType.has(r.type)) byType.set(r.type, {});
      byType.get(r.type)[r.status] = r.count;
      byStatus[r.status] = (byStatus[r.status] || 0) + r.count;
    });
    STATUSES.forEach(function (s) { $("status-total-" + s).textContent = String(byStatus[s] || 0); });
    var rows = [];
    byType.forEach(function (counts, type) {
      var total = 0;
      var cells = STATUSES.map(function (s) {
        total += counts[s] || 0;
        return el("td", { "class": "n", "data-testid": "status-" + type + "-" + s, text: counts[s] || 0 });
      });
      rows.push(el.apply(null, ["tr", { "data-testid": "type-row" }, el("td", { iso: type })].concat(cells, [el("td", { "class": "n", "data-testid": "status-" + type + "-total", text: total })])));
    });
    if (rows.length === 0) rows.push(el("tr", null, el("td", { colspan: 6, "class": "muted", text: "No tasks yet" })));
    $("types").replaceChildren.apply($("types"), rows);
  }

  function renderChart(points) {
    var chart = $("chart");
    var W = 720, H = 150, top = 18, bottom = 18, slot = W / Math.max(points.length, 1);
    var max = 1, sums = { created: 0, completed: 0, failed: 0 };
    points.forEach(function (p) {
      max = Math.max(max, p.created, p.completed, p.failed);
      sums.created += p.created; sums.completed += p.completed; sums.failed += p.failed;
    });
    var nodes = [];
    var scale = (H - top - bottom) / max;
    points.forEach(function (p, i) {
      var g = svg("g", { "data-minute": p.minute });
      g.appendChild(svg("title", { text: p.minute + " UTC: created " + p.created + ", completed " + p.completed + ", failed " + p.failed }));
      ["created", "completed", "failed"].forEach(function (kind, k) {
        var h = p[kind] * scale;
        g.appendChild(svg("rect", { "class": kind, x: (i * slot + 1 + k * (slot - 2) / 3).toFixed(2), y: (H - bottom - h).toFixed(2), width: ((slot - 2) / 3).toFixed(2), height: h.toFixed(2) }));
      });
      nodes.push(g);
    });
    nodes.push(svg("line", { x1: 0, x2: W, y1: H - bottom, y2: H - bottom, stroke: "currentColor", "stroke-opacity": 0.3 }));
    nodes.push(svg("text", { x: 2, y: 12, text: "max " + max + "/min" }));
    if (points.length > 0) {
      nodes.push(svg("text", { x: 2, y: H - 4, text: points[0].minute.slice(11) }));
      nodes.push(svg("text", { x: W - 2, y: H - 4, "text-anchor": "end", text: points[points.length - 1].minute.slice(11) + " UTC" }));
    }
    chart.replaceChildren.apply(chart, nodes);
    $("throughput-created").textContent = String(sums.created);
    $("throughput-completed").textContent = String(sums.completed);
    $("throughput-failed").textContent = String(sums.failed);
  }

  // The server lists at most 50 workers and 20 failures; the totals say how many there are in all.
  function renderListed(id, listed, total, noun, which) {
    var n = typeof total === "number" ? total : listed;
    var parts = [el("b", { "data-testid": id + "-total", text: n }), " " + noun];
    if (n > listed) parts.push(", showing the ", el("b", { "data-testid": id + "-listed", text: listed }), " " + which);
    $(id).replaceChildren.apply($(id), parts);
  }

  function renderFailures(failures) {
    var rows = failures.map(function (f) {
      var text = f.error_message === null ? "(no message)" : f.error_message;
      return el("tr", { "data-testid": "failure-row", "data-task-id": f.id },
        el("td", null, taskLink(f.id)),
        el("td", { "data-testid": "failure-type", iso: f.type }),
        el("td", { "class": "err", "data-testid": "failure-error", iso: text.length > 400 ? text.slice(0, 400) + "…" : text }),
        el("td", { "class": "n", text: f.attempts }),
        el("td", { iso: f.completed_at || "" }));
    });
    if (rows.length === 0) rows.push(el("tr", null, el("td", { colspan: 5, "class": "muted", text: "No failed tasks" })));
    $("failures").replaceChildren.apply($("failures"), rows);
  }

  function renderWorkers(workers) {
    var rows = workers.map(function (w) {
      var ids = el("td", { "data-testid": "worker-tasks" });
      w.task_ids.forEach(function (id) { ids.appendChild(taskLink(id)); });
      if (w.claimed > w.task_ids.length) ids.appendChild(el("span", { "class": "muted", text: "+" + (w.claimed - w.task_ids.length) + " more" }));
      return el("tr", { "data-testid": "worker-row" },
        el("td", { "data-testid": "worker-id", iso: w.worker_id }),
        el("td", { "class": "n", "data-testid": "worker-claimed", text: w.claimed }),
        ids);
    });
    if (rows.length === 0) rows.push(el("tr", null, el("td", { colspan: 3, "class": "muted", text: "No task is claimed right now" })));
    $("workers").replaceChildren.apply($("workers"), rows);
  }

  function countTable(title, counts, prefix) {
    var rows = Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a] || (a < b ? -1 : 1); }).map(function (name) {
      return el("tr", null, el("td", { iso: name }), el("td", { "class": "n", "data-testid": prefix + name, text: counts[name] }));
    });
    return el("table", null, el("thead", null, el("tr", null, el("th", { text: title }), el("th", { "class": "n", text: "ideas" }))), el.apply(null, ["tbody", null].concat(rows)));
  }

  function renderIdeas(ideas) {
    var box = $("ideas");
    if (ideas === null || ideas === undefined) {
      box.replaceChildren(el("p", { "class": "muted", "data-testid": "ideas-none", text: "No idea store configured (set IDEA_DATABASE_URL on the server)." }));
      return;
    }
    box.replaceChildren(
      el("div", { "class": "totals" }, el("div", null, el("strong", { "data-testid": "ideas-total", text: ideas.total }), "ideas")),
      countTable("platform", ideas.byPlatform, "ideas-"),
      el("h3", { text: "By category" }),
      countTable("category", ideas.byCategory, "ideas-category-"));
  }

  function render(data) {
    renderTasks(data.tasks);
    renderChart(data.throughput);
    renderFailures(data.recentFailures);
    renderListed("failures-summary", data.recentFailures.length, data.failuresTotal, "failed tasks", "newest");
    renderWorkers(data.workers);
    renderListed("workers-summary", data.workers.length, data.workersTotal, "workers holding tasks", "holding the most");
    renderIdeas(data.ideas);
    $("state").textContent = "Updated " + new Date().toLocaleTimeString() + " (every 2 s)";
    $("last-updated").textContent = new Date().toISOString();
  }

  async function poll(gen) {
    if (gen !== generation) return;
    try {
      var data = await get("/stats");
      if (gen !== generation) return;
      show($("auth-error"), false);
      show($("net-error"), false);
      show($("key-form"), false);
      show($("main"), true);
      show($("forget"), true);
      render(data);
    } catch (err) {
      if (gen !== generation) return;
      if (err instanceof AuthError) { refused(); show($("key-form"), true); return; }
      $("net-error").replaceChildren("Cannot load the stats: ", isolated(err && err.message ? err.message : String(err)), ". Retrying every 2 s.");
      show($("net-error"), true);
    }
    if (gen === generation) setTimeout(function () { poll(gen); }, POLL_MS);
  }

  function connect(newKey) {
    key = newKey;
    generation++;
    $("state").textContent = "Connecting…";
    poll(generation);
  }

  function field(list, name, value) {
    list.appendChild(el("dt", { text: name }));
    list.appendChild(el("dd", { "data-testid": "detail-" + name, iso: value === null || value === undefined ? "" : value }));
  }

  async function showTask(id) {
    var box = $("task-detail");
    show(box, true);
    $("detail-title").textContent = "Task #" + id;
    $("detail-message").textContent = "Loading…";
    var fields = $("detail-fields");
    fields.replaceChildren();
    ["detail-params", "detail-result", "detail-error"].forEach(function (t) { $(t).textContent = ""; });
    $("detail-history").replaceChildren();
    try {
      var both = await Promise.all([get("/tasks/" + encodeURIComponent(id)), get("/tasks/" + encodeURIComponent(id) + "/history")]);
      var t = both[0].items[0];
      $("detail-message").textContent = "";
      ["type", "status", "attempts", "priority", "progress", "progress_message", "claimed_by", "created_at", "claimed_at", "completed_at", "updated_at", "dedupe_key"].forEach(function (name) { field(fields, name, t[name]); });
      $("detail-params").textContent = json(t.params);
      $("detail-result").textContent = json(t.result);
      if (t.error_message === null) $("detail-error").textContent = "(none)";
      else $("detail-error").replaceChildren(isolated(t.error_message));
      var rows = both[1].items.map(function (h) {
        return el("tr", { "data-testid": "history-row" },
          el("td", { iso: h.created_at }), el("td", { "data-testid": "history-status", iso: h.status_change }),
          el("td", { iso: h.worker_id === null ? "" : h.worker_id }), el("td", { "class": "err", iso: h.message === null ? "" : h.message }));
      });
      $("detail-history").replaceChildren.apply($("detail-history"), rows);
      box.scrollIntoView({ block: "nearest" });
    } catch (err) {
      if (err instanceof AuthError) { refused(); show($("key-form"), true); return; }
      if (err && err.status === 404) $("detail-message").textContent = "Task not found";
      else $("detail-message").replaceChildren("Cannot load the task: ", isolated(err && err.message ? err.message : String(err)));
    }
  }

  $("key-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var value = $("key").value.trim();
    if (!value) { $("auth-error").textContent = "Paste the API key first."; show($("auth-error"), true); return; }
    sessionStorage.setItem(STORAGE_KEY, value);
    $("key").value = "";
    connect(value);
  });
  $("forget").addEventListener("click", function () {
    disconnect();
    show($("key-form"), true);
  });
  $("main").addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-task-id]") : null;
    if (target && target.tagName === "BUTTON") showTask(target.getAttribute("data-task-id"));
  });
  $("detail-close").addEventListener("click", function () { show($("task-detail"), false); });

  var saved = sessionStorage.getItem(STORAGE_KEY);
  if (saved) { show($("key-form"), false); connect(saved); }
})();
`;

const statusTotals = ["pending", "claimed", "completed", "failed"]
  .map((s) => `<div><strong data-testid="status-total-${s}" id="status-total-${s}">-</strong>${s}</div>`)
  .join("");

/** The page's HTML. Static: the same bytes for every request. */
export const dashboardHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>PrismQ TaskManager dashboard</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>PrismQ TaskManager</h1><span id="state" data-testid="state" role="status">Not connected</span><span id="last-updated" data-testid="last-updated" hidden></span><button type="button" id="forget" data-testid="api-key-forget" hidden>Forget key</button></header>
<form id="key-form" data-testid="key-form" autocomplete="off">
  <label for="key">API key</label>
  <input id="key" data-testid="api-key-input" type="password" autocomplete="off" spellcheck="false" placeholder="X-API-Key of this server">
  <button type="submit" data-testid="api-key-submit">Connect</button>
</form>
<p id="auth-error" data-testid="auth-error" class="error" role="alert" hidden></p>
<p id="net-error" data-testid="net-error" class="error" role="alert" hidden></p>
<main id="main" hidden>
  <section>
    <h2>Tasks</h2>
    <div class="totals"><div><strong data-testid="total-tasks" id="total-tasks">-</strong>total</div>${statusTotals}</div>
    <table data-testid="type-status-table">
      <thead><tr><th>type</th><th class="n">pending</th><th class="n">claimed</th><th class="n">completed</th><th class="n">failed</th><th class="n">total</th></tr></thead>
      <tbody id="types"></tbody>
    </table>
  </section>
  <section>
    <h2>Throughput, last 60 minutes</h2>
    <svg id="chart" data-testid="throughput-chart" viewBox="0 0 720 150" role="img" aria-label="Tasks created, completed and failed per minute"></svg>
    <p class="legend"><span><i class="sw created"></i>created <b id="throughput-created" data-testid="throughput-created">0</b></span><span><i class="sw completed"></i>completed <b id="throughput-completed" data-testid="throughput-completed">0</b></span><span><i class="sw failed"></i>failed <b id="throughput-failed" data-testid="throughput-failed">0</b></span><span class="muted">in the hour, UTC</span></p>
  </section>
  <section>
    <h2>Workers</h2>
    <p class="muted" id="workers-summary" data-testid="workers-summary"></p>
    <table data-testid="workers-table">
      <thead><tr><th>worker (claimed_by)</th><th class="n">claimed</th><th>tasks</th></tr></thead>
      <tbody id="workers"></tbody>
    </table>
  </section>
  <section>
    <h2>Ideas</h2>
    <div id="ideas" data-testid="ideas"></div>
  </section>
  <section class="wide">
    <h2>Recent failures</h2>
    <p class="muted" id="failures-summary" data-testid="failures-summary"></p>
    <table data-testid="failures-table">
      <thead><tr><th>task</th><th>type</th><th>error</th><th class="n">attempts</th><th>failed at (UTC)</th></tr></thead>
      <tbody id="failures"></tbody>
    </table>
  </section>
  <section class="wide" id="task-detail" data-testid="task-detail" hidden>
    <h2><span id="detail-title" data-testid="detail-title"></span> <button type="button" id="detail-close" data-testid="detail-close">Close</button></h2>
    <p id="detail-message" data-testid="detail-message" class="muted"></p>
    <dl id="detail-fields"></dl>
    <h3>Params</h3><pre id="detail-params" data-testid="detail-params"></pre>
    <h3>Result</h3><pre id="detail-result" data-testid="detail-result"></pre>
    <h3>Error</h3><pre id="detail-error" data-testid="detail-error"></pre>
    <h3>History</h3>
    <table><thead><tr><th>at (UTC)</th><th>status</th><th>worker</th><th>message</th></tr></thead><tbody id="detail-history" data-testid="detail-history"></tbody></table>
  </section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/**
 * The page's Content-Security-Policy: nothing by default; only this page's own script and style
 * (by hash, so an injected one would not run); `fetch` to this origin only; no images, frames,
 * forms or base URL; Trusted Types with no policy, so HTML sinks such as `innerHTML` throw.
 */
export const dashboardCsp = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

/** Headers sent with the page (besides the API's own `Cache-Control` and CORS headers). */
export const dashboardHeaders: Readonly<Record<string, string>> = {
  "Content-Type": "text/html; charset=utf-8",
  "Content-Security-Policy": dashboardCsp,
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Opener-Policy": "same-origin",
};
