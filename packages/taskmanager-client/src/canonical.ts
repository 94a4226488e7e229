// Canonical JSON and the dedupe key live in the protocol module; this file keeps the client's import paths.
export { canonicalize, dedupeKey, paramsJson } from "@prismq/taskmanager-protocol";
export type { Json } from "@prismq/taskmanager-protocol";
