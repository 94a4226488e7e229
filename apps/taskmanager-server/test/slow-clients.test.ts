import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, describe, it } from "node:test";
import type { RunningServer, StartOptions } from "../src/server.js";
import { API_KEY, call, capturedLogger, simpleSchema, sleep, sqliteBackend, start, uid } from "./helpers.js";

/** Resolves `p`, or fails the test when it takes longer than `ms`: every wait here is bounded. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Slow {
  socket: net.Socket;
  closed: Promise<void>;
  /** Everything the server sent. */
  received(): string;
  /** Pieces written after the first. */
  writes(): number;
}

/**
 * A raw TCP client that sends `head` and then one small piece every `everyMs` (at most `maxPieces`),
 * the way a slow or hostile client holds a connection open.
 */
function slowClient(port: number, head: string, piece: (i: number) => string, everyMs = 50, maxPieces = 400): Slow {
  const socket = net.connect(port, "127.0.0.1");
  let received = "";
  let writes = 0;
  socket.on("data", (d: Buffer) => (received += d.toString()));
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.on("connect", () => {
    socket.write(head);
    const timer = setInterval(() => {
      if (socket.destroyed || writes >= maxPieces) return clearInterval(timer);
      socket.write(piece(writes++));
    }, everyMs);
    void closed.then(() => clearInterval(timer));
  });
  return { socket, closed, received: () => received, writes: () => writes };
}

const dribbleHeaders = (port: number) =>
  slowClient(port, "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n", (i) => `X-Slow-${i}: ${"x".repeat(8)}\r\n`);

/** GET /api/health on a new connection of its own (no pool), as a normal client. */
function healthOnNewConnection(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/api/health", agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("health timed out")));
    req.on("error", reject);
  });
}

const slowLines = (lines: Array<Record<string, unknown>>) => lines.filter((l) => String(l.msg).startsWith("slow client"));

describe("slow and greedy clients", () => {
  const backend = sqliteBackend();
  const servers: RunningServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
    await backend.cleanup();
  });

  async function serve(options: Partial<StartOptions>) {
    const { logger, lines } = capturedLogger();
    const server = await start(backend.storage(), { logger, ...options });
    servers.push(server);
    return { server, lines };
  }

  it("cuts off clients that dribble their headers after the headers timeout, with a 408 and one log line each", async () => {
    const { server, lines } = await serve({ headersTimeoutMs: 400, requestTimeoutMs: 800 });
    const clients = Array.from({ length: 10 }, () => dribbleHeaders(server.port));
    // Connections that send nothing at all are held to the same timeout.
    const silent = Array.from({ length: 2 }, () => slowClient(server.port, "", () => "", 50, 0));
    await within(Promise.all([...clients, ...silent].map((c) => c.closed)), 10_000, "the server to close 12 slow connections");
    for (const c of clients) {
      assert.match(c.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
      assert.ok(c.writes() > 0, "the client was still sending when it was cut off");
    }
    for (const c of silent) assert.match(c.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
    await sleep(50);
    const logged = slowLines(lines);
    assert.equal(logged.length, clients.length + silent.length, "one line per cut-off connection, not one per byte");
    assert.ok(logged.every((l) => l.level === 40 && l.remoteAddress === "127.0.0.1"));
    assert.equal((await call(server.url, "GET", "/health", undefined, {})).status, 200);
  });

  it("cuts off a client that dribbles its body after the request timeout, and stores nothing from it", async () => {
    const { server, lines } = await serve({ headersTimeoutMs: 300, requestTimeoutMs: 700 });
    const name = `Slow.Body_${uid()}`;
    const reg = await call(server.url, "POST", "/task-types/register", { name, version: "1", param_schema: simpleSchema });
    assert.equal(reg.status, 200);
    const body = JSON.stringify({ type: name, params: { n: 1, tag: "x".repeat(40) } });
    const head =
      `POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${API_KEY}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const client = slowClient(server.port, head, (i) => body[i] ?? "", 50, body.length - 1);
    await within(client.closed, 10_000, "the server to close a connection that dribbles its body");
    assert.match(client.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.ok(client.writes() < body.length, "the body never arrived whole");
    await sleep(50);
    assert.equal(slowLines(lines).length, 1);
    assert.deepEqual(lines.filter((l) => (l.level as number) >= 50), [], "no error logged");
    const list = await call(server.url, "GET", `/tasks?type=${name}`);
    assert.equal(list.json.data.count, 0, "no task was created from the partial body");
  });

  it("closes a connection idle after an answer once the keep-alive timeout passes", async () => {
    const { server, lines } = await serve({ keepAliveTimeoutMs: 300 });
    const socket = net.connect(server.port, "127.0.0.1");
    let received = "";
    socket.on("data", (d: Buffer) => (received += d.toString()));
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write("GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n");
    await within(closed, 10_000, "the server to close an idle keep-alive connection");
    assert.match(received, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(slowLines(lines).length, 0, "an idle keep-alive connection is no slow client");
  });

  it("refuses connections beyond the cap while slow ones hold it; a normal client is answered once they are cut off", async () => {
    const { server, lines } = await serve({ maxConnections: 5, headersTimeoutMs: 3000, requestTimeoutMs: 3000 });
    const holders = Array.from({ length: 5 }, () => dribbleHeaders(server.port));
    await within(
      (async () => {
        while (await new Promise<number>((r) => server.app.server.getConnections((_e, n) => r(n))) < 5) await sleep(10);
      })(),
      5000,
      "5 connections to be open",
    );
    const extra = net.connect(server.port, "127.0.0.1");
    let extraBytes = 0;
    extra.on("data", (d: Buffer) => (extraBytes += d.length));
    extra.on("error", () => undefined);
    await within(new Promise<void>((resolve) => extra.on("close", () => resolve())), 5000, "the connection over the cap to be closed");
    assert.equal(extraBytes, 0, "the connection over the cap got no answer");
    await assert.rejects(healthOnNewConnection(server.port), "a normal client is refused while the cap is reached");
    assert.ok(
      holders.every((h) => !h.socket.destroyed),
      "the slow connections were still open while the others were refused",
    );

    await within(Promise.all(holders.map((h) => h.closed)), 10_000, "the slow connections to be cut off");
    assert.equal(await within(healthOnNewConnection(server.port), 5000, "health after the slow ones are gone"), 200);
    assert.equal(slowLines(lines).length, 5);
    assert.ok(lines.some((l) => String(l.msg).startsWith("connection refused: at the connection cap") && l.maxConnections === 5));
  });
});
