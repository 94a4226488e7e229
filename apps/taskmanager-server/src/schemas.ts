import { Ajv, type Options, type ValidateFunction } from "ajv";
import type { Logger } from "pino";
import { RE2JS } from "re2js";
import { badRequest } from "./errors.js";
import type { Store } from "./store/types.js";

/**
 * Bounds on a task type's `param_schema`, checked at register (400 `Invalid param_schema: …`) and
 * before a stored schema is first used. Together they keep every compile and every validation of
 * params (at most 64 KiB of JSON) bounded in time and memory, whatever the schema.
 */
export const SCHEMA_LIMITS = Object.freeze({
  /** Largest schema, in bytes of compact JSON. */
  maxBytes: 64 * 1024,
  /** Most subschemas (objects or booleans in schema positions) in the schema as written; ajv's compile time grows faster than linearly with it. */
  maxSubschemas: 300,
  /** Most regular expressions: `pattern` keywords plus `patternProperties` keys. */
  maxPatterns: 64,
  /** Largest RE2 program (instructions) of one regular expression; `{1,255}` alone costs about 510. */
  maxPatternProgram: 1000,
  /** Largest sum of the RE2 program sizes of all the distinct regular expressions (their compile time: about 30 µs per instruction). */
  maxPatternProgramTotal: 2000,
  /** Most subschemas once every `$ref` is expanded in place (counted with memoisation, never expanded). */
  maxExpandedSubschemas: 5000,
  /** Largest sum of RE2 program sizes over the expanded schema: bounds the regex work per character of params. */
  maxExpandedPatternProgram: 1000,
});

/** Most elements in any one array of `params`, checked before schema validation (`uniqueItems` is quadratic). */
export const MAX_PARAM_ARRAY_ITEMS = 1000;

/** Compiled validators (and refusals of stored schemas) kept, least recently used dropped first. */
export const VALIDATOR_CACHE_SIZE = 256;

// The same options as `@prismq/task-types`, so a schema judges alike on both sides.
const AJV_OPTIONS: Options = { allErrors: true, strict: true, strictTypes: false, strictTuples: false, addUsedSchema: false };

/** Longest regular expression, in characters; read before anything else is done with it. */
const MAX_PATTERN_LENGTH = 4096;

/**
 * How a subschema applies, relative to the data of the schema that holds it: to the same value
 * (`here`), to one member value of an object or one element of an array (`member`/`element`:
 * siblings of the same kind apply to different values; `Max` marks those of which only one applies
 * to a given value, `Sum` those that may all apply to it), or to the property names (`key`).
 */
type Applies = "here" | "memberMax" | "memberSum" | "elementMax" | "elementSum" | "key";

/** Keywords whose value is one subschema. */
const ONE_SCHEMA: Record<string, Applies> = {
  not: "here",
  if: "here",
  then: "here",
  else: "here",
  additionalProperties: "memberSum",
  unevaluatedProperties: "memberSum",
  items: "elementSum",
  additionalItems: "elementSum",
  contains: "elementSum",
  unevaluatedItems: "elementSum",
  propertyNames: "key",
};
/** Keywords whose value is an array of subschemas. */
const SCHEMA_ARRAYS: Record<string, Applies> = { allOf: "here", anyOf: "here", oneOf: "here", prefixItems: "elementMax", items: "elementMax" };
/** Keywords whose value maps names to subschemas; `null`: they apply only where referenced. */
const SCHEMA_MAPS: Record<string, Applies | null> = {
  properties: "memberMax",
  patternProperties: "memberSum",
  dependentSchemas: "here",
  dependencies: "here",
  definitions: null,
  $defs: null,
};

/** A schema refused by the bounds above; `message` names the keyword and the JSON pointer. */
class SchemaRefusal extends Error {}

const refuse = (keyword: string, at: string, why: string): never => {
  throw new SchemaRefusal(`${keyword} at ${at}: ${why}`);
};

