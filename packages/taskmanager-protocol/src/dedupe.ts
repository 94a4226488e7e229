import { createHash } from "node:crypto";
import { canonicalize, paramsJson } from "./canonical.js";

/**
 * The hosted formula, `sha256_hex(type + "\0" + json)`, over params JSON exactly as sent
 * (a server hashes what it received: two key orders are two tasks there).
 */
export function dedupeKeyOfJson(type: string, json: string): string {
  return createHash("sha256").update(`${type}\0${json}`).digest("hex");
}

/** The dedupe key of a task as a client creates it: params canonicalised first, then {@link dedupeKeyOfJson}. */
export function dedupeKey(type: string, params: object): string {
  return dedupeKeyOfJson(type, paramsJson(canonicalize(params)));
}
