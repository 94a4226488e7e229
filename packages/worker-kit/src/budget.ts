import type { Redis } from "ioredis";
import type { WorkerMetrics } from "./metrics.js";

/** How a budget's window turns over. */
export type BudgetWindow =
  /** Resets at local midnight of `timeZone` (YouTube: `America/Los_Angeles`). */
  | { kind: "daily"; timeZone: string }
  /** Consecutive windows of `ms` milliseconds since the epoch (Reddit: 60,000). */
  | { kind: "fixed"; ms: number };

export interface BudgetState {
  /** Units spent in the current window. */
  spent: number;
  /** Units left in the current window (never negative). */
  remaining: number;
  /** When the current window ends, in ms since the epoch. */
  resetAt: number;
}

export interface SpendResult extends BudgetState {
  /** True when the units were spent; false when they did not fit (nothing was spent). */
  ok: boolean;
}

/** A spending limit per window for an external API, shared or per process. */
export interface Budget {
  readonly name: string;
  readonly limit: number;
  /** Spends `units` if they fit in what is left, atomically; otherwise spends nothing. */
  trySpend(units: number): Promise<SpendResult>;
  /** Marks the current window as used up (the API said the quota is spent). */
  exhaust(): Promise<BudgetState>;
  /** The current window's state. */
  state(): Promise<BudgetState>;
}

export interface BudgetOptions {
  /** Names the budget in keys, logs and metrics, e.g. `youtube-quota`. */
  name: string;
  /** Units per window. */
  limit: number;
  window: BudgetWindow;
  metrics?: WorkerMetrics;
  /** Clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function partsIn(timeZone: string, ms: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const { type, value } of f.formatToParts(ms)) if (type !== "literal") p[type] = Number(value);
  return { y: p.year ?? 0, mo: p.month ?? 1, d: p.day ?? 1, h: p.hour ?? 0, mi: p.minute ?? 0, s: p.second ?? 0 };
}

/** The zone's offset from UTC at instant `ms`, in ms (Pacific winter: -8 h). */
function offsetMs(timeZone: string, ms: number): number {
  const p = partsIn(timeZone, ms);
  return Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - (ms - (((ms % 1000) + 1000) % 1000));
}

/** The window containing `now`: an id (part of the Redis key) and when it ends. */
export function windowAt(window: BudgetWindow, now: number): { id: string; resetAt: number } {
  if (window.kind === "fixed") {
    const n = Math.floor(now / window.ms);
    return { id: `${window.ms}-${n}`, resetAt: (n + 1) * window.ms };
  }
  const p = partsIn(window.timeZone, now);
  // Next local midnight: a wall-clock time, turned into an instant with the offset in force then.
  const wall = Date.UTC(p.y, p.mo - 1, p.d + 1);
  let resetAt = wall - offsetMs(window.timeZone, wall);
  resetAt = wall - offsetMs(window.timeZone, resetAt);
  const id = `${p.y}-${String(p.mo).padStart(2, "0")}-${String(p.d).padStart(2, "0")}`;
  return { id, resetAt };
}

function validate(options: BudgetOptions): void {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(options.name)) throw new RangeError(`budget name must be 1-64 letters, digits, _ . -: "${options.name}"`);
  if (!Number.isInteger(options.limit) || options.limit < 0) throw new RangeError(`budget limit must be a whole number >= 0, got ${options.limit}`);
  if (options.window.kind === "fixed" && !(Number.isInteger(options.window.ms) && options.window.ms >= 1000)) {
    throw new RangeError(`budget window must be at least 1000 ms, got ${options.window.ms}`);
  }
  if (options.window.kind === "daily") new Intl.DateTimeFormat("en-US", { timeZone: options.window.timeZone }); // throws on an unknown zone
}

function checkUnits(units: number): void {
  if (!Number.isInteger(units) || units < 1) throw new RangeError(`units must be a whole number >= 1, got ${units}`);
}

abstract class BaseBudget implements Budget {
  readonly name: string;
  readonly limit: number;
  protected readonly window: BudgetWindow;
  protected readonly now: () => number;
  private readonly metrics: WorkerMetrics | undefined;