const isSchema = (v: unknown): v is Record<string, unknown> | boolean =>
  typeof v === "boolean" || (v !== null && typeof v === "object" && !Array.isArray(v));

const escapePointer = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");

interface SchemaNode {
  /** Subschemas that apply to this one's data or to values inside it, and how. */
  edges: Array<{ to: string; applies: Applies }>;
  /** Pointer of the `$ref` target, when this subschema has one (also among `edges`, as `here`). */
  ref?: string;
  /** RE2 program size of this subschema's `pattern` (applied to a string value). */
  pattern: number;
  /** Sum of the RE2 program sizes of its `patternProperties` keys (each applied to every property name). */
  keyPatterns: number;
}

/** What the analysis keeps for the compile: every regular expression, compiled once. */
interface Analysis {
  patterns: Map<string, RE2JS>;
}

/**
 * An upper bound on the RE2 program size of `source` (in RE2 syntax), read without compiling, so
 * that a pattern such as `(a{1000}){1000}`-like chains is refused before it costs seconds to compile.
 * Generous on purpose: every atom counts 1, a group 3 more, `|` 1, `*`, `+`, `?` 2, and `{n,m}`
 * repeats its atom (plus two) `max(n, m)` times (once more when unbounded).
 */
export function estimatePatternProgram(source: string): number {
  const frames: number[] = [0];
  const lastAtom: number[] = [0];
  let i = 0;
  const add = (n: number) => {
    frames[frames.length - 1]! += n;
    lastAtom[lastAtom.length - 1] = n;
  };
  while (i < source.length) {
    const c = source[i]!;
    if (c === "\\") {
      const next = source[i + 1];
      if ((next === "x" || next === "p" || next === "P") && source[i + 2] === "{") {
        const close = source.indexOf("}", i + 3);
        i = close === -1 ? source.length : close + 1;
      } else {
        i += 2;
      }
      add(1);
    } else if (c === "[") {
      let j = i + 1;
      if (source[j] === "^") j++;
      if (source[j] === "]") j++;
      while (j < source.length && source[j] !== "]") {
        if (source[j] === "\\") j++;
        else if (source[j] === "[" && source[j + 1] === ":") {
          const close = source.indexOf(":]", j + 2);
          if (close !== -1) j = close + 1;
        }
        j++;
      }
      i = j + 1;
      add(1);
    } else if (c === "(") {
      i++;
      if (source[i] === "?") {
        const close = source.slice(i, i + 300).search(/[:)>]/);
        const end = close === -1 ? source.length : i + close;
        if (source[end] === ")") {
          // A flag group such as (?i): no group opens.
          i = end + 1;
          continue;
        }
        i = end + 1;
      }
      frames.push(0);
      lastAtom.push(0);
    } else if (c === ")") {
      i++;
      if (frames.length > 1) {
        const inner = frames.pop()!;
        lastAtom.pop();
        add(inner + 3);
      }
    } else if (c === "|") {
      i++;
      frames[frames.length - 1]! += 1;
      lastAtom[lastAtom.length - 1] = 0;
    } else if (c === "*" || c === "+" || c === "?") {
      i++;
      frames[frames.length - 1]! += 2;
      // A repeat of a repeat (RE2 takes `a*(?i)*`) repeats the whole.
      lastAtom[lastAtom.length - 1]! += 2;
    } else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i, i + 16));
      if (m) {
        const n = Number(m[1]);
        const max = m[3] ? Number(m[3]) : n;
        const times = Math.max(n, max) + (m[2] !== undefined && !m[3] ? 1 : 0);
        const atom = lastAtom[lastAtom.length - 1]!;
        const repeated = (atom + 2) * times + 2;
        frames[frames.length - 1]! += repeated - atom;
        lastAtom[lastAtom.length - 1] = repeated;
        i += m[0].length;
      } else {
        i++;
        add(1);
      }
    } else {
      i++;
      add(1);
    }
  }
  let total = 0;
  for (const f of frames) total += f;
  return total + 4;
}

