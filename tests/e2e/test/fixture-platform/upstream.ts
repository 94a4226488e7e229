/**
 * The fixture platform's own upstream: a small newspaper API on loopback
 * (sections list article ids; articles are read in batches, with a key), and
 * the platform's API client, which spends its budget on every request.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Budget } from "@prismq/worker-kit";

/** One article as the newspaper serves it. */
export interface Article {
  id: string;
  title: string;
  body: string;
  author: string;
  /** ISO 8601 UTC. */
  published: string;
}

/** What the newspaper holds: its articles and which of them each section lists. */
export interface Newsroom {
  articles: readonly Article[];
  sections: Readonly<Record<string, readonly string[]>>;
}

/** The newspaper API on a free loopback port; `requests` counts what it answered. */
export async function startNewspaper(room: Newsroom, key: string): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const byId = new Map(room.articles.map((a) => [a.id, a]));
  const server: Server = createServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? "/", "http://newspaper");
    const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.headers["x-newspaper-key"] !== key) return send(401, { error: "bad key" });
    const section = /^\/sections\/([a-z]+)$/.exec(url.pathname)?.[1];
    if (section !== undefined) return room.sections[section] ? send(200, { ids: room.sections[section] }) : send(404, { error: "no such section" });
    if (url.pathname === "/articles") {
      const ids = (url.searchParams.get("ids") ?? "").split(",").filter(Boolean);
      return send(200, { articles: ids.flatMap((id) => byId.get(id) ?? []) });
    }
    send(404, { error: "not found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests: () => requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The platform's API client. */
export class NewspaperApi {
  constructor(private readonly o: { url: string; key: string; budget: Budget }) {}

  /** The article ids a section lists. */
  async section(name: string): Promise<string[]> {
    return ((await this.get(`/sections/${name}`)) as { ids: string[] }).ids;
  }

  /** The articles of `ids` that exist, in one request. */
  async articles(ids: readonly string[]): Promise<Article[]> {
    return ((await this.get(`/articles?ids=${ids.map(encodeURIComponent).join(",")}`)) as { articles: Article[] }).articles;
  }

  private async get(path: string): Promise<unknown> {
    const spent = await this.o.budget.trySpend(1);
    if (!spent.ok) throw new Error(`newspaper budget ${this.o.budget.name} is spent`);
    const r = await fetch(`${this.o.url}${path}`, { headers: { "x-newspaper-key": this.o.key } });
    if (!r.ok) throw new Error(`newspaper ${path}: ${r.status}`);
    return r.json();
  }
}
