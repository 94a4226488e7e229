import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Checks an `X-API-Key` against every configured key in constant time:
 * keys are compared as SHA-256 digests (equal length), and every key is
 * compared even after a match, so timing reveals neither key nor position.
 */
export function createKeyCheck(keys: readonly string[]): (presented: string | undefined) => boolean {
  const digests = keys.map(digest);
  return (presented) => {
    if (presented === undefined || presented.length === 0 || presented.length > 1024) return false;
    const d = digest(presented);
    let ok = false;
    for (const k of digests) ok = timingSafeEqual(k, d) || ok;
    return ok;
  };
}
