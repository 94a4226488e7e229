import { Buffer } from "node:buffer";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import Snoowrap from "snoowrap";
import { request, type Dispatcher } from "undici";

/**
 * snoowrap behind one small module. snoowrap is unmaintained and sends its
 * requests with the deprecated `request` library to hardcoded hosts
 * (`https://oauth.<endpointDomain>` for the API, `https://www.<endpointDomain>`
 * for tokens). Here every request goes through `rawRequest`, overridden to use
 * undici (keep-alive, timeouts, body always consumed) and, when `baseUrl` is
 * set, to send Reddit's hosts to it (e.g. the sandbox). Replacing snoowrap
 * means replacing this file only.
 */

/** The snoowrap client type `createRedditClient` returns. */
export type { Snoowrap };

/** Where snoowrap's warnings and debug lines go when a logger is given (otherwise they are off). */
export interface RedditClientLogger {
  warn(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  trace(...args: unknown[]): void;
}

/** Credentials and transport of `createRedditClient`; the credentials given pick the OAuth flow. */
export interface RedditClientOptions {
  /** Reddit requires a descriptive one, e.g. `node:prismq-reddit-source:0.1.0 (by /u/someone)`. */
  userAgent: string;
  /** The OAuth app's id. */
  clientId: string;
  /** `""` or absent for an installed app. @defaultValue `""` */
  clientSecret?: string;
  /** Refresh-token flow (takes precedence). @defaultValue none */
  refreshToken?: string;
  /** Script-app password flow, with `password`. @defaultValue none */
  username?: string;
  /** The password of `username`. @defaultValue none */
  password?: string;
  /** A ready access token (no renewal). Used when no refresh token and no username/password are given. @defaultValue none */
  accessToken?: string;
  /** Send requests for Reddit's hosts here instead, e.g. the sandbox URL (a path prefix is kept). @defaultValue real Reddit */
  baseUrl?: string;
  /** undici dispatcher (Agent, ProxyAgent, MockAgent...). @defaultValue undici's global keep-alive agent */
  dispatcher?: Dispatcher;
  /** Per-request timeout, ms. @defaultValue 30,000 */
  timeoutMs?: number;
  /** Minimum delay between API calls, ms (snoowrap's `requestDelay`). @defaultValue 0 */
  requestDelay?: number;
  /** Status codes retried for idempotent calls (snoowrap's `retryErrorCodes`, with its exponential backoff of 2, 4... s). @defaultValue `[502, 503, 504, 522]` */
  retryErrorCodes?: number[];
  /** Attempts in total, a count, for those (snoowrap's `maxRetryAttempts`). @defaultValue 3 */
  maxRetryAttempts?: number;
  /** App-only flow of an installed app (no secret): the `device_id`. @defaultValue `DO_NOT_TRACK_THIS_DEVICE` */
  deviceId?: string;
  /** Most bytes of an answer as sent; more fails the request (retryable). @defaultValue 16 MiB */
  maxResponseBytes?: number;
  /** Most bytes of an answer after inflating; more fails the request (retryable). @defaultValue 32 MiB */
  maxInflatedBytes?: number;
  /** Receives snoowrap's warnings; without one they are off (snoowrap would print them to the console). @defaultValue none */
  logger?: RedditClientLogger;
}

/** The request-promise options snoowrap passes to `rawRequest` (the subset it uses, plus the common ones). */
export interface RawRequestOptions {
  method?: string;
  uri?: string | URL;
  url?: string | URL;
  baseUrl?: string;
  qs?: Record<string, unknown>;
  form?: Record<string, unknown> | string;
  formData?: Record<string, unknown>;
  body?: unknown;
  /** `true`: JSON request body (when `body` is an object) and parsed JSON response. An object: the JSON body itself. */
  json?: unknown;
  headers?: Record<string, string | number | undefined>;
  auth?: { user?: string; username?: string; pass?: string; password?: string; bearer?: string | (() => string) };
  resolveWithFullResponse?: boolean;
  /** `false`: resolve non-2xx answers instead of rejecting. */
  simple?: boolean;
  transform?: (body: unknown, response: RawResponse, resolveWithFullResponse: boolean) => unknown;
  transform2xxOnly?: boolean;
  timeout?: number;
  followRedirect?: boolean;
}

/** The response object request-promise gives snoowrap. `request.uri.href` is the Reddit URL asked for (before rewriting to `baseUrl`). */
export interface RawResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  request: { method: string; uri: { href: string } };
}

