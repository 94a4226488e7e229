/** A table column: its header and how to get a row's cell. */
export interface Column<R> {
  header: string;
  cell: (row: R) => unknown;
  /** Right-align (numbers). Default false. */
  right?: boolean;
}

/** One cell as text: `-` for null/undefined, JSON for objects, one line always. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value).replace(/[\r\n\t]+/g, " ");
}

/**
 * A plain-text table: a header line, then one line per row, columns two
 * spaces apart, trailing spaces trimmed. Ends with a newline.
 */
export function table<R>(rows: readonly R[], columns: readonly Column<R>[]): string {
  const cells = rows.map((r) => columns.map((c) => cellText(c.cell(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => (row[i] ?? "").length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => {
        const w = widths[i] ?? 0;
        return columns[i]?.right ? v.padStart(w) : v.padEnd(w);
      })
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n") + "\n";
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
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${cellText(v)}`).join("\n") + "\n";
}

/** Pretty JSON, indented by `indent` spaces on every line. */
export function indentedJson(value: unknown, indent = 2): string {
  const pad = " ".repeat(indent);
  return (JSON.stringify(value, null, 2) ?? "null")
    .split("\n")
    .map((l) => pad + l)
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
