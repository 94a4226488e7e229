import { createHash } from "node:crypto";

/**
 * The params JSON that the dedupe key hashes: compact, keys in the order
 * sent, slashes and non-ASCII unescaped, U+2028/U+2029 escaped (the hosted
 * service's `json_encode(JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES)`).
 */
export function paramsJson(params: unknown): string {
  return JSON.stringify(params).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** `sha256_hex(type + "\0" + json)`, the hosted formula. */
export function dedupeKey(type: string, json: string): string {
  return createHash("sha256").update(`${type}\0${json}`).digest("hex");
}