/** A non-2xx answer, shaped like request-promise's StatusCodeError (snoowrap's retry and 401 handling match on `statusCode`). */
export class StatusCodeError extends Error {
  override name = "StatusCodeError";
  readonly statusCode: number;
  /** The response body (request-promise's legacy name). */
  readonly error: unknown;
  readonly options: RawRequestOptions;
  readonly response: RawResponse;
  constructor(statusCode: number, body: unknown, options: RawRequestOptions, response: RawResponse) {
    super(`${statusCode} - ${typeof body === "string" ? body : JSON.stringify(body)}`);
    this.statusCode = statusCode;
    this.error = body;
    this.options = options;
    this.response = response;
  }
}

/** A request that got no answer (connection error, timeout), shaped like request-promise's RequestError. */
export class RequestError extends Error {
  override name = "RequestError";
  readonly error: unknown;
  readonly options: RawRequestOptions;
  readonly response: undefined = undefined;
  /** `ETIMEDOUT` for timeouts, else the cause's code when it has one. */
  readonly code: string | undefined;
  constructor(message: string, cause: unknown, options: RawRequestOptions, code?: string) {
    super(message, { cause });
    this.error = cause;
    this.options = options;
    this.code = code ?? (cause as { code?: string } | null)?.code;
  }
}

/**
 * `createRedditClient` could not get a first access token: wrong client
 * id/secret (401), refresh token or password (`invalid_grant`), or no usable
 * answer at all (`refused` tells which).
 */
export class RedditAuthError extends Error {
  override name = "RedditAuthError";
  /** HTTP status when Reddit answered one (401 for a bad client). */
  readonly statusCode: number | undefined;
  /**
   * True when Reddit refused the credentials (a 4xx other than 429, or a
   * token answer naming an error such as `invalid_grant`): asking again
   * cannot help. False for no answer, 429, 5xx or a garbled answer.
   */
  readonly refused: boolean;
  constructor(message: string, cause: unknown, statusCode?: number) {
    super(message, { cause });
    this.statusCode = statusCode;
    this.refused = refusesCredentials(cause, statusCode);
  }
}

// How snoowrap and the app-only flow word a token answer that names an error; an answer without a token or an error is garbled, not a refusal.
const TOKEN_REFUSAL = /^("Invalid grant" error returned|Reddit returned an error: (?!no access_token$))/;

function refusesCredentials(cause: unknown, status: number | undefined): boolean {
  if (status !== undefined) return status >= 400 && status < 500 && status !== 429;
  return cause instanceof Error && !(cause instanceof RequestError) && TOKEN_REFUSAL.test(cause.message);
}

/** How `sendRawRequest` reaches Reddit. */
export interface RawRequestSettings {
  /** Send requests for Reddit's hosts here instead. @defaultValue real Reddit */
  baseUrl?: string;
  /** undici dispatcher. @defaultValue undici's global keep-alive agent */
  dispatcher?: Dispatcher;
  /** Per-request timeout, ms, used when the options carry no `timeout`. @defaultValue 30,000 */
  timeoutMs?: number;
  /** Reddit's domain whose `oauth.`/`www.` hosts are rewritten to `baseUrl`. @defaultValue `reddit.com` */
  endpointDomain?: string;
  /** Most bytes of an answer as sent (compressed); more aborts the request. @defaultValue 16 MiB ({@link DEFAULT_MAX_RESPONSE_BYTES}) */
  maxResponseBytes?: number;
  /** Most bytes of an answer after inflating gzip/deflate/br; more fails the request. @defaultValue 32 MiB ({@link DEFAULT_MAX_INFLATED_BYTES}) */
  maxInflatedBytes?: number;
}