  constructor(options: BudgetOptions) {
    validate(options);
    this.name = options.name;
    this.limit = options.limit;
    this.window = options.window;
    this.now = options.now ?? Date.now;
    this.metrics = options.metrics;
  }

  async trySpend(units: number): Promise<SpendResult> {
    checkUnits(units);
    const w = windowAt(this.window, this.now());
    const { ok, spent } = await this.spendIn(w.id, w.resetAt, units);
    if (!ok) this.metrics?.budgetExhausted.inc({ budget: this.name });
    return { ok, ...this.report(spent, w.resetAt) };
  }

  async exhaust(): Promise<BudgetState> {
    const w = windowAt(this.window, this.now());
    return this.report(await this.exhaustIn(w.id, w.resetAt), w.resetAt);
  }

  async state(): Promise<BudgetState> {
    const w = windowAt(this.window, this.now());
    return this.report(await this.spentIn(w.id), w.resetAt);
  }

  private report(spent: number, resetAt: number): BudgetState {
    const remaining = Math.max(0, this.limit - spent);
    this.metrics?.budgetRemaining.set({ budget: this.name }, remaining);
    return { spent, remaining, resetAt };
  }

  protected abstract spendIn(windowId: string, resetAt: number, units: number): Promise<{ ok: boolean; spent: number }>;
  protected abstract exhaustIn(windowId: string, resetAt: number): Promise<number>;
  protected abstract spentIn(windowId: string): Promise<number>;
}

/** A budget of this process alone (direct mode). */
export class LocalBudget extends BaseBudget {
  private windowId = "";
  private spent = 0;

  private roll(windowId: string): void {
    if (windowId !== this.windowId) {
      this.windowId = windowId;
      this.spent = 0;
    }
  }
  protected async spendIn(windowId: string, _resetAt: number, units: number) {
    this.roll(windowId);
    if (this.spent + units > this.limit) return { ok: false, spent: this.spent };
    this.spent += units;
    return { ok: true, spent: this.spent };
  }
  protected async exhaustIn(windowId: string) {
    this.roll(windowId);
    this.spent = Math.max(this.spent, this.limit);
    return this.spent;
  }
  protected async spentIn(windowId: string) {
    this.roll(windowId);
    return this.spent;
  }
}

// Check and spend in one script, so concurrent processes can never overspend.
const SPEND = `
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local units = tonumber(ARGV[1])
if spent + units > tonumber(ARGV[2]) then return {0, spent} end
spent = redis.call('INCRBY', KEYS[1], units)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, spent}`;
const EXHAUST = `
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit = tonumber(ARGV[1])
if spent < limit then redis.call('SET', KEYS[1], limit); spent = limit end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return spent`;

// A key outlives its window by a minute so a slow clock on one process still finds it.
const KEY_GRACE_MS = 60_000;

/** A budget shared by every process that uses the same Redis, prefix and name (hybrid mode). */
export class RedisBudget extends BaseBudget {
  private readonly redis: Redis;
  private readonly prefix: string;

  /** @param redis a connection the caller owns (not closed here). @param prefix key prefix, e.g. the queue prefix. */
  constructor(redis: Redis, prefix: string, options: BudgetOptions) {
    super(options);
    this.redis = redis;
    this.prefix = prefix;
  }
  // Relative expiry, so the Redis server's clock does not need to agree with ours.
  private ttl(resetAt: number): number {
    return Math.max(1, resetAt - this.now()) + KEY_GRACE_MS;
  }
  private key(windowId: string): string {
    return `${this.prefix}:budget:${this.name}:${windowId}`;
  }
  protected async spendIn(windowId: string, resetAt: number, units: number) {
    const [ok, spent] = (await this.redis.eval(SPEND, 1, this.key(windowId), units, this.limit, this.ttl(resetAt))) as [number, number];
    return { ok: ok === 1, spent: Number(spent) };
  }
  protected async exhaustIn(windowId: string, resetAt: number) {
    return Number(await this.redis.eval(EXHAUST, 1, this.key(windowId), this.limit, this.ttl(resetAt)));
  }
  protected async spentIn(windowId: string) {
    return Number((await this.redis.get(this.key(windowId))) ?? 0);
  }
}
