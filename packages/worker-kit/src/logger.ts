import { createRequire } from "node:module";
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

/** Paths whose values never reach a log line: at the top of a logged object and one level down (pino paths are explicit). */
export const REDACT_PATHS = [
  "apiKey",
  "*.apiKey",
  "key",
  "*.key",
  "token",
  "*.token",
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "clientSecret",
  "*.clientSecret",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  'headers["x-api-key"]',
  '*.headers["x-api-key"]',
  "TASKMANAGER_API_KEY",
  "*.TASKMANAGER_API_KEY",
  "REDIS_URL",
  "*.REDIS_URL",
];

export interface LoggerOptions {
  /** Becomes `service` on every line. */
  service: string;
  /** pino level. Default `info`. */
  level?: string;
  /** Where JSON lines go. Default stdout. */
  destination?: DestinationStream;
  /** Extra paths to redact, added to {@link REDACT_PATHS}. */
  redact?: string[];
  /**
   * Human-readable, colored lines (pino-pretty, loaded only then) instead of
   * JSON, for a local terminal (`LOG_PRETTY=1`). Default false.
   */
  pretty?: boolean;
}

/**
 * A pino-pretty stream writing to `destination` (default stdout). The module
 * is loaded here, on first use, so JSON-only processes never load it.
 */
export function prettyStream(destination?: DestinationStream): DestinationStream {
  const pretty = createRequire(import.meta.url)("pino-pretty") as (options: Record<string, unknown>) => DestinationStream;
  return pretty({ colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", destination: destination ?? 1, sync: true });
}

/** The one root logger of a process: JSON lines with `service`, secrets redacted, errors under `err`. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: options.service, pid: process.pid },
      redact: { paths: [...REDACT_PATHS, ...(options.redact ?? [])], censor: "[redacted]" },
      serializers: { err: pino.stdSerializers.err },
    },
    options.pretty ? prettyStream(options.destination) : options.destination,
  );
}

/** The child logger of one unit of work: every line names the task. */
export function taskLogger(root: Logger, task: { id: number; type: string; attempts?: number }): Logger {
  return root.child({ taskId: task.id, taskType: task.type, attempt: task.attempts });
}
