import { Ajv, type ValidateFunction } from "ajv";
import { badRequest } from "./errors.js";

/**
 * Compiles task-type param schemas with ajv and caches the validators by
 * schema text, so that each schema is compiled once per process and a
 * re-registered schema (from any server node) is picked up at once.
 */
export class SchemaCache {
  private readonly ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, addUsedSchema: false });
  private readonly validators = new Map<string, ValidateFunction>();

  /** Compiles a candidate schema; a 400 naming the problem when it is not a valid JSON Schema. */
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
    this.compile(text, true);
    return text;
  }

  /** Validates params against a stored schema; a 400 `Parameter validation failed: …` listing every reason. */
  validate(schemaText: string, params: unknown): void {
    const validate = this.compile(schemaText, false);
    if (validate(params)) return;
    const reasons = (validate.errors ?? []).map((e) => {
      const where = e.instancePath ? `params${e.instancePath.replace(/\//g, ".")}` : "params";
      const extra = e.keyword === "additionalProperties" ? ` ('${String(e.params.additionalProperty)}')` : "";
      return `${where} ${e.message ?? "is invalid"}${extra}`;
    });
    throw badRequest(`Parameter validation failed: ${reasons.join(", ")}`, reasons);
  }

  private compile(text: string, fresh: boolean): ValidateFunction {
    const cached = this.validators.get(text);
    if (cached) return cached;
    let fn: ValidateFunction;
    try {
      fn = this.ajv.compile(JSON.parse(text) as object);
    } catch (err) {
      if (!fresh) throw err;
      throw badRequest(`Invalid param_schema: ${(err as Error).message}`);
    }
    if (this.validators.size > 1000) this.validators.clear();
    this.validators.set(text, fn);
    return fn;
  }
}