/** Default cap of an answer as sent, in bytes: 16 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Default cap of an answer after inflating, in bytes: 32 MiB (a listing of 100 long self posts is a few MiB). */
export const DEFAULT_MAX_INFLATED_BYTES = 32 * 1024 * 1024;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

function appendParams(params: URLSearchParams, values: Record<string, unknown>, replace: boolean): void {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (replace) params.delete(key);
    const list = Array.isArray(value) ? value : [value];
    for (const v of list) {
      if (v === undefined) continue;
      params.append(key, v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
    }
  }
}

/** request's `baseUrl` + `uri` joining: exactly one slash between them. */
function joinUrl(baseUrl: string | undefined, uri: string): URL {
  if (baseUrl === undefined || baseUrl === "") return new URL(uri);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) throw new TypeError("options.uri must be a path when using options.baseUrl");
  if (uri === "") return new URL(baseUrl);
  if (baseUrl.endsWith("/") && uri.startsWith("/")) return new URL(baseUrl + uri.slice(1));
  if (!baseUrl.endsWith("/") && !uri.startsWith("/")) return new URL(`${baseUrl}/${uri}`);
  return new URL(baseUrl + uri);
}

/** The URL actually requested: Reddit's hosts moved under `baseUrl` (keeping its path prefix). */
function rewrite(url: URL, settings: RawRequestSettings): URL {
  if (!settings.baseUrl) return url;
  const domain = settings.endpointDomain ?? "reddit.com";
  const hosts = new Set([`oauth.${domain}`, `www.${domain}`, domain, `ssl.${domain}`]);
  if (!hosts.has(url.hostname)) return url;
  const base = new URL(settings.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, "");
  return new URL(`${prefix}${url.pathname}${url.search}`, base.origin);
}

/** The other way: a redirect to `baseUrl` reported as the Reddit URL it stands for. */
function unrewrite(url: URL, logical: URL, settings: RawRequestSettings): URL {
  if (!settings.baseUrl) return url;
  const base = new URL(settings.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, "");
  if (url.origin !== base.origin || !url.pathname.startsWith(prefix)) return url;
  return new URL(`${url.pathname.slice(prefix.length) || "/"}${url.search}`, logical.origin);
}

async function encodeBody(options: RawRequestOptions, headers: Record<string, string>): Promise<string | Buffer | undefined> {
  if (options.formData !== undefined) {
    const form = new FormData();
    for (const [key, value] of Object.entries(options.formData)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) form.append(key, await formValue(v));
    }
    const encoded = new Response(form);
    headers["content-type"] = encoded.headers.get("content-type") ?? "multipart/form-data";
    return Buffer.from(await encoded.arrayBuffer());
  }
  if (options.form !== undefined) {
    headers["content-type"] ??= "application/x-www-form-urlencoded";
    if (typeof options.form === "string") return options.form;
    const params = new URLSearchParams();
    appendParams(params, options.form, false);
    return params.toString();
  }
  const body = options.body !== undefined ? options.body : options.json !== undefined && typeof options.json !== "boolean" ? options.json : undefined;
  if (body === undefined) return undefined;
  if (typeof body === "string" || Buffer.isBuffer(body)) return body;
  headers["content-type"] ??= "application/json";
  return JSON.stringify(body);
}

