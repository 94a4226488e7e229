import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { YouTube } from "@prismq/task-types";
import { KEY, TestServer, httpServer, tm, uid } from "./helpers.js";

const VIDEO = YouTube.Video.name;

describe("usage and configuration errors exit 2 and send nothing", () => {
  const env = { TASKMANAGER_API_URL: "http://127.0.0.1:1/api", TASKMANAGER_API_KEY: KEY };

  test("an unknown command names it and lists the commands", async () => {
    const r = await tm(["frobnicate"], { env });
    assert.equal(r.code, 2);
    assert.equal(r.out, "");
    assert.match(r.err, /unknown command "frobnicate"; commands: health, register, types, create, tasks, show, requeue, fail, stats/);
  });

  test("no command prints the help on stderr and exits 2; --help prints it on stdout and exits 0", async () => {
    const none = await tm([], { env });
    assert.equal(none.code, 2);
    assert.match(none.err, /^tm <command>/);
    assert.match(none.err, /missing command/);
    const help = await tm(["--help"], { env: {} });
    assert.equal(help.code, 0);
    assert.match(help.out, /Commands:\n {2}health/);
    assert.match(help.out, /Exit codes: 0 ok, 1 refused/);
  });

  test("every command has its own --help, which needs no configuration", async () => {
    for (const cmd of ["health", "register", "types", "create", "tasks", "show", "requeue", "fail", "stats"]) {
      const r = await tm([cmd, "--help"], { env: {} });
      assert.equal(r.code, 0, cmd);
      assert.ok(r.out.startsWith(`tm ${cmd}`), `${cmd}: ${r.out}`);
      assert.match(r.out, /Example/);
      const viaHelp = await tm(["help", cmd], { env: {} });
      assert.equal(viaHelp.out, r.out);
    }
  });

  test("missing environment names every missing variable", async () => {
    const r = await tm(["health"], { env: {} });
    assert.equal(r.code, 2);
    assert.match(r.err, /TASKMANAGER_API_URL is not set/);
    assert.match(r.err, /TASKMANAGER_API_KEY is not set/);
    const keyOnly = await tm(["tasks"], { env: { TASKMANAGER_API_URL: "http://127.0.0.1:1/api" } });
    assert.equal(keyOnly.code, 2);
    assert.match(keyOnly.err, /^tm tasks: TASKMANAGER_API_KEY is not set \(or give --key-file <path>\)\n/);
    const badUrl = await tm(["health"], { env: { TASKMANAGER_API_URL: "ftp://x", TASKMANAGER_API_KEY: KEY } });
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.err, /TASKMANAGER_API_URL must be an http\(s\) URL/);
  });

  test("a key file that cannot be read is a usage error naming the path", async () => {
    const r = await tm(["health", "--key-file", "/nonexistent/tm-key"], { env: { TASKMANAGER_API_URL: "http://127.0.0.1:1/api" } });
    assert.equal(r.code, 2);
    assert.match(r.err, /--key-file \/nonexistent\/tm-key cannot be read \(ENOENT\)/);
  });

  test("a key on the command line is refused, and not echoed", async () => {
    for (const argv of [["health", "--key", "s3cret-value"], ["health", "--key=s3cret-value"], ["--api-key=s3cret-value", "tasks"]]) {
      const r = await tm(argv, { env });
      assert.equal(r.code, 2, argv.join(" "));
      assert.match(r.err, /is not accepted: a key on the command line leaks into shell history and ps/);
      assert.ok(!r.err.includes("s3cret-value"));
    }
  });

  test("bad JSON params say what is wrong and where they came from", async () => {
    const inline = await tm(["create", VIDEO, "{video_id: 1}"], { env });
    assert.equal(inline.code, 2);
    assert.match(inline.err, /params are not valid JSON \(the params argument\): /);

    const file = await tm(["create", VIDEO, "@/nonexistent/params.json"], { env });
    assert.equal(file.code, 2);
    assert.match(file.err, /cannot read the params file \/nonexistent\/params\.json \(ENOENT\)/);

    const stdin = await tm(["create", VIDEO, "-"], { env, stdin: "[1,2" });
    assert.equal(stdin.code, 2);
    assert.match(stdin.err, /params are not valid JSON \(stdin\)/);

    const array = await tm(["create", VIDEO, "[1]"], { env });
    assert.equal(array.code, 2);
    assert.match(array.err, /params must be a JSON object \(the params argument\), got an array/);
  });

  test("bad flags and arguments name the flag", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["tasks", "--status", "done"], /--status must be one of pending, claimed, completed, failed, got "done"/],
      [["tasks", "--limit", "0"], /--limit must be a positive integer, got "0"/],
      [["tasks", "--priority", "1"], /--priority is not an option of tm tasks/],
      [["show", "abc"], /the task id must be a positive integer, got "abc"/],
      [["show"], /missing argument: tm show <id>/],
      [["health", "extra"], /unexpected argument "extra"/],
      [["create", VIDEO], /missing argument/],
      [["create", VIDEO, '{"video_id":"dQw4w9WgXcQ"}', "--priority", "high"], /--priority must be an integer, got "high"/],
      [["fail", "3"], /tm fail needs --error <text>/],
      [["health", "--bogus"], /Unknown option '--bogus'/],
      [["health", "--timeout", "soon"], /--timeout must be a number of seconds > 0/],
    ];
    for (const [argv, re] of cases) {
      const r = await tm(argv, { env });
      assert.equal(r.code, 2, argv.join(" "));
      assert.equal(r.out, "");
      assert.match(r.err, re, argv.join(" "));
    }
  });

  test("with --json the error is one JSON document on stderr, and stdout stays empty", async () => {
    const r = await tm(["frobnicate", "--json"], { env });
    assert.equal(r.code, 2);
    assert.equal(r.out, "");
    const doc = JSON.parse(r.err) as { error: { exitCode: number; code: string; message: string } };
    assert.deepEqual(doc.error, { exitCode: 2, code: "TM_CLI_USAGE", message: doc.error.message });
    assert.match(doc.error.message, /unknown command/);
  });
});

