import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { gzipSync } from "node:zlib";
import { MockAgent } from "undici";
import { createRedditClient, isFatalAuthError, RedditAuthError, RequestError, sendRawRequest, StatusCodeError, type RawResponse, type Snoowrap } from "../src/index.js";

/**
 * Protocol tests of the snoowrap adapter's request mapping against a small
 * node:http server that records requests and answers like Reddit. (The
 * end-to-end tests against the Reddit sandbox live in @prismq/sandbox, which
 * depends on this package.)
 */

const UA = "node:prismq-adapter-test:0.1.0 (by /u/prismq)";

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Raw bytes instead of JSON. */
  raw?: Buffer;
  /** Never answer (for timeouts). */
  hang?: boolean;
}

interface FakeReddit {
  url: string;
  seen: Seen[];
  connections: number;
  /** Requests other than the token endpoint. */
  api(): Seen[];
}

const TOKEN = { access_token: "token-1", token_type: "bearer", expires_in: 3600, scope: "*" };

function listing(children: unknown[], after: string | null = null) {
  return { kind: "Listing", data: { after, dist: children.length, modhash: "", geo_filter: "", children, before: null } };
}
function post(id: string, extra: Record<string, unknown> = {}) {
  return { kind: "t3", data: { id, name: `t3_${id}`, title: `Post ${id}`, subreddit: "sandbox", author: "someone", created_utc: 1_767_225_600, ...extra } };
}

/** A fake Reddit: `answer` decides each reply; token requests get `TOKEN` unless `answer` handles them. */
async function fakeReddit(t: TestContext, answer: (req: Seen, n: number) => Answer | undefined = () => undefined): Promise<FakeReddit> {
  const seen: Seen[] = [];
  let connections = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const s: Seen = { method: req.method ?? "", path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      seen.push(s);
      const a = answer(s, seen.length) ?? (s.path.endsWith("/api/v1/access_token") ? { body: TOKEN } : { body: listing([post("abc1234")]) });
      if (a.hang) return;
      const payload = a.raw ?? Buffer.from(JSON.stringify(a.body ?? {}));
      res.writeHead(a.status ?? 200, { "content-type": "application/json; charset=UTF-8", ...a.headers });
      res.end(payload);
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    get connections() {
      return connections;
    },
    api: () => seen.filter((s) => !s.path.endsWith("/api/v1/access_token")),
  };
}

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
/** snoowrap answers with Bluebird promises wrapped in method-chaining proxies: make a plain async function for assert.rejects. */
const settle = (thenable: unknown) => async (): Promise<void> => {
  await (thenable as Promise<unknown>);
};
const titles = (list: ArrayLike<{ title: string }>): string[] => Array.from(list, (p) => p.title);

test("app-only: the client-credentials token request and API calls are mapped like request-promise's", async (t) => {
  const fake = await fakeReddit(t, (req) =>
    req.path === "/r/sandbox/new" ? { body: listing([post("aaa0001"), post("aaa0002")]), headers: { "x-ratelimit-used": "3", "x-ratelimit-remaining": "597.0", "x-ratelimit-reset": "42" } } : undefined,
  );
  const r = await createRedditClient({ userAgent: UA, clientId: "my-app", clientSecret: "s3cret", baseUrl: fake.url });
  const [tokenReq] = fake.seen;
  assert.equal(tokenReq!.method, "POST");
  assert.equal(tokenReq!.path, "/api/v1/access_token");
  assert.equal(tokenReq!.headers.authorization, basic("my-app", "s3cret"));
  assert.equal(tokenReq!.headers["user-agent"], UA);
  assert.equal(tokenReq!.headers["content-type"], "application/x-www-form-urlencoded");
  assert.deepEqual(Object.fromEntries(new URLSearchParams(tokenReq!.body)), { grant_type: "client_credentials" });
  assert.equal(r.accessToken, "token-1");
  assert.deepEqual(r.scope, ["*"]);

  const posts = await r.getNew("sandbox", { limit: 2 });
  assert.deepEqual(titles(posts), ["Post aaa0001", "Post aaa0002"]);
  const [api] = fake.api();
  assert.equal(api!.method, "GET");
  assert.equal(api!.path, "/r/sandbox/new");
  assert.deepEqual(Object.fromEntries(api!.query), { raw_json: "1", count: "9999", limit: "2" });
  assert.equal(api!.headers.authorization, "Bearer token-1");
  assert.equal(api!.headers["user-agent"], UA);
  assert.equal(api!.headers.accept, "application/json");
  assert.equal(api!.body, "");
  assert.equal(r.ratelimitRemaining, 597, "snoowrap's transform read the rate-limit headers");
  assert.ok(Math.abs(r.ratelimitExpiration - (Date.now() + 42_000)) < 2_000, "Math.abs(r.ratelimitExpiration - (Date.now() + 42_000)) < 2_000");
});