function compilePattern(source: string, keyword: string, at: string, budget = { left: Infinity }): RE2JS {
  if (source.length > MAX_PATTERN_LENGTH) refuse(keyword, at, `regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
  let translated: string;
  try {
    translated = RE2JS.translateRegExp(source);
  } catch (err) {
    return refuse(keyword, at, `not a regular expression RE2 can run (${(err as Error).message})`);
  }
  const estimate = estimatePatternProgram(translated);
  if (estimate > SCHEMA_LIMITS.maxPatternProgram) {
    return refuse(keyword, at, `regular expression too complex (more than ${SCHEMA_LIMITS.maxPatternProgram} RE2 instructions)`);
  }
  budget.left -= estimate;
  if (budget.left < 0) {
    refuse(keyword, at, `regular expressions of more than ${SCHEMA_LIMITS.maxPatternProgramTotal} RE2 instructions in all in one schema`);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(translated);
  } catch (err) {
    return refuse(keyword, at, `not a regular expression RE2 can run (${(err as Error).message}); RE2 has no backreferences or lookaround`);
  }
  if (re.programSize() > SCHEMA_LIMITS.maxPatternProgram) {
    return refuse(keyword, at, `regular expression too complex (more than ${SCHEMA_LIMITS.maxPatternProgram} RE2 instructions)`);
  }
  return re;
}

/** Walks the schema positions of `root`: refuses what cannot be validated synchronously and in bounded time. */
function analyse(root: Record<string, unknown>): Analysis {
  const nodes = new Map<string, SchemaNode>();
  const patterns = new Map<string, RE2JS>();
  let patternCount = 0;
  const budget = { left: SCHEMA_LIMITS.maxPatternProgramTotal };
  const pattern = (source: string, keyword: string, at: string): number => {
    if (++patternCount > SCHEMA_LIMITS.maxPatterns) refuse(keyword, at, `more than ${SCHEMA_LIMITS.maxPatterns} regular expressions in one schema`);
    let re = patterns.get(source);
    if (!re) {
      re = compilePattern(source, keyword, at, budget);
      patterns.set(source, re);
    }
    return re.programSize();
  };

  const todo: Array<[string, unknown]> = [["#", root]];
  while (todo.length) {
    const [at, schema] = todo.pop()!;
    const node: SchemaNode = { edges: [], pattern: 0, keyPatterns: 0 };
    nodes.set(at, node);
    if (nodes.size > SCHEMA_LIMITS.maxSubschemas) refuse("schema", at, `more than ${SCHEMA_LIMITS.maxSubschemas} subschemas`);
    if (typeof schema === "boolean") continue;
    const s = schema as Record<string, unknown>;
    if (Object.hasOwn(s, "$async") && s.$async !== false) refuse("$async", at, "asynchronous validation is not supported");
    if (Object.hasOwn(s, "$id") && at !== "#") refuse("$id", at, "only the root schema may have an $id");
    if (Object.hasOwn(s, "$ref") && typeof s.$ref === "string") {
      const ref = s.$ref;
      if (ref !== "#" && !ref.startsWith("#/")) refuse("$ref", at, `only local references (#/…) are supported, got ${JSON.stringify(ref.slice(0, 100))}`);
      node.ref = "#" + ref.slice(1).split("/").slice(1).map((seg) => {
        let key: string;
        try {
          key = decodeURIComponent(seg);
        } catch {
          return refuse("$ref", at, "malformed percent-encoding");
        }
        return "/" + escapePointer(key.replace(/~1/g, "/").replace(/~0/g, "~"));
      }).join("");
      node.edges.push({ to: node.ref, applies: "here" });
    }
    if (typeof s.pattern === "string") node.pattern = pattern(s.pattern, "pattern", `${at}/pattern`);
    const push = (path: string, sub: unknown, applies: Applies | null) => {
      if (!isSchema(sub)) return;
      if (applies) node.edges.push({ to: path, applies });
      todo.push([path, sub]);
    };
    for (const [keyword, applies] of Object.entries(ONE_SCHEMA)) if (Object.hasOwn(s, keyword)) push(`${at}/${keyword}`, s[keyword], applies);
    for (const [keyword, applies] of Object.entries(SCHEMA_ARRAYS)) {
      const list = s[keyword];
      if (Object.hasOwn(s, keyword) && Array.isArray(list)) list.forEach((sub, k) => push(`${at}/${keyword}/${k}`, sub, applies));
    }
    for (const [keyword, applies] of Object.entries(SCHEMA_MAPS)) {
      const map = s[keyword];
      if (!Object.hasOwn(s, keyword) || !isSchema(map) || typeof map === "boolean") continue;
      for (const [name, sub] of Object.entries(map)) {
        const path = `${at}/${keyword}/${escapePointer(name)}`;
        if (keyword === "patternProperties") node.keyPatterns += pattern(name, "patternProperties", path);
        push(path, sub, applies);
      }
    }
  }
  checkExpansion(nodes);
  return { patterns };
}