describe("refusals exit 1, an unreachable server exits 3", () => {
  const server = new TestServer();
  before(async () => {
    await server.start();
  });
  after(async () => {
    await server.destroy();
  });

  test("a create the server refuses (unknown type) exits 1 with the server's error", async () => {
    const type = `Not.Registered.${uid()}`;
    const r = await tm(["create", type, '{"a":1}'], { env: server.env });
    assert.equal(r.code, 1);
    assert.equal(r.out, "");
    assert.equal(r.err, "tm create: Task type not found (HTTP 404)\n");

    const j = await tm(["create", type, '{"a":1}', "--json"], { env: server.env });
    assert.equal(j.code, 1);
    assert.deepEqual(JSON.parse(j.err), { error: { exitCode: 1, code: "TM_ERR_NOT_FOUND", message: "Task type not found", status: 404 } });
  });

  test("a refusal with details lists them", async () => {
    const client = server.client();
    const type = `Test.Strict.${uid()}`;
    await client.registerTaskType({ name: type, version: "1.0.0", paramSchema: { type: "object", required: ["n"], properties: { n: { type: "integer", maximum: 5 } } } });
    await client.close();
    const r = await tm(["create", type, '{"n":9}'], { env: server.env });
    assert.equal(r.code, 1);
    assert.match(r.err, /^tm create: Parameter validation failed/);
  });

  test("a wrong key exits 1 and says which setting to check, without printing any key", async () => {
    const r = await tm(["tasks"], { env: { ...server.env, TASKMANAGER_API_KEY: "wrong-key-0000000000" } });
    assert.equal(r.code, 1);
    assert.match(r.err, /Unauthorized/);
    assert.match(r.err, /hint: check TASKMANAGER_API_KEY/);
    assert.ok(!r.err.includes("wrong-key-0000000000"));
  });

  test("a URL without /api exits 1 and says so", async () => {
    const r = await tm(["tasks"], { env: { ...server.env, TASKMANAGER_API_URL: server.url.replace(/\/api$/, "") } });
    assert.equal(r.code, 1);
    assert.match(r.err, /does TASKMANAGER_API_URL end in \/api\?/);
  });

  test("a stopped server exits 3 for every command", async () => {
    const env = server.env;
    await server.stop();
    try {
      for (const argv of [["health"], ["tasks"], ["show", "1"], ["create", VIDEO, '{"video_id":"dQw4w9WgXcQ"}'], ["register"], ["types"], ["requeue", "1"], ["stats"]]) {
        const r = await tm(argv, { env });
        assert.equal(r.code, 3, `${argv.join(" ")}: ${r.err}`);
        assert.equal(r.out, "");
        assert.match(r.err, /ECONNREFUSED/);
        assert.match(r.err, /hint: the TaskManager is unreachable/);
      }
    } finally {
      await server.start();
    }
  });

  test("a server that does not answer within --timeout exits 3", async () => {
    const hanging = await httpServer(() => {
      // Never answers.
    });
    try {
      const env = { TASKMANAGER_API_URL: hanging.url, TASKMANAGER_API_KEY: KEY };
      const started = Date.now();
      const r = await tm(["stats", "--timeout", "0.2"], { env });
      assert.equal(r.code, 3);
      assert.match(r.err, /no answer within 200 ms/);
      const health = await tm(["health", "--timeout", "0.2"], { env });
      assert.equal(health.code, 3);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      await hanging.close();
    }
  });

  test("a 5xx exits 3 with the server's error", async () => {
    const broken = await httpServer((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ success: false, error: "There is no active transaction" }));
    });
    try {
      const r = await tm(["types"], { env: { TASKMANAGER_API_URL: broken.url, TASKMANAGER_API_KEY: KEY } });
      assert.equal(r.code, 3);
      assert.match(r.err, /Server error 500: There is no active transaction/);
      assert.match(r.err, /use tm types <name>/);
    } finally {
      await broken.close();
    }
  });
});
