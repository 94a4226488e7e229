import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";

/**
 * The JSON types a param schema may name. No `number`: the hosted service
 * counts a whole number as `integer` and rejects it for `number`, so whole
 * values are `integer` and fractional values have no portable type.
 */
export type ParamSchemaType = "object" | "array" | "string" | "integer" | "boolean" | "null";

/**
 * A JSON Schema restricted to the subset the hosted TaskManager validates,
 * so that a schema means the same on both servers.
 */
export interface ParamSchema {
  /** One type, never a list. */
  readonly type: ParamSchemaType;
  /** Property names that must be present (objects). */
  readonly required?: readonly string[];
  /** Schemas of the allowed properties (objects). */
  readonly properties?: { readonly [name: string]: ParamSchema };
  /** Always `false` on objects: an unknown field is an error, not silently kept. */
  readonly additionalProperties?: false;
  /** Schema of every element (arrays). */
  readonly items?: ParamSchema;
  /** Shortest length in characters (strings). */
  readonly minLength?: number;
  /** Longest length in characters (strings). */
  readonly maxLength?: number;
  /** ECMAScript regular expression the whole value must match (strings); anchor it with `^…$`. */
  readonly pattern?: string;
  /** Smallest value, inclusive (integers). */
  readonly minimum?: number;
  /** Largest value, inclusive (integers). */
  readonly maximum?: number;
  /** Fewest elements (arrays). */
  readonly minItems?: number;
  /** Most elements (arrays). */
  readonly maxItems?: number;
  /** The allowed values. */
  readonly enum?: readonly (string | number | boolean | null)[];
}

/** Every keyword of the hosted subset. */
export const HOSTED_SCHEMA_KEYWORDS: readonly string[] = Object.freeze([
  "type",
  "required",
  "properties",
  "additionalProperties",
  "items",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "minItems",
  "maxItems",
  "enum",
]);

const TYPES = new Set<string>(["object", "array", "string", "integer", "boolean", "null"]);
const KEYWORDS = new Set(HOSTED_SCHEMA_KEYWORDS);

/** Problems that keep a schema out of the hosted subset; empty when it keeps to it. */
export function hostedSchemaProblems(schema: unknown, at = "schema"): string[] {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return [`${at} must be an object`];
  const s = schema as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(s)) if (!KEYWORDS.has(key)) problems.push(`${at}.${key} is outside the hosted subset`);
  if (s.type === "number") {
    problems.push(`${at}.type is "number", which the hosted service refuses for whole numbers (they count as integer): use "integer"`);
  } else if (typeof s.type !== "string" || !TYPES.has(s.type)) {
    problems.push(`${at}.type must be one of ${[...TYPES].join(", ")}`);
  }
  const props = (s.properties ?? {}) as Record<string, unknown>;
  if (s.type === "object") {
    if (s.additionalProperties !== false) problems.push(`${at}.additionalProperties must be false`);
    for (const name of (s.required ?? []) as string[]) {
      if (!Object.hasOwn(props, name)) problems.push(`${at}.required names ${name}, which is not in properties`);
    }
  }
  // Every subschema, whatever the type beside it, so no "number" hides anywhere.
  if (props !== null && typeof props === "object") {
    for (const [name, sub] of Object.entries(props)) problems.push(...hostedSchemaProblems(sub, `${at}.properties.${name}`));
  }
  if (s.items !== undefined) problems.push(...hostedSchemaProblems(s.items, `${at}.items`));
  return problems;
}

// The same options as our server, so a schema compiles and judges alike on both sides.
let ajv: Ajv | undefined;
function compiler(): Ajv {
  ajv ??= new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictTuples: false, addUsedSchema: false });
  return ajv;
}

/** Compiles a schema to a validator (callers cache it: one compile per task type). */
export function compileSchema(schema: ParamSchema): ValidateFunction {
  return compiler().compile(schema as object);
}

/** The outcome of validating params: the fields at fault and one line per problem. */
export interface SchemaProblems {
  details: string[];
  fields: string[];
}

/** Turns ajv errors into lines that each start with the field at fault. */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined): SchemaProblems {
  const details: string[] = [];
  const fields: string[] = [];
  for (const e of errors ?? []) {
    let field = fieldOf(e.instancePath);
    let line: string;
    if (e.keyword === "required") {
      field = join(field, String((e.params as { missingProperty: string }).missingProperty));
      line = `${field} is required`;
    } else if (e.keyword === "additionalProperties") {
      field = join(field, String((e.params as { additionalProperty: string }).additionalProperty));
      line = `${field} is not an allowed field`;
    } else if (e.keyword === "enum") {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ");
      line = `${field} must be one of ${allowed} (got ${preview(e.data)})`;
    } else {
      line = `${field} ${e.message ?? "is invalid"} (got ${preview(e.data)})`;
    }
    if (!details.includes(line)) details.push(line);
    if (!fields.includes(field)) fields.push(field);
  }
  return { details, fields };
}

function fieldOf(instancePath: string): string {
  if (instancePath === "") return "params";
  return instancePath
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
}

function join(parent: string, name: string): string {
  return parent === "params" ? name : `${parent}.${name}`;
}

function preview(value: unknown): string {
  const text = value === undefined ? "undefined" : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
