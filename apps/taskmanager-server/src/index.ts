#!/usr/bin/env node
// Composition root of the TaskManager server: reads the environment, starts, and stops on a signal.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createRequire } from "node:module";
import { pino, type DestinationStream } from "pino";
import { wantsHelp } from "@prismq/env-help";
import { ConfigError, helpOutput, loadConfig, type ServerConfig } from "./config.js";
import { openIdeaStore } from "@prismq/idea-store";
import { startServer, type StorageOptions } from "./server.js";

const SHUTDOWN_DEADLINE_MS = 10_000;

/**
 * With no key configured in any of API_KEYS, READ_API_KEYS, WORKER_API_KEYS and OPERATOR_API_KEYS,
 * a key is generated once and kept (mode 0600, in a directory created 0700) so that restarts keep it.
 */
function resolveKeys(config: ServerConfig): { keys: string[]; generatedIn?: string } {
  const scoped = config.readApiKeys.length + config.workerApiKeys.length + config.operatorApiKeys.length;
  if (config.apiKeys.length > 0 || scoped > 0) return { keys: config.apiKeys };
  const file = resolve(config.apiKeyFile);
  if (existsSync(file)) {
    const key = readFileSync(file, "utf8").trim();
    if (key.length > 0 && !/^[\x21-\x7e]+$/.test(key)) {
      // Never the key itself: only where it is.
      throw new ConfigError([`API_KEY_FILE: ${file} holds a key with a character outside printable ASCII (0x21-0x7E, no spaces)`]);
    }
    if (key.length >= 16) return { keys: [key], generatedIn: file };
  }
  const key = randomBytes(24).toString("base64url");
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { keys: [key], generatedIn: file };
}

/** pino-pretty, loaded only when LOG_PRETTY asks for it. */
function prettyStream(): DestinationStream {
  const pretty = createRequire(import.meta.url)("pino-pretty") as (options: Record<string, unknown>) => DestinationStream;
  return pretty({ colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", sync: true });
}

async function main(): Promise<void> {
  if (wantsHelp(process.argv.slice(2))) {
    process.stdout.write(helpOutput());
    process.exit(0);
  }
  let config: ServerConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino(
    {
      name: "taskmanager-server",
      level: config.logLevel,
      redact: { paths: ["apiKeys", "readApiKeys", "workerApiKeys", "operatorApiKeys", "req.headers[\"x-api-key\"]", "*.apiKey", "databaseUrl", "ideaDatabaseUrl"], censor: "[redacted]" },
    },
    config.logPretty ? prettyStream() : undefined,
  );
  let resolved: { keys: string[]; generatedIn?: string };
  try {
    resolved = resolveKeys(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const { keys, generatedIn } = resolved;
  const storage: StorageOptions = config.databaseUrl
    ? { kind: "postgres", url: config.databaseUrl, schema: config.databaseSchema, poolSize: config.databasePoolSize,
        batchWindowMs: config.databaseBatchWindowMs, batchMax: config.databaseBatchMax }
    : { kind: "sqlite", path: config.sqlitePath };

  // The idea store (read for its counts) is opened here, in the composition root, and handed to the server, which closes it.
  const ideas = config.ideaDatabaseUrl ? await openIdeaStore({ url: config.ideaDatabaseUrl }) : null;
  const server = await startServer({
    ideas,
    storage,
    logger,
    apiKeys: keys,
    readApiKeys: config.readApiKeys,
    workerApiKeys: config.workerApiKeys,
    operatorApiKeys: config.operatorApiKeys,
    requestTimeoutMs: config.requestTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    maxConnections: config.maxConnections,
    refusedPerSecond: config.refusedPerSecond,
    refusedBurst: config.refusedBurst,
    host: config.host,
    port: config.port,
    claimTimeoutSeconds: config.claimTimeoutSeconds,
    maxAttempts: config.maxAttempts,
    bodyLimitBytes: config.bodyLimitBytes,
  });
  logger.info(
    {
      url: server.url,
      storage: storage.kind === "sqlite" ? resolve(storage.path) : `postgres (schema ${config.databaseSchema})`,
      apiKeyFile: generatedIn,
      // The idea store's location never holds credentials.
      ideas: ideas ? `${ideas.kind} ${ideas.location}` : null,
    },
    `TaskManager listening on ${server.url}`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error("shutdown deadline passed: exiting");
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    timer.unref();
    server.close().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // Printed once the signals are handled, so whoever waits for it may stop the server at once.
  // The one human-facing line: where to point clients, and where the key is. On stderr: stdout holds only JSON log lines.
  process.stderr.write(
    `\nTaskManager API: ${server.url}  (docs: ${server.url}/docs, dashboard: ${server.url}/dashboard)\n` +
      (generatedIn ? `API key: in ${generatedIn} (set API_KEYS to choose your own)\n\n` : "\n"),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`taskmanager-server failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