/** A multipart value: strings as is, Buffers and streams (e.g. `fs.createReadStream`) as files, `{value, options: {filename}}` as request accepts. */
async function formValue(v: unknown): Promise<string | Blob> {
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return String(v);
  if (Buffer.isBuffer(v)) return new Blob([v]);
  if (v !== null && typeof v === "object" && Symbol.asyncIterator in v) {
    const chunks: Buffer[] = [];
    for await (const chunk of v as AsyncIterable<Buffer | string>) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    const path = (v as { path?: unknown }).path;
    return new File([Buffer.concat(chunks)], typeof path === "string" ? (path.split(/[\\/]/).pop() ?? "file") : "file");
  }
  if (v !== null && typeof v === "object" && "value" in v) {
    const { value, options } = v as { value: unknown; options?: { filename?: string } };
    const inner = await formValue(value);
    return typeof inner === "string" || !options?.filename ? inner : new File([inner], options.filename);
  }
  return JSON.stringify(v);
}

/** Inflates an answer; more than `max` bytes throws (zlib stops at `maxOutputLength`, so a gzip bomb never fills memory). */
function decode(buf: Buffer, encoding: string | string[] | undefined, max: number): Buffer {
  const enc = (Array.isArray(encoding) ? encoding.join(",") : (encoding ?? "")).trim().toLowerCase();
  if (buf.length === 0 || enc === "" || enc === "identity") return buf;
  try {
    if (enc === "gzip" || enc === "x-gzip") return gunzipSync(buf, { maxOutputLength: max });
    if (enc === "deflate") return inflateSync(buf, { maxOutputLength: max });
    if (enc === "br") return brotliDecompressSync(buf, { maxOutputLength: max });
  } catch (err) {
    if ((err as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") throw new RangeError(`answer inflates to more than ${max} bytes`, { cause: err });
    throw err;
  }
  return buf;
}

/** Reads a body to the end, or throws once it passes `max` bytes (and stops reading). */
async function readCapped(body: Dispatcher.ResponseData["body"], max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > max) {
      body.destroy();
      throw new RangeError(`answer larger than ${max} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/**
 * Performs one request given snoowrap's request-promise options, with undici,
 * and answers as request-promise would: the transformed value, the full
 * response, or the body; non-2xx rejected with a `StatusCodeError` (after
 * `transform`, which snoowrap uses to read the rate-limit headers of every
 * answer); no answer rejected with a `RequestError`.
 */
export async function sendRawRequest(options: RawRequestOptions, settings: RawRequestSettings = {}): Promise<unknown> {
  const method = (options.method ?? "GET").toUpperCase();
  const target = options.uri ?? options.url;
  if (target === undefined) throw new TypeError("options.uri is a required argument");
  const logical = joinUrl(options.baseUrl, String(target));
  if (options.qs) appendParams(logical.searchParams, options.qs, true);
  const headers: Record<string, string> = { "accept-encoding": "gzip, deflate" };
  if (options.json !== undefined && options.json !== false) headers.accept = "application/json";
  for (const [k, v] of Object.entries(options.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = String(v);
  const auth = options.auth;
  if (auth) {
    const bearer = typeof auth.bearer === "function" ? auth.bearer() : auth.bearer;
    if (bearer !== undefined && bearer !== null) headers.authorization = `Bearer ${bearer}`;
    else if (auth.user !== undefined || auth.username !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${auth.user ?? auth.username ?? ""}:${auth.pass ?? auth.password ?? ""}`).toString("base64")}`;
    }
  }
  const body = await encodeBody(options, headers);
  const timeoutMs = options.timeout ?? settings.timeoutMs ?? 30_000;
  const signal = AbortSignal.timeout(timeoutMs);

  const maxBytes = settings.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const maxInflated = settings.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  let current = logical;
  let currentMethod = method;
  let currentBody = body;
  let res: Dispatcher.ResponseData;
  let buf: Buffer;
  let previous: URL | undefined;
  for (let hop = 0; ; hop++) {
    const actual = rewrite(current, settings);
    // Credentials never follow a redirect to another origin (request's and browsers' rule); once dropped they stay dropped.
    if (previous !== undefined && actual.origin !== previous.origin) {
      delete headers.authorization;
      delete headers.cookie;
    }
    previous = actual;
    try {
      res = await request(actual, {
        method: currentMethod as Dispatcher.HttpMethod,
        headers,
        body: currentBody,
        dispatcher: settings.dispatcher,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      buf = await readCapped(res.body, maxBytes);
    } catch (err) {
      if (signal.aborted) throw new RequestError(`Error: ETIMEDOUT (no answer in ${timeoutMs} ms: ${method} ${logical.href})`, err, options, "ETIMEDOUT");
      throw new RequestError(`${String(err)} (${method} ${logical.href})`, err, options, err instanceof RangeError ? "ETOOLARGE" : undefined);
    }
    const location = res.headers.location;
    const follow = options.followRedirect !== false && (currentMethod === "GET" || currentMethod === "HEAD");
    if (!REDIRECTS.has(res.statusCode) || typeof location !== "string" || !follow || hop >= MAX_REDIRECTS) break;
    const next = unrewrite(new URL(location, actual), logical, settings);
    // Reddit redirects an unknown subreddit to the subreddit search: that is a 404 for the subreddit, not a listing of subreddits.
    if (/^\/subreddits\/search(\.json)?$/.test(next.pathname) && !/^\/subreddits\//.test(logical.pathname)) {
      const notFound = { message: "Not Found", error: 404, reason: `no such subreddit (redirected to ${next.pathname})` };
      throw new StatusCodeError(404, notFound, options, { statusCode: 404, headers: res.headers, body: notFound, request: { method: method.toLowerCase(), uri: { href: next.href } } });
    }
    current = next;
    if (res.statusCode === 303) {
      currentMethod = "GET";
      currentBody = undefined;
    }
  }

  let text: string;
  try {
    text = decode(buf, res.headers["content-encoding"], maxInflated).toString("utf8");
  } catch (err) {
    throw new RequestError(`${String(err)} (decoding ${method} ${logical.href})`, err, options, err instanceof RangeError ? "ETOOLARGE" : undefined);
  }
  let parsed: unknown = text;
  if (options.json !== undefined && options.json !== false && text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  const response: RawResponse = {
    statusCode: res.statusCode,
    headers: res.headers,
    body: parsed,
    // Lower case like snoowrap's IDEMPOTENT_HTTP_VERBS, so its retry of 5xx works (request upper-cased it, which disabled that).
    request: { method: method.toLowerCase(), uri: { href: current.href } },
  };
  const ok = res.statusCode >= 200 && res.statusCode < 300;
  const full = options.resolveWithFullResponse === true;
  let value: unknown = full ? response : parsed;
  if (options.transform && (ok || options.transform2xxOnly !== true)) value = await options.transform(parsed, response, full);
  if (!ok && options.simple !== false) throw new StatusCodeError(res.statusCode, parsed, options, (options.transform ? value : response) as RawResponse);
  return value;
}

interface TokenAnswer {
  access_token?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
}

interface AppOnlyGrant {
  grant_type: string;
  device_id?: string;
}

/** snoowrap with every request sent by `sendRawRequest`, and app-only tokens fetched (and renewed) through it. */
class UndiciSnoowrap extends Snoowrap {
  #settings: RawRequestSettings;
  #appOnly: AppOnlyGrant | undefined;

  constructor(options: Snoowrap.SnoowrapOptions, settings: RawRequestSettings, appOnly?: AppOnlyGrant) {
    super(options);
    this.#settings = settings;
    this.#appOnly = appOnly;
  }

  override rawRequest(options: RawRequestOptions): Promise<unknown> {
    return sendRawRequest(options, { ...this.#settings, endpointDomain: this.config().endpointDomain ?? "reddit.com" });
  }

  override updateAccessToken(): Promise<string> {
    const grant = this.#appOnly;
    if (!grant || (this.accessToken && Date.now() <= this.tokenExpiration)) return super.updateAccessToken();
    return this.#fetchAppOnlyToken(grant);
  }

  async #fetchAppOnlyToken(grant: AppOnlyGrant): Promise<string> {
    const info = (await this.credentialedClientRequest({ method: "post", uri: "api/v1/access_token", form: { ...grant } })) as TokenAnswer;
    if (info.error !== undefined || typeof info.access_token !== "string") {
      throw new Error(info.error === "invalid_grant" ? '"Invalid grant" error returned from reddit. (You might have incorrect credentials.)' : `Reddit returned an error: ${info.error ?? "no access_token"}${info.error_description ? `: ${info.error_description}` : ""}`);
    }
    this.accessToken = info.access_token;
    this.tokenExpiration = Date.now() + (info.expires_in ?? 3600) * 1000;
    this.scope = (info.scope ?? "").split(" ");
    return this.accessToken;
  }
}

/**
 * A snoowrap client. The flow follows the credentials given: `refreshToken`
 * (refresh-token flow), else `username` + `password` (script password grant),
 * else `accessToken` (used as is), else app-only (client credentials; an
 * installed app without a secret uses Reddit's `installed_client` grant). The
 * first token is fetched before this resolves, so wrong credentials reject
 * here with a `RedditAuthError`. Tokens are renewed by snoowrap when they
 * expire (app-only ones by this adapter). Rate limits: snoowrap waits for the
 * window to reset when `X-Ratelimit-Remaining` reaches 0.
 */
export async function createRedditClient(options: RedditClientOptions): Promise<Snoowrap> {
  if (!options.userAgent) throw new TypeError("createRedditClient: userAgent is required");
  if (!options.clientId && !options.accessToken) throw new TypeError("createRedditClient: clientId is required");
  const settings: RawRequestSettings = {
    baseUrl: options.baseUrl,
    dispatcher: options.dispatcher,
    timeoutMs: options.timeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    maxInflatedBytes: options.maxInflatedBytes,
  };
  if (options.baseUrl !== undefined) new URL(options.baseUrl);
  const secret = options.clientSecret ?? "";
  const base = { userAgent: options.userAgent, clientId: options.clientId, clientSecret: secret };
  let client: UndiciSnoowrap;
  let flow: string;
  if (options.refreshToken) {
    client = new UndiciSnoowrap({ ...base, refreshToken: options.refreshToken }, settings);
    flow = "refresh token";
  } else if (options.username !== undefined && options.password !== undefined) {
    client = new UndiciSnoowrap({ ...base, username: options.username, password: options.password }, settings);
    flow = "password";
  } else if (options.accessToken) {
    client = new UndiciSnoowrap({ ...base, accessToken: options.accessToken }, settings);
    flow = "access token";
  } else {
    const grant: AppOnlyGrant = secret
      ? { grant_type: "client_credentials" }
      : { grant_type: "https://oauth.reddit.com/grants/installed_client", device_id: options.deviceId ?? "DO_NOT_TRACK_THIS_DEVICE" };
    // snoowrap's constructor insists on some credential; the app-only token is fetched below.
    client = new UndiciSnoowrap({ ...base, accessToken: "pending" }, settings, grant);
    client.accessToken = "";
    client.tokenExpiration = 0;
    flow = "app-only";
  }
  client.config({
    requestDelay: options.requestDelay ?? 0,
    requestTimeout: options.timeoutMs ?? 30_000,
    continueAfterRatelimitError: true,
    retryErrorCodes: options.retryErrorCodes ?? [502, 503, 504, 522],
    maxRetryAttempts: options.maxRetryAttempts ?? 3,
    warnings: options.logger !== undefined,
    debug: false,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  if (flow !== "access token") {
    try {
      await client.updateAccessToken();
    } catch (err) {
      const status = (err as { statusCode?: unknown }).statusCode;
      const why = typeof status === "number" ? `HTTP ${status}${status === 401 ? " (wrong client id or secret)" : ""}` : (err as Error).message;
      throw new RedditAuthError(`Reddit ${flow} authentication failed for client ${options.clientId}: ${why}`, err, typeof status === "number" ? status : undefined);
    }
  }
  return client;
}
