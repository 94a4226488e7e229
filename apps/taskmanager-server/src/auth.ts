import { createHash, timingSafeEqual } from "node:crypto";

/**
 * What a key may do. Each scope includes the one before it:
 * - `read`: every GET (dashboards, the CLI's read commands);
 * - `worker`: reads, `POST /tasks`, claim, progress, complete, and register of a new type or of a
 *   new version of a type;
 * - `operator`: everything, including requeue, fail and a changed schema at the same version.
 */
export type KeyScope = "read" | "worker" | "operator";

const RANK: Record<KeyScope, number> = { read: 1, worker: 2, operator: 3 };
const BY_RANK: Array<KeyScope | undefined> = [undefined, "read", "worker", "operator"];

/** The keys a server accepts, by scope. `full` (env `API_KEYS`) has every right, as `operator` has. */
export interface KeySets {
  full: readonly string[];
  read?: readonly string[];
  worker?: readonly string[];
  operator?: readonly string[];
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** A key as logs name it: the first 8 hex digits of its SHA-256, never the key. */
export const keyFingerprint = (key: string): string => digest(key).toString("hex").slice(0, 8);

/**
 * Checks an `X-API-Key` against every configured key in constant time and answers its scope, or
 * `undefined` for no match. Keys are compared as SHA-256 digests (equal length), and every key is
 * compared even after a match, so timing reveals neither key nor position. A key listed in several
 * sets gets the widest scope.
 */
export function createKeyCheck(keys: KeySets): (presented: string | undefined) => KeyScope | undefined {
  const entries = [
    ...keys.full.map((k) => ({ d: digest(k), rank: RANK.operator })),
    ...(keys.operator ?? []).map((k) => ({ d: digest(k), rank: RANK.operator })),
    ...(keys.worker ?? []).map((k) => ({ d: digest(k), rank: RANK.worker })),
    ...(keys.read ?? []).map((k) => ({ d: digest(k), rank: RANK.read })),
  ];
  return (presented) => {
    if (presented === undefined || presented.length === 0 || presented.length > 1024) return undefined;
    const d = digest(presented);
    let best = 0;
    for (const e of entries) best = Math.max(best, timingSafeEqual(e.d, d) ? e.rank : 0);
    return BY_RANK[best];
  };
}

/** Whether a key of scope `have` may make a call that needs `need`. */
export const scopeAllows = (have: KeyScope, need: KeyScope): boolean => RANK[have] >= RANK[need];

/** The operator-only calls, as Fastify route URLs. */
const OPERATOR_ROUTES = new Set(["/api/tasks/:id/requeue", "/api/tasks/:id/fail"]);

/**
 * The scope a call needs, from its method and its route URL (`undefined` for no route: any valid
 * key then gets the 404). GET and HEAD need `read`; requeue and fail `operator`; every other POST
 * `worker` (register needs `operator` only to change a schema at the same version, which the route
 * itself checks against the stored type).
 */
export function requiredScope(method: string, routeUrl: string | undefined): KeyScope {
  if (method === "GET" || method === "HEAD" || routeUrl === undefined) return "read";
  return OPERATOR_ROUTES.has(routeUrl) ? "operator" : "worker";
}

/** The routes whose body carries the caller's `worker_id`. */
export const WORKER_ID_ROUTES: ReadonlySet<string> = new Set(["/api/tasks/claim", "/api/tasks/settle", "/api/tasks/:id/progress", "/api/tasks/:id/complete"]);

/**
 * Worker ids that the server's own history rows use (`operator` for requeue and fail) or may use,
 * so no worker may take them: `operator`, `system`, `server`, `taskmanager`.
 */
export const RESERVED_WORKER_IDS: readonly string[] = ["operator", "system", "server", "taskmanager"];

/**
 * Whether a worker id is reserved: compared after trimming, NFKC normalisation (so full-width or
 * other compatibility forms of the letters match too) and lower-casing.
 */
export function isReservedWorkerId(workerId: string): boolean {
  return RESERVED_WORKER_IDS.includes(workerId.trim().normalize("NFKC").toLowerCase());
}

/**
 * Whether two JSON texts hold the same value, whatever the order of object keys: a worker that
 * registers the same schema again (keys in another order) is not changing it.
 */
export function sameJson(a: string, b: string): boolean {
  if (a === b) return true;
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  try {
    return JSON.stringify(canonical(JSON.parse(a))) === JSON.stringify(canonical(JSON.parse(b)));
  } catch {
    return false;
  }
}
