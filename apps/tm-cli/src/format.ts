/** A table column: its header and how to get a row's cell. */
export interface Column<R> {
  header: string;
  cell: (row: R) => unknown;
  /** Right-align (numbers). Default false. */
  right?: boolean;
}

/**
 * What a terminal would act on instead of showing: every C0 control (ESC, BEL, CR, LF, TAB...),
 * DEL, every C1 control (U+0080-U+009F, e.g. the one-character CSI U+009B), and the bidi
 * controls that reorder what follows them (U+202A-U+202E embeddings and overrides, U+2066-U+2069
 * isolates, U+200E/U+200F marks, U+061C).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The one escaping function of `tm`'s output: each control character (see above) becomes its
 * visible JSON escape, `\u001b` for ESC, `\u202e` for the right-to-left override, so no text a
 * server or a user supplied can clear the screen, set the window title, recolour, move the
 * cursor or reverse the line. Everything else (printable ASCII, accents, CJK, emoji) is kept.
 * The escapes are valid in JSON strings, so JSON text stays JSON and parses to the same value.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** `text` on one line: runs of CR, LF and TAB become one space, other controls are escaped. */
export function oneLine(text: string): string {
  return escapeControls(text.replace(/[\r\n\t]+/g, " "));
}

/**
 * A writer that passes human (or JSON) output through {@link escapeControls} line by line: the
 * line breaks `tm` writes itself are kept, every other control character is escaped. Wraps
 * stdout and stderr, so nothing raw reaches the terminal even from a message no formatter saw.
 */
export function terminalSafe<O extends { write(chunk: string): unknown }>(out: O): { write(chunk: string): unknown } {
  return { write: (chunk: string) => out.write(chunk.split("\n").map(escapeControls).join("\n")) };
}

/** One cell as text: `-` for null/undefined, JSON for objects, one line always, controls escaped. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  if (typeof value === "object") return escapeControls(JSON.stringify(value));
  return oneLine(String(value));
}

/**
 * A plain-text table: a header line, then one line per row, columns two
 * spaces apart, trailing spaces trimmed. Ends with a newline.
 */
export function table<R>(rows: readonly R[], columns: readonly Column<R>[]): string {
  const headers = columns.map((c) => oneLine(c.header));
  const cells = rows.map((r) => columns.map((c) => cellText(c.cell(r))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? "").length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => {
        const w = widths[i] ?? 0;
        return columns[i]?.right ? v.padStart(w) : v.padEnd(w);
      })
      .join("  ")
      .trimEnd();
  return [line(headers), ...cells.map(line)].join("\n") + "\n";
}

/**
 * A table of plain objects whose shape is not fixed (an endpoint's additive
 * fields): columns are the union of their keys, in first-seen order.
 */
export function objectTable(rows: readonly unknown[], maxCell = 80): string {
  const objects = rows.map((r) => (r !== null && typeof r === "object" && !Array.isArray(r) ? (r as Record<string, unknown>) : { value: r }));
  const keys: string[] = [];
  for (const o of objects) for (const k of Object.keys(o)) if (!keys.includes(k)) keys.push(k);
  return table(
    objects,
    keys.map((k) => ({ header: k, cell: (o: Record<string, unknown>) => truncate(cellText(o[k]), maxCell), right: objects.every((o) => typeof o[k] === "number" || o[k] == null) })),
  );
}

/** `text` cut to `max` characters, ending in `…` when cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** `key  value` lines with the keys padded to one width. */
export function fields(entries: ReadonlyArray<readonly [string, unknown]>): string {
  const keys = entries.map(([k]) => oneLine(k));
  const width = Math.max(...keys.map((k) => k.length));
  return entries.map(([, v], i) => `${`${keys[i]}:`.padEnd(width + 2)}${cellText(v)}`).join("\n") + "\n";
}

/** Pretty JSON, indented by `indent` spaces on every line, controls escaped (still JSON). */
export function indentedJson(value: unknown, indent = 2): string {
  const pad = " ".repeat(indent);
  // Line by line: the only raw line breaks in JSON text are its own layout.
  return (JSON.stringify(value, null, 2) ?? "null")
    .split("\n")
    .map((l) => pad + escapeControls(l))
    .join("\n") + "\n";
}

/**
 * Name/count pairs from either an object (`{ youtube: 3 }`) or a list of
 * objects (`[{ platform: "youtube", count: 3 }]`): the first string field is
 * the name, `count` (or the first number) the count.
 */
export function countPairs(value: unknown): Array<[string, number]> {
  if (Array.isArray(value)) {
    return value.flatMap((item): Array<[string, number]> => {
      if (item === null || typeof item !== "object") return [];
      const values = Object.values(item as Record<string, unknown>);
      const name = values.find((v) => typeof v === "string");
      const rec = item as Record<string, unknown>;
      const count = typeof rec.count === "number" ? rec.count : values.find((v) => typeof v === "number");
      return name === undefined ? [] : [[String(name), typeof count === "number" ? count : 0]];
    });
  }
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, typeof v === "number" ? v : Number(v) || 0]);
  }
  return [];
}
