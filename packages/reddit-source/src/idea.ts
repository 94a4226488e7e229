import { extractYouTubeIds } from "@prismq/task-types";
import { ageIn, foldScore, ideaText, perAge, round } from "@prismq/idea-scoring";
import type { IdeaInput } from "@prismq/idea-store";
import { isRemoved, type RedditComment, type RedditPost } from "./api.js";

/** The measured signals of a post that its score is folded from. */
export interface RedditMetrics {
  score: number;
  numComments: number;
  upvoteRatio: number;
  /** Hours since creation (at least 1, so a fresh post's rates stay sane). */
  ageHours: number;
  /** score / ageHours. */
  scorePerHour: number;
  /** numComments / ageHours. */
  commentsPerHour: number;
}

/**
 * How a post's 0-100 score is made, in the open (folded by `foldScore`: a signal counts half at `half`):
 * - `scorePerHour`, half 25: a post gaining 25 points an hour is halfway.
 * - `commentsPerHour`, half 5: five comments an hour is a lively thread.
 * - `upvoteRatio`, half 0.7: near the geometric middle of the usual 0.5..1
 *   range, where `x / (x + half)` spreads that range the most.
 */
export const REDDIT_SCORE = {
  scorePerHour: { weight: 0.45, half: 25 },
  commentsPerHour: { weight: 0.35, half: 5 },
  upvoteRatio: { weight: 0.2, half: 0.7 },
} as const;

const count = (n: number) => (Number.isFinite(n) && n > 0 ? n : 0);

/** The signals of `post` at `now` (ms since the epoch). Negative or missing counts are 0. */
export function redditMetrics(post: RedditPost, now: number): RedditMetrics {
  const score = count(post.score);
  const numComments = count(post.numComments);
  const upvoteRatio = Math.min(1, count(post.upvoteRatio));
  // A creation time of 0 or less is Reddit's "unknown", not 1970.
  const ageHours = ageIn(post.createdUtc > 0 ? post.createdUtc * 1000 : Number.NaN, now, 3_600_000, 1);
  return { score, numComments, upvoteRatio, ageHours: round(ageHours, 3), scorePerHour: perAge(score, ageHours), commentsPerHour: perAge(numComments, ageHours) };
}

/** The 0-100 score of a post's signals (one decimal), by {@link REDDIT_SCORE}. */
export function redditScore(m: RedditMetrics): number {
  return foldScore(REDDIT_SCORE, m);
}

/** The texts of a post that may link elsewhere: its URL, its body and its top comments. */
export function postTexts(post: RedditPost, comments: readonly RedditComment[]): string[] {
  return [post.url, post.selftext, ...comments.map((c) => c.body)];
}

/**
 * Every YouTube video id linked from a post (its URL, then its text) and its
 * comments (in the order given), in all URL forms, each once, in order.
 */
export function youtubeLinks(post: RedditPost, comments: readonly RedditComment[]): string[] {
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const text of postTexts(post, comments)) {
    for (const id of extractYouTubeIds(text)) {
      if (!seen.has(id)) {
        seen.add(id);
        ids.push(id);
      }
    }
  }
  return ids;
}

const GONE = new Set(["[removed]", "[deleted]"]);

/** An idea's description: at most 2,000 characters (an excerpt of a long self post; the whole text is in `content`). */
export const MAX_DESCRIPTION_CHARS = 2_000;
/** An idea's content (the text and the comments): at most 100,000 characters. */
export const MAX_CONTENT_CHARS = 100_000;

/** At most `max` characters, cut at a word boundary when one is near, with `…` when cut. */
function cap(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(" ");
  return `${space > max * 0.8 ? cut.slice(0, space) : cut}…`;
}

/**
 * The `IdeaInspiration` of a post: title; description (a self post's text,
 * cut to {@link MAX_DESCRIPTION_CHARS}, or a link post's URL); content (the
 * text and the bodies of the comments given, removed ones left out, cut to
 * {@link MAX_CONTENT_CHARS}), so a huge self post is stored once, bounded; keywords (flair, subreddit, then the strongest terms);
 * source fields; the score by {@link REDDIT_SCORE}; the category by
 * idea-store's `classify`; metadata with the counts, the signals and the
 * linked YouTube videos. `now` is ms since the epoch.
 */
export function postToIdea(post: RedditPost, comments: readonly RedditComment[], now: number): IdeaInput {
  const title = post.title.trim() || `Reddit post ${post.id}`;
  const selftext = GONE.has(post.selftext.trim()) ? "" : post.selftext;
  const description = cap(post.isSelf ? selftext : post.url, MAX_DESCRIPTION_CHARS);
  const bodies = comments.map((c) => c.body.trim()).filter((b) => b !== "" && !GONE.has(b));
  const content = cap([selftext, ...bodies].filter(Boolean).join("\n\n"), MAX_CONTENT_CHARS);
  const tags = [post.flair, post.subreddit.toLowerCase()].filter((t): t is string => typeof t === "string" && t.trim() !== "");
  // For a link post the URL says little; the classifier reads the text around it.
  const text = { title, tags, description: cap(selftext, MAX_CONTENT_CHARS), content: cap(bodies.join("\n"), MAX_CONTENT_CHARS) };
  const metrics = redditMetrics(post, now);
  const created = new Date(post.createdUtc * 1000);
  const author = post.author && post.author !== "[deleted]" ? post.author : null;
  return {
    ...ideaText(text, { description, content }),
    sourceType: "text",
    sourceId: post.id,
    sourceUrl: post.permalink || null,
    sourcePlatform: "reddit",
    sourceCreatedBy: author,
    sourceCreatedAt: post.createdUtc > 0 && Number.isFinite(created.getTime()) ? created.toISOString() : null,
    score: redditScore(metrics),
    metadata: {
      postId: post.id,
      subreddit: post.subreddit,
      author: post.author,
      score: post.score,
      upvoteRatio: post.upvoteRatio,
      numComments: post.numComments,
      awards: post.totalAwards,
      domain: post.domain,
      url: post.url.slice(0, 2_000),
      flair: post.flair,
      isSelf: post.isSelf,
      over18: post.over18,
      removed: isRemoved(post),
      commentsFetched: bodies.length,
      metrics: { ...metrics },
      youtubeVideoIds: youtubeLinks(post, comments),
    },
  };
}