test("refresh-token, password, installed-app and given-token flows send Reddit's grants", async (t) => {
  const fake = await fakeReddit(t);
  await createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", refreshToken: "rt-1", baseUrl: fake.url });
  await createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", username: "bot", password: "pw d&=", baseUrl: fake.url });
  await createRedditClient({ userAgent: UA, clientId: "installed", baseUrl: fake.url, deviceId: "device-id-of-twenty-chars" });
  const grants = fake.seen.map((s) => [s.headers.authorization, Object.fromEntries(new URLSearchParams(s.body))]);
  assert.deepEqual(grants, [
    [basic("app", "sec"), { grant_type: "refresh_token", refresh_token: "rt-1" }],
    [basic("app", "sec"), { grant_type: "password", username: "bot", password: "pw d&=" }],
    [basic("installed", ""), { grant_type: "https://oauth.reddit.com/grants/installed_client", device_id: "device-id-of-twenty-chars" }],
  ]);

  const given = await createRedditClient({ userAgent: UA, clientId: "app", accessToken: "ready-token", baseUrl: fake.url });
  assert.equal(fake.seen.length, 3, "a given access token needs no token request");
  await given.getHot("sandbox", { limit: 1 });
  assert.equal(fake.seen.at(-1)!.headers.authorization, "Bearer ready-token");
});

test("wrong credentials reject createRedditClient with RedditAuthError (401 client, invalid_grant)", async (t) => {
  const fake = await fakeReddit(t, (req) => {
    if (req.headers.authorization !== basic("app", "sec")) return { status: 401, body: { message: "Unauthorized", error: 401 } };
    return new URLSearchParams(req.body).get("refresh_token") === "good" ? undefined : { body: { error: "invalid_grant" } };
  });
  await assert.rejects(createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "wrong", baseUrl: fake.url }), (err: unknown) => {
    assert.ok(err instanceof RedditAuthError, "err instanceof RedditAuthError");
    assert.equal(err.statusCode, 401);
    assert.match(err.message, /app-only authentication failed for client app: HTTP 401 \(wrong client id or secret\)/);
    assert.ok(err.cause instanceof StatusCodeError, "err.cause instanceof StatusCodeError");
    assert.ok(err.refused && isFatalAuthError(err), "a refused client is fatal");
    return true;
  });
  await assert.rejects(createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", refreshToken: "bad", baseUrl: fake.url }), (err: unknown) => {
    assert.ok(err instanceof RedditAuthError, "err instanceof RedditAuthError");
    assert.equal(err.statusCode, undefined);
    assert.match(err.message, /refresh token authentication failed.*Invalid grant/);
    assert.ok(err.refused && isFatalAuthError(err), "a refused grant is fatal");
    return true;
  });
  await createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", refreshToken: "good", baseUrl: fake.url });
  await assert.rejects(createRedditClient({ userAgent: "", clientId: "app" }), TypeError);
});

test("a sign-in without a usable answer (no answer, 429, 5xx, no token) is not a refusal of the credentials: waiting may mend it", async (t) => {
  const answers: Answer[] = [{ status: 429, body: { message: "Too Many Requests", error: 429 } }, { status: 500, body: { message: "Internal Server Error", error: 500 } }, { body: {} }];
  for (const answer of answers) {
    const fake = await fakeReddit(t, (req) => (req.path.endsWith("/api/v1/access_token") ? answer : undefined));
    await assert.rejects(createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", baseUrl: fake.url }), (err: unknown) => {
      assert.ok(err instanceof RedditAuthError, "err instanceof RedditAuthError");
      assert.ok(!err.refused && !isFatalAuthError(err), `${answer.status ?? 200}: not fatal (${err.message})`);
      return true;
    });
  }
  // Port 9 (discard) is closed here: the connection is refused.
  await assert.rejects(createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", baseUrl: "http://127.0.0.1:9", timeoutMs: 2_000 }), (err: unknown) => {
    assert.ok(err instanceof RedditAuthError && err.cause instanceof RequestError, String(err));
    assert.ok(!isFatalAuthError(err), "no answer: not fatal");
    return true;
  });
});

