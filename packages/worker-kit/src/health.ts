import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** A readiness check: resolves true when the dependency is usable. It gets 2 s. */
export type ReadinessCheck = () => Promise<boolean> | boolean;

export interface HealthServerOptions {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0 (a free port; read it from `url`). */
  port?: number;
  /** Served on `/metrics`. */
  registry: Registry;
  /** Named checks run by `/readyz`; every one must pass. */
  checks?: Record<string, ReadinessCheck>;
  /** When true, `/readyz` answers 503 (set during shutdown). */
  isStopping?: () => boolean;
}

export interface HealthServer {
  /** `http://host:port` */
  url: string;
  port: number;
  close(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: ReadinessCheck): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The small HTTP server of every app: `GET /healthz` (alive: 200 while the
 * process runs), `GET /readyz` (200 when every check passes, 503 with the failing
 * names otherwise or while stopping), `GET /metrics` (Prometheus text). It
 * serves nothing else and reads no request body.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const checks = options.checks ?? {};
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    const json = (status: number, body: object) => send(status, "application/json", JSON.stringify(body));
    if (req.method !== "GET" && req.method !== "HEAD") return json(405, { error: "method not allowed" });
    if (path === "/healthz") return json(200, { status: "ok" });
    if (path === "/readyz") {
      if (options.isStopping?.()) return json(503, { status: "stopping" });
      const names = Object.keys(checks);
      void Promise.all(names.map((name) => runCheck(checks[name] as ReadinessCheck))).then((results) => {
        const failing = names.filter((_, i) => !results[i]);
        json(failing.length ? 503 : 200, { status: failing.length ? "not ready" : "ready", failing });
      });
      return;
    }
    if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => send(200, options.registry.contentType, text),
        (err: unknown) => send(500, "text/plain", `metrics failed: ${err instanceof Error ? err.message : String(err)}`),
      );
      return;
    }
    json(404, { error: "not found" });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
