/** A JSON value as params and results carry them. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * Sorts object keys recursively (arrays keep their order), so one logical task has one form.
 * Undefined fields are dropped. Every key is data: `__proto__`, `constructor` and
 * `prototype` are copied as own properties (never through the `__proto__` setter), so
 * `JSON.parse` of the canonical JSON gives back the input and no prototype changes.
 * Keys that are array indices (`"0"`, `"10"`) come first in ascending numeric order, as
 * JavaScript orders them in every object; the order is the same for every input order.
 */
export function canonicalize<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => canonicalize(v)) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      // Assignment (`out[key] = v`) with key "__proto__" would set the prototype instead.
      if (v !== undefined) Object.defineProperty(out, key, { value: canonicalize(v), enumerable: true, writable: true, configurable: true });
    }
    return out as T;
  }
  return value;
}

/**
 * Compact JSON as the dedupe key hashes it and as requests carry it: keys in the order given,
 * slashes and non-ASCII unescaped, U+2028/U+2029 escaped (the hosted service's
 * `json_encode(JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES)`).
 */
export function paramsJson(params: unknown): string {
  return JSON.stringify(params).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}