test("Reddit's hosts are rewritten under a baseUrl with a path prefix, and Listing paging keeps the prefix once", async (t) => {
  const fake = await fakeReddit(t, (req) => {
    if (!req.path.startsWith("/reddit/")) return { status: 404, body: { message: "Not Found", error: 404 } };
    if (req.path === "/reddit/r/sandbox/new") return req.query.get("after") === "t3_p2" ? { body: listing([post("p3")], null) } : { body: listing([post("p1"), post("p2")], "t3_p2") };
    return undefined;
  });
  const r = await createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", baseUrl: `${fake.url}/reddit/` });
  const first = (await r.getNew("sandbox", { limit: 2 })) as unknown as { fetchAll(): Promise<ArrayLike<{ title: string }>>; isFinished: boolean };
  assert.equal(first.isFinished, false);
  const all = await first.fetchAll();
  assert.deepEqual(titles(all), ["Post p1", "Post p2", "Post p3"]);
  assert.deepEqual(
    fake.seen.map((s) => s.path),
    ["/reddit/api/v1/access_token", "/reddit/r/sandbox/new", "/reddit/r/sandbox/new"],
  );
  assert.equal(fake.seen[2]!.query.get("after"), "t3_p2");
});

test("without a baseUrl requests go to www.reddit.com (token) and oauth.reddit.com (API) through the given dispatcher", async (t) => {
  const agent = new MockAgent();
  agent.disableNetConnect();
  t.after(() => agent.close());
  agent
    .get("https://www.reddit.com")
    .intercept({ path: "/api/v1/access_token", method: "POST", body: "grant_type=client_credentials" })
    .reply(200, TOKEN, { headers: { "content-type": "application/json" } });
  agent
    .get("https://oauth.reddit.com")
    .intercept({ path: (p) => p.startsWith("/r/news/top?"), method: "GET", headers: { authorization: "Bearer token-1" } })
    .reply(200, listing([post("real001")]), { headers: { "content-type": "application/json" } });
  const r = await createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", dispatcher: agent });
  assert.deepEqual(titles(await r.getTop("news", { time: "day", limit: 1 })), ["Post real001"]);
  agent.assertNoPendingInterceptors();
});

test("non-2xx answers reject with a StatusCodeError like request-promise's, and their rate-limit headers are still read", async (t) => {
  const fake = await fakeReddit(t, (req) =>
    req.path === "/r/missing/new" ? { status: 404, body: { message: "Not Found", error: 404 }, headers: { "x-ratelimit-remaining": "12.0", "x-ratelimit-reset": "30" } } : undefined,
  );
  const r = await createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", baseUrl: fake.url });
  await assert.rejects(settle(r.getNew("missing", { limit: 1 })), (err: unknown) => {
    assert.ok(err instanceof StatusCodeError, "err instanceof StatusCodeError");
    assert.equal(err.statusCode, 404);
    assert.deepEqual(err.error, { message: "Not Found", error: 404 });
    assert.equal(err.message, '404 - {"message":"Not Found","error":404}');
    assert.equal(err.response.statusCode, 404);
    assert.equal(err.response.request.method, "get");
    assert.match(err.response.request.uri.href, /^https:\/\/oauth\.reddit\.com\/r\/missing\/new\?/);
    return true;
  });
  assert.equal(r.ratelimitRemaining, 12);
});

test("snoowrap retries a 503 for GET with its backoff but not for POST", async (t) => {
  let getCalls = 0;
  const fake = await fakeReddit(t, (req) => {
    if (req.path === "/r/flaky/new") return ++getCalls === 1 ? { status: 503, body: { message: "Service Unavailable", error: 503 } } : undefined;
    if (req.path === "/api/flaky") return { status: 503, body: { message: "Service Unavailable", error: 503 } };
    return undefined;
  });
  const r = await createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", baseUrl: fake.url, maxRetryAttempts: 2 });
  const started = Date.now();
  assert.deepEqual(titles(await r.getNew("flaky", { limit: 1 })), ["Post abc1234"]);
  assert.equal(getCalls, 2, "the GET was retried once");
  assert.ok(Date.now() - started >= 1_500, "after snoowrap's exponential backoff");
  await assert.rejects(settle(r.oauthRequest({ uri: "api/flaky", method: "post", form: { a: 1 } })), { statusCode: 503 });
  assert.equal(fake.api().filter((s) => s.path === "/api/flaky").length, 1, "POST is not idempotent: no retry");
});

