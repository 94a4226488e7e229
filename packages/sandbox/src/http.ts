import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createGzip } from "node:zlib";
import { rng } from "./world.js";

/** Faults a sandbox injects on demand, for the apps' reliability tests. Change them at any time. */
export interface Faults {
  /** Added to every answer, in ms. @defaultValue 0 */
  latencyMs: number;
  /** Share of API answers (0..1) that are a 5xx instead. Sandbox endpoints (`/_sandbox/...`) are never faulted. @defaultValue 0 */
  errorRate: number;
}

export interface Request {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  /** The raw body (only read for POST/PUT/PATCH; at most 1 MiB). */
  body: string;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON unless it is a string (sent as text) or a Buffer (sent as is). */
  body: unknown;
}

export type Handler = (req: Request) => Promise<Reply> | Reply;

export interface RunningHttp {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

/**
 * A node:http server for one sandbox: reads the request, applies faults (latency
 * for every answer, a seeded share of 503s for API paths), calls `handler`,
 * writes JSON. A handler that throws answers 500 with the message.
 */
export async function serve(
  handler: Handler,
  options: { host?: string; port?: number; faults: Faults; faultSeed: string; serverError: (status: number) => Reply },
): Promise<RunningHttp> {
  const errors = rng(options.faultSeed, "faults");
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    });
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://sandbox");
      const request: Request = { method: req.method ?? "GET", path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      const isApi = !url.pathname.startsWith("/_sandbox/");
      const run = async (): Promise<Reply> => {
        if (tooBig) return { status: 413, body: { error: "request body too large" } };
        if (isApi && options.faults.errorRate > 0 && errors() < options.faults.errorRate) return options.serverError(503);
        return handler(request);
      };
      const delay = isApi ? options.faults.latencyMs : 0;
      setTimeout(() => {
        run().then(
          (reply) => write(res, reply),
          // The API's own error shape, so a client parses a sandbox bug as it would a real 500.
          (err: unknown) => {
            const reply = options.serverError(500);
            const why = (err instanceof Error ? err.message : String(err)).replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
            write(res, { ...reply, headers: { ...reply.headers, "x-sandbox-error": why } });
          },
        );
      }, delay);
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function write(res: ServerResponse, reply: Reply): void {
  if (Buffer.isBuffer(reply.body)) {
    // Raw bytes (e.g. a staged gzip answer): sent as they are, with the reply's own headers.
    res.writeHead(reply.status, { "content-type": "application/octet-stream", ...reply.headers });
    res.end(reply.body);
    return;
  }
  const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": typeof reply.body === "string" ? "text/plain; charset=utf-8" : "application/json; charset=UTF-8",
    ...reply.headers,
  });
  res.end(text);
}

/** Parses a whole number query parameter in [min, max]; `undefined` when absent, `null` when invalid. */
export function intParam(query: URLSearchParams, name: string, min: number, max: number): number | undefined | null {
  const v = query.get(name);
  if (v === null || v === "") return undefined;
  if (!/^\d+$/.test(v)) return null;
  const n = Number(v);
  return n >= min && n <= max ? n : null;
}

/**
 * A gzip body of `head`, `bytes` spaces and `tail`, compressed chunk by chunk so the sandbox never
 * holds the inflated size: a small answer that inflates to hundreds of MB (a decompression bomb).
 */
export async function gzipBomb(bytes: number, head: string, tail: string): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on("data", (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    gz.on("end", resolve);
    gz.on("error", reject);
  });
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  gz.write(head);
  for (let left = bytes; left > 0; left -= chunk.length) {
    const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
    if (!gz.write(part)) await new Promise((r) => gz.once("drain", r));
  }
  gz.end(tail);
  await done;
  return Buffer.concat(out);
}