/**
 * Sizes the schema as if every `$ref` were replaced by its target, with memoisation (so an
 * exponential chain costs linear time to size), refusing a recursive reference and a size over
 * the limits. Two sizes: the subschemas (all of them: the validation work per value), and the
 * RE2 program that may run over one string (the regex work per character of params), where
 * subschemas applying to different values (two properties, an element and a key) do not add up.
 */
function checkExpansion(nodes: Map<string, SchemaNode>): void {
  const size = new Map<string, number>();
  const program = new Map<string, number>();
  const onPath = new Set<string>();
  const limit = SCHEMA_LIMITS.maxExpandedSubschemas;
  const programLimit = SCHEMA_LIMITS.maxExpandedPatternProgram;
  const stack: Array<{ at: string; entered: boolean }> = [{ at: "#", entered: false }];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const node = nodes.get(top.at)!;
    if (!top.entered) {
      top.entered = true;
      onPath.add(top.at);
      for (const { to } of node.edges) {
        if (!nodes.has(to)) refuse("$ref", top.at, `${to} is not a subschema of this schema`);
        if (onPath.has(to)) refuse("$ref", top.at, `recursive reference (through ${to})`);
        if (!size.has(to)) stack.push({ at: to, entered: false });
      }
      continue;
    }
    stack.pop();
    onPath.delete(top.at);
    if (size.has(top.at)) continue;
    let total = 1;
    const sums: Record<Applies, number> = { here: 0, memberMax: 0, memberSum: 0, elementMax: 0, elementSum: 0, key: node.keyPatterns };
    for (const { to, applies } of node.edges) {
      total = Math.min(total + size.get(to)!, limit + 1);
      const p = program.get(to)!;
      sums[applies] = applies.endsWith("Max") ? Math.max(sums[applies], p) : Math.min(sums[applies] + p, programLimit + 1);
    }
    const regex = Math.min(sums.here + Math.max(node.pattern, sums.memberMax + sums.memberSum, sums.elementMax + sums.elementSum, sums.key), programLimit + 1);
    if (total > limit || regex > programLimit) {
      // Name the keyword that brings in the most: this node's own $ref, or the child keyword above it.
      const measure = total > limit ? size : program;
      let keyword = total > limit || node.pattern === 0 ? "schema" : "pattern";
      let most = 0;
      for (const { to } of node.edges) {
        if (measure.get(to)! > most) {
          most = measure.get(to)!;
          keyword = to === node.ref ? "$ref" : to.slice(top.at.length + 1).split("/", 1)[0]!;
        }
      }
      if (total > limit) refuse(keyword, top.at, `more than ${limit} subschemas once $ref references are expanded`);
      refuse(keyword, top.at, `regular expressions of more than ${programLimit} RE2 instructions in all could run over one string`);
    }
    size.set(top.at, total);
    program.set(top.at, regex);
  }
}

