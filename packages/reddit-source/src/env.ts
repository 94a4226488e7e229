import { z } from "zod";
import { ConfigError, env, type BudgetOptions } from "@prismq/worker-kit";
import { createRedditClient, type RedditClientOptions, type Snoowrap } from "./snoowrap-adapter.js";

/**
 * The Reddit variables both Reddit apps share; spread into an app's config
 * shape. Credentials pick the OAuth flow: a refresh token, or a script app's
 * username and password, or neither (app-only).
 */
export const redditEnv = {
  REDDIT_CLIENT_ID: z.string().min(1).describe("Reddit OAuth client id (a script or installed app of your Reddit account)."),
  REDDIT_CLIENT_SECRET: z.string().optional().describe("OAuth client secret; empty for an installed app."),
  REDDIT_REFRESH_TOKEN: z.string().optional().describe("OAuth refresh token (one way to sign in; or REDDIT_USERNAME with REDDIT_PASSWORD, or neither for app-only access)."),
  REDDIT_USERNAME: z.string().optional().describe("Reddit account name for a script app's password sign-in; needs REDDIT_PASSWORD."),
  REDDIT_PASSWORD: z.string().optional().describe("Password of REDDIT_USERNAME."),
  REDDIT_USER_AGENT: z
    .string()
    .regex(/^[\w.-]+:[\w.-]+:[\w.+-]+ \(by \/u\/[\w-]+\)$/, 'must look like "node:prismq-reddit:0.1.0 (by /u/yourname)"')
    .describe("Reddit's required form: <platform>:<app id>:<version> (by /u/<user>)."),
  REDDIT_API_URL: env.httpUrl().optional().describe("Another API base (the sandbox's). Default: the real Reddit."),
  REDDIT_REQUESTS_PER_MINUTE: env.int(90, 1, 100_000).describe("Requests per minute shared by every Reddit process of this client (below Reddit's 100)."),
};

/** The parsed Reddit variables. */
export interface RedditEnv {
  REDDIT_CLIENT_ID: string;
  REDDIT_CLIENT_SECRET?: string;
  REDDIT_REFRESH_TOKEN?: string;
  REDDIT_USERNAME?: string;
  REDDIT_PASSWORD?: string;
  REDDIT_USER_AGENT: string;
  REDDIT_API_URL?: string;
  REDDIT_REQUESTS_PER_MINUTE: number;
}

/** The client options of the variables; a username without a password (or the other way round) is a `ConfigError`. */
export function clientOptions(c: RedditEnv): RedditClientOptions {
  if (!!c.REDDIT_USERNAME !== !!c.REDDIT_PASSWORD) {
    const missing = c.REDDIT_USERNAME ? "REDDIT_PASSWORD" : "REDDIT_USERNAME";
    throw new ConfigError(`reddit: ${missing}: is required with ${missing === "REDDIT_PASSWORD" ? "REDDIT_USERNAME" : "REDDIT_PASSWORD"}`, [`${missing}: is required`]);
  }
  return {
    userAgent: c.REDDIT_USER_AGENT,
    clientId: c.REDDIT_CLIENT_ID,
    clientSecret: c.REDDIT_CLIENT_SECRET,
    refreshToken: c.REDDIT_REFRESH_TOKEN,
    username: c.REDDIT_USERNAME,
    password: c.REDDIT_PASSWORD,
    baseUrl: c.REDDIT_API_URL,
  };
}

/** A snoowrap client for the variables, authenticated (bad credentials reject here, at start). */
export function connectReddit(c: RedditEnv): Promise<Snoowrap> {
  return createRedditClient(clientOptions(c));
}

/**
 * The options of the requests-per-minute budget every Reddit process of this
 * client shares (in Redis in hybrid mode): one per client id, a fixed one-minute window.
 */
export function redditBudgetOptions(c: RedditEnv): Omit<BudgetOptions, "metrics" | "now"> {
  return { name: `reddit-requests.${c.REDDIT_CLIENT_ID.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 40)}`, limit: c.REDDIT_REQUESTS_PER_MINUTE, window: { kind: "fixed", ms: 60_000 } };
}