test("app-only tokens are fetched again when they expire", async (t) => {
  let issued = 0;
  const fake = await fakeReddit(t, (req) => (req.path === "/api/v1/access_token" ? { body: { ...TOKEN, access_token: `token-${++issued}`, expires_in: 1 } } : undefined));
  const r = await createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", baseUrl: fake.url });
  await r.getNew("sandbox", { limit: 1 });
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await r.getNew("sandbox", { limit: 1 });
  assert.equal(issued, 2);
  assert.deepEqual(
    fake.api().map((s) => s.headers.authorization),
    ["Bearer token-1", "Bearer token-2"],
  );
});

test("form, JSON body, multipart formData, qs merged into the uri's query, and custom headers are encoded", async (t) => {
  const fake = await fakeReddit(t, () => ({ body: { ok: true } }));
  const settings = { baseUrl: fake.url };
  await sendRawRequest({ method: "post", baseUrl: "https://oauth.reddit.com", uri: "/api/form", form: { a: 1, b: "x y", skip: undefined, empty: null }, json: true }, settings);
  await sendRawRequest({ method: "post", baseUrl: "https://oauth.reddit.com/", uri: "/api/json", body: { hello: ["world"] }, json: true }, settings);
  await sendRawRequest({ method: "patch", uri: "https://oauth.reddit.com/api/raw", body: "plain text", headers: { "Content-Type": "text/plain", "X-Custom": 7 } }, settings);
  await sendRawRequest({ method: "post", baseUrl: "https://oauth.reddit.com", uri: "api/upload", formData: { name: "file-name", file: { value: Buffer.from("PNGDATA"), options: { filename: "a.png" } } } }, settings);
  await sendRawRequest({ baseUrl: "https://oauth.reddit.com", uri: "api/info?id=t3_a", qs: { id: "t3_b", raw_json: 1, list: ["x", "y"], gone: undefined } }, settings);
  const [form, json, plain, upload, query] = fake.seen;
  assert.equal(form!.headers["content-type"], "application/x-www-form-urlencoded");
  assert.equal(form!.body, "a=1&b=x+y&empty=");
  assert.equal(json!.path, "/api/json", "one slash between baseUrl and uri");
  assert.equal(json!.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(json!.body), { hello: ["world"] });
  assert.equal(plain!.method, "PATCH");
  assert.equal(plain!.headers["content-type"], "text/plain");
  assert.equal(plain!.headers["x-custom"], "7");
  assert.equal(plain!.body, "plain text");
  assert.match(String(upload!.headers["content-type"]), /^multipart\/form-data; boundary=/);
  assert.match(upload!.body, /name="name"\r\n\r\nfile-name\r\n/);
  assert.match(upload!.body, /name="file"; filename="a.png"\r\nContent-Type: application\/octet-stream\r\n\r\nPNGDATA\r\n/);
  assert.equal(query!.path, "/api/info");
  assert.deepEqual([...query!.query], [["id", "t3_b"], ["raw_json", "1"], ["list", "x"], ["list", "y"]]);
});

test("sendRawRequest resolves the body, the full response, a transform's value, or non-2xx with simple: false", async (t) => {
  const fake = await fakeReddit(t, (req) => (req.path === "/teapot" ? { status: 418, body: { short: "stout" } } : { body: { ok: 1 }, headers: { "x-thing": "yes" } }));
  const settings = { baseUrl: fake.url };
  assert.deepEqual(await sendRawRequest({ uri: "https://www.reddit.com/ok", json: true }, settings), { ok: 1 });
  assert.equal(await sendRawRequest({ uri: "https://www.reddit.com/ok" }, settings), '{"ok":1}', "without json the body stays text");
  const full = (await sendRawRequest({ uri: "https://www.reddit.com/ok", json: true, resolveWithFullResponse: true }, settings)) as RawResponse;
  assert.equal(full.statusCode, 200);
  assert.equal(full.headers["x-thing"], "yes");
  assert.deepEqual(full.body, { ok: 1 });
  assert.deepEqual(full.request, { method: "get", uri: { href: "https://www.reddit.com/ok" } });
  const seen: unknown[] = [];
  const transformed = await sendRawRequest({ uri: "https://www.reddit.com/ok", json: true, transform: (body, res, whole) => (seen.push(res.statusCode, whole), { wrapped: body }) }, settings);
  assert.deepEqual(transformed, { wrapped: { ok: 1 } });
  assert.deepEqual(seen, [200, false]);
  assert.deepEqual(await sendRawRequest({ uri: "https://www.reddit.com/teapot", json: true, simple: false }, settings), { short: "stout" });
  await assert.rejects(sendRawRequest({ uri: "https://www.reddit.com/teapot", json: true }, settings), { name: "StatusCodeError", statusCode: 418 });
});