/** The JSON path (`params.a.0`) of the first array of `params` longer than {@link MAX_PARAM_ARRAY_ITEMS}, and its length. */
export function oversizedParamArray(params: unknown): { path: string; length: number } | null {
  const todo: Array<[unknown, string]> = [[params, "params"]];
  while (todo.length) {
    const [value, path] = todo.pop()!;
    if (value === null || typeof value !== "object") continue;
    if (Array.isArray(value)) {
      if (value.length > MAX_PARAM_ARRAY_ITEMS) return { path, length: value.length };
      value.forEach((v, k) => todo.push([v, `${path}.${k}`]));
    } else {
      for (const [k, v] of Object.entries(value)) todo.push([v, `${path}.${k}`]);
    }
  }
  return null;
}

type Entry = { validate: ValidateFunction; ajv: Ajv } | { refused: string };

/**
 * Checks and compiles task-type param schemas and caches the validators by schema text, so that
 * each schema is compiled once per process and a re-registered schema (from any server node) is
 * picked up at once.
 *
 * Bounded: schemas must keep to {@link SCHEMA_LIMITS}; every `pattern` and `patternProperties`
 * key runs on RE2 (linear time); each schema is compiled by an ajv instance of its own, which
 * lives exactly as long as its entry in the cache of {@link VALIDATOR_CACHE_SIZE} entries, so
 * neither rejected nor evicted schemas leave anything behind in ajv.
 */
