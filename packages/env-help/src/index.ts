/**
 * One source for a service's settings: the zod schema that parses its
 * environment also writes its `--help` text and the table in its README.
 * A variable's meaning is its `.describe()` text; its default is what the
 * schema makes of the variable when it is unset.
 */

import type { z } from "zod";

/** An environment schema's fields, by variable name (a zod raw shape, or an object schema's `shape`). */
export type EnvShape = Readonly<Record<string, z.ZodType>>;

/** One variable as `--help` and the README show it. */
export interface EnvRow {
  /** The variable's name, as the environment spells it. */
  name: string;
  /** The default written as a variable would hold it; `"(required)"` when there is none and the variable must be set, `""` when unset is fine. */
  default: string;
  /** The `.describe()` text. */
  meaning: string;
}

/** The description of `schema` or of the schema it wraps (optional, default, pipe...), innermost last. */
function describe(schema: z.ZodType): string | undefined {
  let s: z.ZodType | undefined = schema;
  for (let depth = 0; s && depth < 10; depth++) {
    if (s.description) return s.description;
    const def = s._zod.def as unknown as Record<string, unknown>;
    s = (def.innerType ?? def.in ?? def.schema) as z.ZodType | undefined;
  }
  return undefined;
}

function show(value: unknown): string {
  if (value === undefined) return "";
  if (Array.isArray(value)) return value.map(String).join(",");
  if (typeof value === "number") return String(value);
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

/**
 * The rows of `shape`, in its order. Throws when a variable has no
 * description: every setting says what it means.
 */
export function envRows(shape: EnvShape): EnvRow[] {
  return Object.entries(shape).map(([name, schema]) => {
    const meaning = describe(schema);
    if (!meaning) throw new Error(`${name} has no description: add .describe("...") to its schema`);
    const unset = schema.safeParse(undefined);
    return { name, default: unset.success ? show(unset.data) : "(required)", meaning: meaning.replace(/\s+/g, " ").trim() };
  });
}

/** What {@link helpText} prints around the variables. */
export interface HelpOptions {
  /** The service's name, first on the first line. */
  service: string;
  /** One sentence: what the service does. */
  summary: string;
  /**
   * The usage line after `Usage: `.
   * @defaultValue `"node dist/index.js [--help]"`
   */
  usage?: string;
  /**
   * Extra lines printed after the variables (where to read more).
   * @defaultValue none (nothing after the variables)
   */
  footer?: string;
}

/** The `--help` text: what the service does, how to start it, and every variable with its default and meaning. */
export function helpText(shape: EnvShape, options: HelpOptions): string {
  const rows = envRows(shape);
  const nameWidth = Math.max(8, ...rows.map((r) => r.name.length));
  const defWidth = Math.min(24, Math.max(7, ...rows.map((r) => r.default.length)));
  const lines = [
    `${options.service}: ${options.summary}`,
    "",
    `Usage: ${options.usage ?? "node dist/index.js [--help]"}`,
    "",
    "Settings are environment variables (put them in a .env file and start with node --env-file=.env):",
    "",
    `  ${"VARIABLE".padEnd(nameWidth)}  ${"DEFAULT".padEnd(defWidth)}  MEANING`,
  ];
  for (const r of rows) {
    const def = r.default || "-";
    // A long default gets its own line, so the meanings stay in one column.
    if (def.length > defWidth) lines.push(`  ${r.name.padEnd(nameWidth)}  ${def}`, `  ${"".padEnd(nameWidth)}  ${"".padEnd(defWidth)}  ${r.meaning}`);
    else lines.push(`  ${r.name.padEnd(nameWidth)}  ${def.padEnd(defWidth)}  ${r.meaning}`);
  }
  if (options.footer) lines.push("", options.footer);
  return `${lines.join("\n")}\n`;
}

const cell = (text: string) => text.replace(/\|/g, "\\|");

/** The Markdown table of `shape`'s variables, as each README holds it between {@link ENV_TABLE_START} and {@link ENV_TABLE_END}. */
export function envTable(shape: EnvShape): string {
  const shown = (d: string) => (d === "" || d === "(required)" ? d : `\`${cell(d)}\``);
  const rows = envRows(shape).map((r) => `| \`${r.name}\` | ${shown(r.default)} | ${cell(r.meaning)} |`);
  return ["| Variable | Default | Meaning |", "|---|---|---|", ...rows].join("\n");
}

/** The line before the generated table in a README. */
export const ENV_TABLE_START = "<!-- env-table:start (generated from src/config.ts: edit the schema, then paste `envTable`'s output) -->";
/** The line after the generated table in a README. */
export const ENV_TABLE_END = "<!-- env-table:end -->";

/** The table between the markers of a README's text, trimmed; `undefined` when the markers are missing. */
export function readmeEnvTable(readme: string): string | undefined {
  const start = readme.indexOf(ENV_TABLE_START);
  const end = readme.indexOf(ENV_TABLE_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + ENV_TABLE_START.length, end).trim();
}

/** `readme` with the text between its markers replaced by `table` (the markers must be there). */
export function withEnvTable(readme: string, table: string): string {
  const start = readme.indexOf(ENV_TABLE_START);
  const end = readme.indexOf(ENV_TABLE_END);
  if (start < 0 || end < start) throw new Error("the README has no env-table markers");
  return `${readme.slice(0, start + ENV_TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}

/** True when the command line asks for help (`--help` or `-h`). */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}
