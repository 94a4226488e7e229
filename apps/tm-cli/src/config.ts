import { readFileSync } from "node:fs";
import { UsageError } from "./errors.js";

/** Where the TaskManager is and how to authenticate; the key is sent only as `X-API-Key`. */
export interface Connection {
  /** Base URL ending in `/api`. */
  baseUrl: string;
  /** Sent as `X-API-Key` only, never printed. */
  apiKey: string;
  /** Whole-call timeout in ms. */
  timeoutMs: number;
}

/** Default whole-call timeout, in seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 30;

/** The command-line flags that override the environment. */
export interface ConnectionFlags {
  /** `--url`: overrides `TASKMANAGER_API_URL`. @defaultValue `TASKMANAGER_API_URL` */
  url?: string;
  /** `--key-file`: a file holding the key (trimmed); overrides `TASKMANAGER_API_KEY`. @defaultValue `TASKMANAGER_API_KEY` */
  keyFile?: string;
  /** `--timeout`: seconds per call, as typed. @defaultValue {@link DEFAULT_TIMEOUT_SECONDS} (30 s) */
  timeout?: string;
}

/** A URL fit to show: without user and password. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    return "(not a URL)";
  }
}

/**
 * Resolves where the TaskManager is and its key from the environment and
 * the flags. The key comes from `TASKMANAGER_API_KEY` or a file, never from
 * the command line (it would leak into shell history and `ps`).
 * @throws {UsageError} naming every missing or bad setting.
 */
export function resolveConnection(env: Record<string, string | undefined>, flags: ConnectionFlags): Connection {
  const problems: string[] = [];
  const baseUrl = flags.url ?? env.TASKMANAGER_API_URL;
  if (!baseUrl) {
    problems.push("TASKMANAGER_API_URL is not set (or give --url <base URL ending in /api>)");
  } else {
    let url: URL | undefined;
    try {
      url = new URL(baseUrl);
    } catch {
      url = undefined;
    }
    const source = flags.url !== undefined ? "--url" : "TASKMANAGER_API_URL";
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      problems.push(`${source} must be an http(s) URL ending in /api, e.g. http://127.0.0.1:8080/api`);
    }
  }

  let apiKey: string | undefined;
  if (flags.keyFile !== undefined) {
    try {
      apiKey = readFileSync(flags.keyFile, "utf8").trim();
      if (!apiKey) problems.push(`--key-file ${flags.keyFile} is empty`);
    } catch (err) {
      const code = (err as { code?: string }).code ?? "unreadable";
      problems.push(`--key-file ${flags.keyFile} cannot be read (${code})`);
    }
  } else {
    apiKey = env.TASKMANAGER_API_KEY;
    if (!apiKey) problems.push("TASKMANAGER_API_KEY is not set (or give --key-file <path>)");
  }

  let timeoutMs = DEFAULT_TIMEOUT_SECONDS * 1000;
  if (flags.timeout !== undefined) {
    const s = Number(flags.timeout);
    if (!Number.isFinite(s) || s <= 0) problems.push(`--timeout must be a number of seconds > 0, got "${flags.timeout}"`);
    else timeoutMs = Math.round(s * 1000);
  }

  if (problems.length || !baseUrl || !apiKey) {
    throw new UsageError(problems.length === 1 ? (problems[0] as string) : "bad configuration", problems.length === 1 ? [] : problems);
  }
  return { baseUrl, apiKey, timeoutMs };
}