export class SchemaCache {
  /** Validates schemas against the meta-schema only; it never compiles or keeps a param schema. */
  private readonly meta = new Ajv(AJV_OPTIONS);
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = VALIDATOR_CACHE_SIZE) {}

  /** Compiles a candidate schema; a 400 naming the problem (and the keyword and path) when it is refused. */
  check(schema: unknown): string {
    let value = schema;
    if (typeof value === "string") {
      try {
        value = JSON.parse(value);
      } catch {
        throw badRequest("Invalid JSON schema format: param_schema is a string that is not JSON");
      }
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw badRequest("Validation failed", ["param_schema: must be a JSON Schema object"]);
    }
    if (!("type" in value)) throw badRequest('JSON schema must have a "type" property');
    const text = JSON.stringify(value);
    // Refused before the cache: an oversized text is neither hashed as a key nor kept.
    const bytes = Buffer.byteLength(text);
    if (bytes > SCHEMA_LIMITS.maxBytes) throw badRequest(`Invalid param_schema: schema at #: ${bytes} bytes of JSON, at most ${SCHEMA_LIMITS.maxBytes}`);
    const entry = this.entry(text);
    if ("refused" in entry) throw badRequest(`Invalid param_schema: ${entry.refused}`);
    return text;
  }

  /** Why this server refuses a stored schema, or `null` when it accepts it. Nothing is cached. */
  problem(schemaText: string): string | null {
    const entry = this.build(schemaText);
    return "refused" in entry ? entry.refused : null;
  }

  /** Validates params against a stored schema; a 400 `Parameter validation failed: …` listing every reason. */
  validate(schemaText: string, params: unknown): void {
    const entry = this.entry(schemaText);
    if ("refused" in entry) {
      throw badRequest(`Task type has a param_schema this server refuses (Invalid param_schema: ${entry.refused}); register the type again with a supported schema`);
    }
    const { validate } = entry;
    const valid: unknown = validate(params);
    if (valid === true) return;
    if (valid !== false) throw badRequest("Task type has a param_schema that cannot be validated synchronously; register the type again");
    const reasons = (validate.errors ?? []).map((e) => {
      const where = e.instancePath ? `params${e.instancePath.replace(/\//g, ".")}` : "params";
      const extra = e.keyword === "additionalProperties" ? ` ('${String(e.params.additionalProperty)}')` : "";
      return `${where} ${e.message ?? "is invalid"}${extra}`;
    });
    throw badRequest(`Parameter validation failed: ${reasons.join(", ")}`, reasons);
  }

  /**
   * What the cache holds, for tests and diagnostics: cached entries, live ajv instances and the
   * schemas those instances keep in ajv's own caches (the meta-schema checker included).
   */
  stats(): { entries: number; ajvInstances: number; ajvCachedSchemas: number } {
    const held = (ajv: Ajv) => {
      const internals = ajv as unknown as { _cache: Map<unknown, unknown>; schemas: object; refs: object };
      return internals._cache.size + Object.keys(internals.schemas).length + Object.keys(internals.refs).length;
    };
    let ajvInstances = 1;
    let ajvCachedSchemas = held(this.meta);
    for (const entry of this.entries.values()) {
      if ("ajv" in entry) {
        ajvInstances++;
        ajvCachedSchemas += held(entry.ajv);
      }
    }
    return { entries: this.entries.size, ajvInstances, ajvCachedSchemas };
  }

  private entry(text: string): Entry {
    let entry = this.entries.get(text);
    if (entry) {
      // Most recently used last.
      this.entries.delete(text);
    } else {
      entry = this.build(text);
    }
    this.entries.set(text, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return entry;
  }

  private build(text: string): Entry {
    if (Buffer.byteLength(text) > SCHEMA_LIMITS.maxBytes) {
      return { refused: `schema at #: ${Buffer.byteLength(text)} bytes of JSON, at most ${SCHEMA_LIMITS.maxBytes}` };
    }
    let schema: unknown;
    try {
      schema = JSON.parse(text);
    } catch {
      return { refused: "schema at #: not JSON" };
    }
    try {
      if (!this.meta.validateSchema(schema as object)) {
        return { refused: `schema is invalid: ${this.meta.errorsText(this.meta.errors)}` };
      }
    } catch (err) {
      return { refused: (err as Error).message };
    }
    if (!isSchema(schema) || typeof schema === "boolean") return { refused: "schema at #: must be a JSON Schema object" };
    let analysis: Analysis;
    try {
      analysis = analyse(schema);
    } catch (err) {
      if (err instanceof SchemaRefusal) return { refused: err.message };
      throw err;
    }
    const regExp = Object.assign(
      (source: string) => analysis.patterns.get(source) ?? compilePattern(source, "pattern", "#"),
      { code: "re2" },
    );
    const ajv = new Ajv({ ...AJV_OPTIONS, validateSchema: false, code: { regExp } });
    try {
      return { validate: ajv.compile(schema), ajv };
    } catch (err) {
      return { refused: (err as Error).message };
    }
  }
}

/**
 * Logs one warning listing the stored task types whose schema this server refuses (stored by an
 * older server): they are kept, and a create of one answers 400 until it is registered again.
 */
export async function warnRefusedStoredTypes(store: Pick<Store, "listTaskTypes">, schemas: SchemaCache, logger: Logger): Promise<void> {
  try {
    const refused = [];
    const PAGE = 1000;
    for (let offset = 0; ; offset += PAGE) {
      const page = await store.listTaskTypes({ activeOnly: false, limit: PAGE, offset });
      for (const type of page) {
        const reason = schemas.problem(type.paramSchema);
        if (reason !== null) refused.push({ name: type.name, version: type.version, reason });
      }
      if (page.length < PAGE) break;
    }
    if (refused.length === 0) return;
    logger.warn(
      { refusedTaskTypes: refused },
      `${refused.length} stored task type(s) have a param_schema this server refuses: ${refused.map((t) => t.name).join(", ")}; ` +
        "they are kept, and creating their tasks answers 400 until each is registered again with a supported schema",
    );
  } catch (err) {
    logger.error({ err }, "could not check the stored task types' schemas");
  }
}
