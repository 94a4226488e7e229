/**
 * SQL LIKE over task type names, matched in JavaScript in linear time.
 *
 * Semantics are MySQL's with its default collation, as the hosted service runs them: `%` matches any
 * run of characters (none included), `_` exactly one, `\` makes the next character literal, and
 * letters match regardless of case. A pattern that ends in a lone `\` is refused by the request
 * validation ({@link likeProblem}) on every store.
 *
 * The pattern is compiled once into segments (the text between `%`s); a match then tries each
 * segment at the earliest place it fits. A segment holds only fixed-width items (a literal or `_`),
 * so the leftmost fit is always right, and a match costs at most O(text × pattern) character
 * comparisons, with no backtracking into earlier segments. For the 255-character names and patterns
 * the API allows that is at most 65,025 comparisons, whatever the pattern.
 */

/** One fixed-width item of a segment: a lower-cased character, or `null` for `_` (any one character). */
type Item = string | null;

/** A compiled LIKE pattern. */
export interface LikeMatcher {
  /** True when the whole of `text` matches the pattern. */
  test(text: string): boolean;
}

/** Why a LIKE pattern cannot be used, or `undefined` when it can: today only a trailing lone `\`. */
export function likeProblem(pattern: string): string | undefined {
  let i = 0;
  while (i < pattern.length) {
    if (pattern[i] === "\\") {
      if (i + 1 >= pattern.length) return "must not end with a lone escape character '\\' (write '\\\\' for a backslash)";
      i += 2;
    } else i++;
  }
  return undefined;
}

/**
 * Compiles a LIKE pattern. Case-insensitive (characters are compared lower-cased, by code point).
 * Throws a `RangeError` for a pattern ending in a lone `\`; callers validate with {@link likeProblem} first.
 */
export function compileLike(pattern: string): LikeMatcher {
  const problem = likeProblem(pattern);
  if (problem) throw new RangeError(`LIKE pattern ${problem}`);
  const segments: Item[][] = [[]];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    const current = segments[segments.length - 1] as Item[];
    if (ch === "\\") current.push(fold(chars[++i] as string));
    else if (ch === "%") segments.push([]);
    else if (ch === "_") current.push(null);
    else current.push(fold(ch));
  }
  return { test: (text) => matchSegments(segments, Array.from(text, fold)) };
}

/** `compileLike(pattern).test(text)`. */
export function likeMatch(pattern: string, text: string): boolean {
  return compileLike(pattern).test(text);
}

const fold = (ch: string) => ch.toLowerCase();

function fitsAt(segment: Item[], text: string[], at: number): boolean {
  for (let k = 0; k < segment.length; k++) {
    const want = segment[k];
    if (want !== null && want !== text[at + k]) return false;
  }
  return true;
}

function matchSegments(segments: Item[][], text: string[]): boolean {
  const first = segments[0] as Item[];
  if (segments.length === 1) return first.length === text.length && fitsAt(first, text, 0);
  const last = segments[segments.length - 1] as Item[];
  // The first segment is anchored at the start, the last at the end; they may not overlap.
  if (first.length + last.length > text.length) return false;
  if (!fitsAt(first, text, 0) || !fitsAt(last, text, text.length - last.length)) return false;
  let pos = first.length;
  const end = text.length - last.length;
  for (let s = 1; s < segments.length - 1; s++) {
    const segment = segments[s] as Item[];
    let at = pos;
    while (at + segment.length <= end && !fitsAt(segment, text, at)) at++;
    if (at + segment.length > end) return false;
    pos = at + segment.length;
  }
  return true;
}
