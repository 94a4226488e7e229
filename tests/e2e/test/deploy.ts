/**
 * Deploying one service: the commands the Dockerfile runs and the deploy test runs, and what a
 * deploy folder holds. `deploy/README.md` describes the recipe; this file is its one source in tests.
 */
import { spawn } from "node:child_process";
import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { APPS, root } from "./system.js";

/** The five services: the TaskManager server and the four apps. */
export const SERVICES = ["taskmanager-server", ...APPS] as const;
export type Service = (typeof SERVICES)[number];

/**
 * The build steps, in order, as argv of `pnpm`: install from the lockfile, build everything,
 * then copy one service with its production dependencies only into `out`. The Dockerfile must
 * run exactly these (deploy.test.ts parses it).
 */
export function deploySteps(service: string, out: string): string[][] {
  return [["install", "--frozen-lockfile"], ["build"], ["--filter", `@prismq/${service}`, "deploy", "--prod", out]];
}

/** Runs `pnpm <args>` at the repository root; answers its exit code and output. */
export function pnpm(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn("pnpm", args, { cwd: root, env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    p.stdout.on("data", (d: Buffer) => (output += d.toString()));
    p.stderr.on("data", (d: Buffer) => (output += d.toString()));
    p.on("error", (err) => resolve({ code: -1, output: `${output}\n${err.message}` }));
    p.on("close", (code) => resolve({ code, output }));
  });
}

/** The package directories in a deploy's virtual store (`node_modules/.pnpm`), e.g. `fastify@5.6.2`. */
export function storeEntries(dir: string): string[] {
  const store = join(dir, "node_modules", ".pnpm");
  return existsSync(store) ? readdirSync(store).filter((n) => n !== "node_modules" && !n.startsWith(".") && !n.endsWith(".yaml")) : [];
}

/** Whether the deploy holds the npm package `name` (any version), e.g. `fastify` or `@prismq/idea-store`. */
export function holds(entries: string[], name: string): boolean {
  const prefix = `${name.replace("/", "+")}@`;
  return entries.some((e) => e.startsWith(prefix));
}

/** Every symbolic link under `dir` whose target lies outside `dir` (a deploy must point nowhere else). */
export function linksOutside(dir: string): string[] {
  const real = realpathSync(dir);
  const out: string[] = [];
  for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, rel);
    if (!lstatSync(path).isSymbolicLink()) continue;
    let target: string;
    try {
      target = realpathSync(path);
    } catch {
      out.push(`${rel} (dangling)`);
      continue;
    }
    if (target !== real && !target.startsWith(real + sep)) out.push(`${rel} -> ${target}`);
  }
  return out;
}

/** `.env.example` of a deploy with `values` put in: a line `KEY=…` of a given key is replaced, other keys are added. */
export function writeEnvFile(dir: string, values: Record<string, string>): string {
  const left = new Map(Object.entries(values));
  const lines = readFileSync(join(dir, ".env.example"), "utf8")
    .split("\n")
    .map((line) => {
      const key = /^([A-Z0-9_]+)=/.exec(line)?.[1];
      if (key === undefined || !left.has(key)) return line;
      const value = left.get(key) as string;
      left.delete(key);
      return `${key}=${value}`;
    });
  const text = [...lines, ...[...left].map(([k, v]) => `${k}=${v}`)].join("\n");
  const file = join(dir, ".env");
  writeFileSync(file, text.endsWith("\n") ? text : `${text}\n`);
  return file;
}

/** `path` relative to the repository root, or null when it lies outside the repository. */
export function insideRepo(path: string): string | null {
  const rel = relative(root, path);
  return rel.startsWith("..") || rel === path ? null : rel;
}
