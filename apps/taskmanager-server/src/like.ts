/**
 * Turns a SQL LIKE pattern (`%` any run, `_` one character, `\` escapes)
 * into an anchored, case-insensitive RegExp, matching as MySQL's default
 * collation does. Used for a claim's `type_pattern`.
 */
export function likeToRegExp(pattern: string): RegExp {
  let src = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === "\\" && i + 1 < pattern.length) {
      src += escape(pattern[++i] as string);
    } else if (ch === "%") {
      src += "[\\s\\S]*";
    } else if (ch === "_") {
      src += "[\\s\\S]";
    } else {
      src += escape(ch);
    }
  }
  return new RegExp(`^${src}$`, "iu");
}

const escape = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
