/** One signal of a score table: its weight, and the value at which it counts half. */
export interface ScoreSignal {
  /** The signal's share of the score, 0..1; a table's weights sum to 1 so the score tops out at 100. */
  weight: number;
  /** The signal's value, in its own unit (views per day, a ratio...), at which it counts half. */
  half: number;
}

/** `x / (x + half)`: 0 for 0 (or less, or NaN), 0.5 at `half`, towards 1 beyond. */
export function squash(x: number, half: number): number {
  return !(x > 0) ? 0 : x / (x + half);
}

/** Rounds to `digits` decimals. */
export function round(n: number, digits: number): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

/**
 * The 0-100 score (one decimal) of `signals` by a transparent table: each
 * signal squashed by its `half`, weighted, summed. Every platform's score is
 * folded this way, each with its own table written out beside it.
 */
export function foldScore<K extends string>(table: Readonly<Record<K, ScoreSignal>>, signals: Readonly<Record<NoInfer<K>, number>>): number {
  let s = 0;
  for (const key of Object.keys(table) as K[]) s += table[key].weight * squash(signals[key], table[key].half);
  return round(100 * s, 1);
}

/**
 * An item's age at `now` in units of `unitMs` (both in ms since the epoch), at least `min` so a
 * fresh item's per-age rates stay sane; an unknown (not finite) `created` counts as one unit.
 */
export function ageIn(created: number, now: number, unitMs: number, min: number): number {
  return Math.max(min, Number.isFinite(created) ? (now - created) / unitMs : 1);
}

/** `count` per unit of `age` (two decimals): the rate signals a score is folded from. */
export function perAge(count: number, age: number): number {
  return round(count / age, 2);
}
