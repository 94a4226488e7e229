import { appendFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Redis } from "ioredis";

/**
 * What a discovery app remembers between runs: the item ids it already sent
 * (so known items are not sent again; the TaskManager's dedupe stays the final
 * guard) and small cursors (e.g. a search's `publishedAfter`). In hybrid mode it
 * lives in Redis and is shared by every replica; in direct mode it is a pair of
 * files of this process.
 */
export interface AppState {
  /** The ids among `ids` not recorded yet, in the order given (duplicates in `ids` count once). */
  unseen(set: string, ids: readonly string[]): Promise<string[]>;
  /** Records `ids` as seen. Call it after their tasks were created (or queued), never before. */
  markSeen(set: string, ids: readonly string[]): Promise<void>;
  /** How many ids `set` holds. */
  seenCount(set: string): Promise<number>;
  getCursor(key: string): Promise<string | undefined>;
  setCursor(key: string, value: string): Promise<void>;
}

const NAME = /^[A-Za-z0-9_.:@-]{1,200}$/;
function checkName(kind: string, name: string): void {
  if (!NAME.test(name)) throw new RangeError(`${kind} name must be 1-200 of letters, digits and _.:@-: "${name}"`);
}
const uniq = (ids: readonly string[]) => [...new Set(ids)];

/** App state in Redis under `<prefix>:state:<app>:...` (hybrid mode). */
export class RedisState implements AppState {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly app: string,
  ) {
    checkName("app", app);
  }
  private key(kind: string, name: string): string {
    checkName(kind, name);
    return `${this.prefix}:state:${this.app}:${kind}:${name}`;
  }
  async unseen(set: string, ids: readonly string[]): Promise<string[]> {
    const key = this.key("seen", set);
    const list = uniq(ids);
    if (list.length === 0) return [];
    const flags = await this.redis.smismember(key, ...list);
    return list.filter((_, i) => flags[i] === 0);
  }
  async markSeen(set: string, ids: readonly string[]): Promise<void> {
    const key = this.key("seen", set);
    if (ids.length) await this.redis.sadd(key, ...uniq(ids));
  }
  async seenCount(set: string): Promise<number> {
    return this.redis.scard(this.key("seen", set));
  }
  async getCursor(key: string): Promise<string | undefined> {
    checkName("cursor", key);
    return (await this.redis.hget(this.key("cursors", "all"), key)) ?? undefined;
  }
  async setCursor(key: string, value: string): Promise<void> {
    checkName("cursor", key);
    await this.redis.hset(this.key("cursors", "all"), key, value);
  }
}

/**
 * App state in two files under `dir` (direct mode): `<app>.seen.jsonl`, one
 * `[set, id]` line per seen id, appended; and `<app>.cursors.json`, replaced
 * atomically on each change. Loaded once at first use.
 */
export class FileState implements AppState {
  private loaded: Promise<void> | undefined;
  private readonly seen = new Map<string, Set<string>>();
  private cursors: Record<string, string> = {};
  private writes: Promise<unknown> = Promise.resolve();
  private tornTail = false;
  private write(op: () => Promise<void>): Promise<void> {
    const next = this.writes.then(op);
    this.writes = next.catch(() => {});
    return next;
  }

  constructor(
    private readonly dir: string,
    private readonly app: string,
  ) {
    checkName("app", app);
  }
  private get seenFile() {
    return join(this.dir, `${this.app}.seen.jsonl`);
  }
  private get cursorFile() {
    return join(this.dir, `${this.app}.cursors.json`);
  }
  private load(): Promise<void> {
    this.loaded ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      const text = await readFile(this.seenFile, "utf8").catch(() => "");
      this.tornTail = text.length > 0 && !text.endsWith("\n");
      for (const line of text.split("\n")) {
        if (!line) continue;
        try {
          const [set, id] = JSON.parse(line) as [string, string];
          this.setOf(set).add(id);
        } catch {
          // A torn last line after a crash: that id is sent again and the TaskManager dedupes it.
        }
      }
      const cursors = await readFile(this.cursorFile, "utf8").catch(() => "{}");
      try {
        this.cursors = JSON.parse(cursors) as Record<string, string>;
      } catch {
        this.cursors = {};
      }
    })();
    return this.loaded;
  }
  private setOf(name: string): Set<string> {
    let s = this.seen.get(name);
    if (!s) this.seen.set(name, (s = new Set()));
    return s;
  }
  async unseen(set: string, ids: readonly string[]): Promise<string[]> {
    checkName("seen", set);
    await this.load();
    const s = this.setOf(set);
    return uniq(ids).filter((id) => !s.has(id));
  }
  async markSeen(set: string, ids: readonly string[]): Promise<void> {
    checkName("seen", set);
    await this.load();
    const s = this.setOf(set);
    const fresh = uniq(ids).filter((id) => !s.has(id));
    if (fresh.length === 0) return;
    for (const id of fresh) s.add(id);
    const lines = fresh.map((id) => `${JSON.stringify([set, id])}\n`).join("");
    await this.write(async () => {
      await appendFile(this.seenFile, (this.tornTail ? "\n" : "") + lines);
      this.tornTail = false;
    });
  }
  async seenCount(set: string): Promise<number> {
    checkName("seen", set);
    await this.load();
    return this.setOf(set).size;
  }
  async getCursor(key: string): Promise<string | undefined> {
    checkName("cursor", key);
    await this.load();
    return this.cursors[key];
  }
  async setCursor(key: string, value: string): Promise<void> {
    checkName("cursor", key);
    await this.load();
    this.cursors[key] = value;
    const text = JSON.stringify(this.cursors);
    const tmp = `${this.cursorFile}.${process.pid}.tmp`;
    await this.write(async () => {
      await writeFile(tmp, text);
      await rename(tmp, this.cursorFile);
    });
  }
}
