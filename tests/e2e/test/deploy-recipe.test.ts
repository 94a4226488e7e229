/**
 * The container recipe, checked without a container runtime (the project's CI has none): the
 * Dockerfile builds on exactly the deploy steps that deploy.test.ts runs, and deploy/compose.yaml
 * names only services, files and variables that exist.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { SERVICES, deploySteps, type Service } from "./deploy.js";
import { root } from "./system.js";

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: (op as string).toUpperCase(), args: rest.join(" ") };
    });
}
/** Shell words of a simple command: split on blanks, quotes removed. */
const words = (cmd: string): string[] => cmd.split(/\s+/).map((w) => w.replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1"));

/** The variables a service knows: every `KEY=` (also commented out) of its shipped `.env.example`. */
function variablesOf(service: Service): Set<string> {
  const text = readFileSync(join(root, "apps", service, ".env.example"), "utf8");
  return new Set([...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string));
}
/** `KEY=value` lines of an env file. */
function envFile(path: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1] as string, m[2] as string);
  }
  return out;
}

describe("Dockerfile", () => {
  const steps = instructions(readFileSync(join(root, "Dockerfile"), "utf8"));
  const stages = steps.reduce<Array<typeof steps>>((acc, s) => (s.op === "FROM" ? [...acc, [s]] : (acc[acc.length - 1]?.push(s), acc)), []);

  test("its build stage runs exactly the deploy test's commands, in order", () => {
    const pnpmRuns = steps.filter((s) => s.op === "RUN" && s.args.startsWith("pnpm ")).map((s) => words(s.args).slice(1));
    // `pnpm fetch` only fills the store from the lockfile (a cache layer); it decides nothing.
    const deciding = pnpmRuns.filter((w) => w[0] !== "fetch");
    assert.deepEqual(deciding, deploySteps("${SERVICE}", "/out"));
    assert.ok(steps.some((s) => s.op === "ARG" && s.args === "SERVICE"), "SERVICE is a build argument");
  });

  test("its final stage is node:20-slim running node dist/index.js as a non-root user, with only the deploy folder", () => {
    assert.ok(stages.length >= 2, "multi-stage");
    const last = stages[stages.length - 1] as typeof steps;
    assert.equal(last[0]?.args, "node:20-slim");
    const copies = last.filter((s) => s.op === "COPY");
    assert.deepEqual(copies.map((s) => words(s.args).filter((w) => !w.startsWith("--chown")).join(" ")), ["--from=build /out ./"]);
    const user = last.filter((s) => s.op === "USER").map((s) => s.args);
    assert.equal(user.length, 1);
    assert.ok(!["root", "0"].includes(user[0] as string), "runs as a non-root user");
    assert.deepEqual(JSON.parse(last.find((s) => s.op === "CMD")?.args ?? "null"), ["node", "dist/index.js"]);
  });

  test(".dockerignore keeps installs, builds and .env files out of the context", () => {
    const ignored = readFileSync(join(root, ".dockerignore"), "utf8").split("\n");
    for (const p of ["**/node_modules", "**/dist", "**/.env"]) assert.ok(ignored.includes(p), `.dockerignore has ${p}`);
  });
});

describe("deploy/compose.yaml", () => {
  const dir = join(root, "deploy");
  const compose = parse(readFileSync(join(dir, "compose.yaml"), "utf8"), { merge: true }) as {
    services: Record<string, { build?: { context: string; dockerfile: string; args?: Record<string, string> }; env_file?: string[]; environment?: Record<string, string>; depends_on?: Record<string, unknown>; healthcheck?: { test: string[] } }>;
  };
  const services = compose.services;
  const built = Object.entries(services).filter(([, s]) => s.build);
  const secrets = envFile(join(dir, ".env.example"));

  test("builds each of the five services once, from the root Dockerfile", () => {
    const names = built.map(([, s]) => s.build?.args?.SERVICE).sort();
    assert.deepEqual(names, [...SERVICES].sort());
    for (const [, s] of built) assert.ok(existsSync(join(dir, s.build?.context as string, s.build?.dockerfile as string)), "the Dockerfile exists");
    for (const need of ["postgres", "redis"]) assert.ok(services[need], `compose runs ${need}`);
  });

  test("depends only on services it defines", () => {
    for (const [name, s] of Object.entries(services)) for (const dep of Object.keys(s.depends_on ?? {})) assert.ok(services[dep], `${name} depends on unknown ${dep}`);
  });

  test("every env file exists and sets, like every environment entry, only variables of that service; every ${VAR} is in deploy/.env.example", () => {
    const raw = readFileSync(join(dir, "compose.yaml"), "utf8");
    for (const m of raw.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)) assert.ok(secrets.has(m[1] as string), `${m[1]} is listed in deploy/.env.example`);
    for (const [name, s] of built) {
      const svc = s.build?.args?.SERVICE as Service;
      const known = variablesOf(svc);
      for (const file of s.env_file ?? []) {
        assert.ok(existsSync(join(dir, file)), `${name}: ${file} exists`);
        for (const key of envFile(join(dir, file)).keys()) assert.ok(known.has(key), `${name}: ${file} sets ${key}, not a variable of ${svc}`);
      }
      for (const key of Object.keys(s.environment ?? {})) assert.ok(known.has(key), `${name}: environment sets ${key}, not a variable of ${svc}`);
    }
  });

  test("healthchecks probe each app's /readyz or /healthz on its HEALTH_PORT, and the server's /api/health on its PORT", () => {
    for (const [name, s] of built) {
      const svc = s.build?.args?.SERVICE as Service;
      const env = new Map((s.env_file ?? []).flatMap((f) => [...envFile(join(dir, f))]));
      const probe = (s.healthcheck?.test ?? []).join(" ");
      const url = /http:\/\/127\.0\.0\.1:(\d+)(\/\S*?)['"]/.exec(probe);
      assert.ok(url, `${name} has an HTTP healthcheck`);
      if (svc === "taskmanager-server") {
        assert.equal(url[1], env.get("PORT"));
        assert.equal(url[2], "/api/health");
      } else {
        assert.equal(url[1], env.get("HEALTH_PORT"), `${name} probes its HEALTH_PORT`);
        assert.match(url[2] as string, /^\/(readyz|healthz)$/);
        assert.equal(env.get("HEALTH_HOST") ?? (s.environment ?? {}).HEALTH_HOST, "0.0.0.0", `${name} serves health beyond loopback`);
      }
    }
  });
});