test("gzip answers are decompressed and GET redirects are followed", async (t) => {
  const fake = await fakeReddit(t, (req): Answer | undefined => {
    if (req.path === "/r/old/new") return { status: 301, headers: { location: "/r/new/new?limit=1" }, body: {} };
    if (req.path === "/r/new/new") return { raw: gzipSync(JSON.stringify(listing([post("zip0001")]))), headers: { "content-encoding": "gzip" } };
    return undefined;
  });
  const r = await createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", baseUrl: fake.url });
  assert.deepEqual(titles(await r.getNew("old", { limit: 1 })), ["Post zip0001"]);
  assert.equal(fake.api().at(-1)!.headers["accept-encoding"], "gzip, deflate");
  assert.deepEqual(
    fake.api().map((s) => s.path),
    ["/r/old/new", "/r/new/new"],
  );
});

test("a silent server times out with a RequestError (ETIMEDOUT) after timeoutMs", async (t) => {
  const fake = await fakeReddit(t, (req) => (req.path === "/r/slow/new" ? { hang: true } : undefined));
  const r = await createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", baseUrl: fake.url, timeoutMs: 300 });
  const started = Date.now();
  await assert.rejects(settle(r.getNew("slow", { limit: 1 })), (err: unknown) => {
    assert.ok(err instanceof RequestError, "err instanceof RequestError");
    assert.equal(err.code, "ETIMEDOUT");
    assert.match(err.message, /ETIMEDOUT.*300 ms.*oauth\.reddit\.com\/r\/slow\/new/);
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took >= 250 && took < 3_000, `took ${took} ms`);
  await assert.rejects(sendRawRequest({ uri: "http://127.0.0.1:1/nothing" }), (err: unknown) => err instanceof RequestError && err.code === "ECONNREFUSED");
});

test("sequential calls reuse one keep-alive connection", async (t) => {
  const fake = await fakeReddit(t);
  const r = await createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", baseUrl: fake.url });
  for (let k = 0; k < 5; k++) await r.getHot("sandbox", { limit: 1 });
  assert.equal(fake.seen.length, 6);
  assert.equal(fake.connections, 1);
});

test("snoowrap prints nothing to the console; its warnings go to a given logger", async (t) => {
  let calls = 0;
  const fake = await fakeReddit(t, (req) => (req.path === "/r/busy/new" ? { body: listing([post(`b${++calls}`)]), headers: { "x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "1" } } : undefined));
  const printed: unknown[] = [];
  const original = { warn: console.warn, info: console.info, debug: console.debug, log: console.log };
  for (const k of ["warn", "info", "debug", "log"] as const) console[k] = (...args: unknown[]) => printed.push(args);
  try {
    const quiet = await createRedditClient({ userAgent: UA, clientId: "app", clientSecret: "sec", baseUrl: fake.url });
    await quiet.getNew("busy", { limit: 1 });
    await quiet.getNew("busy", { limit: 1 }); // waits ~1 s for the window: snoowrap would warn
    const warnings: unknown[] = [];
    const logged: Snoowrap = await createRedditClient({
      userAgent: UA,
      clientId: "app",
      clientSecret: "sec",
      baseUrl: fake.url,
      logger: { warn: (...a: unknown[]) => warnings.push(a), info: () => {}, debug: () => {}, trace: () => {} },
    });
    await logged.getNew("busy", { limit: 1 });
    await logged.getNew("busy", { limit: 1 });
    assert.equal(warnings.length, 1);
    assert.match(String((warnings[0] as unknown[])[0]), /ratelimit was exceeded/);
  } finally {
    Object.assign(console, original);
  }
  assert.deepEqual(printed, []);
});
