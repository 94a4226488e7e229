import assert from "node:assert/strict";
import { test } from "node:test";
// By path: the sandbox devDepends on this package, and depending on youtube-source would close a cycle.
import { startRedditSandbox } from "../../sandbox/src/index.js";
import { HOP_PRIORITY_STEP, MAX_HOPS, YouTube, crossModuleTasks, extractYouTubeIds } from "@prismq/task-types";
import { REDDIT_SCORE, RedditApi, createRedditClient, platform, postTexts, postToIdea, redditMetrics, redditScore, toYouTubeVideos, youtubeLinks, type RedditComment, type RedditPost } from "../src/index.js";

const NOW = Date.UTC(2026, 0, 20, 12);
const HOUR = 3_600_000;
const UA = "node:prismq-reddit-source-test:0.1.0 (by /u/prismq)";

function post(fields: Partial<RedditPost> = {}): RedditPost {
  const id = fields.id ?? "1h0abcd";
  return {
    id,
    name: `t3_${id}`,
    subreddit: "Cooking",
    title: "A post",
    selftext: "",
    url: `https://www.reddit.com/r/Cooking/comments/${id}/a_post/`,
    permalink: `https://www.reddit.com/r/Cooking/comments/${id}/a_post/`,
    domain: "self.Cooking",
    author: "someone",
    createdUtc: (NOW - 4 * HOUR) / 1000,
    score: 100,
    upvoteRatio: 0.7,
    numComments: 20,
    flair: null,
    isSelf: true,
    over18: false,
    totalAwards: 0,
    removedByCategory: null,
    ...fields,
  };
}

function comment(body: string, extra: Partial<RedditComment> = {}): RedditComment {
  return { id: `c${body.length}`, author: "commenter", body, score: 1, createdUtc: NOW / 1000 - 60, depth: 0, ...extra };
}

const squash = (x: number, half: number) => (x <= 0 ? 0 : x / (x + half));

test("metrics and score of known posts follow REDDIT_SCORE by hand", () => {
  // 4 hours old, 100 points (25/h), 20 comments (5/h), ratio 0.7: every signal sits at its half.
  const m = redditMetrics(post(), NOW);
  assert.deepEqual(m, { score: 100, numComments: 20, upvoteRatio: 0.7, ageHours: 4, scorePerHour: 25, commentsPerHour: 5 });
  assert.equal(REDDIT_SCORE.scorePerHour.half, 25);
  assert.equal(REDDIT_SCORE.commentsPerHour.half, 5);
  assert.equal(REDDIT_SCORE.upvoteRatio.half, 0.7);
  assert.equal(redditScore(m), 50);

  // 300 points in 4 h (75/h: 0.75), no comments, ratio 1 (1/1.7).
  const m2 = redditMetrics(post({ score: 300, numComments: 0, upvoteRatio: 1 }), NOW);
  assert.deepEqual(m2, { score: 300, numComments: 0, upvoteRatio: 1, ageHours: 4, scorePerHour: 75, commentsPerHour: 0 });
  const byHand = 100 * (REDDIT_SCORE.scorePerHour.weight * 0.75 + REDDIT_SCORE.upvoteRatio.weight * (1 / 1.7));
  assert.equal(redditScore(m2), Math.round(byHand * 10) / 10);
  assert.equal(redditScore(m2), 45.5);

  // Weights sum to 1, so the score tends to 100 and never reaches it.
  assert.equal(REDDIT_SCORE.scorePerHour.weight + REDDIT_SCORE.commentsPerHour.weight + REDDIT_SCORE.upvoteRatio.weight, 1);
  const m3 = redditMetrics(post({ score: 12_345, numComments: 678, upvoteRatio: 0.93, createdUtc: (NOW - 30 * HOUR) / 1000 }), NOW);
  const expected =
    100 *
    (REDDIT_SCORE.scorePerHour.weight * squash(m3.scorePerHour, 25) +
      REDDIT_SCORE.commentsPerHour.weight * squash(m3.commentsPerHour, 5) +
      REDDIT_SCORE.upvoteRatio.weight * squash(0.93, 0.7));
  assert.equal(m3.ageHours, 30);
  assert.equal(m3.scorePerHour, 411.5);
  assert.equal(m3.commentsPerHour, 22.6);
  assert.equal(redditScore(m3), Math.round(expected * 10) / 10);
});

test("scores stay within 0..100 with one decimal, and zero, negative or missing values give no NaN", () => {
  const zero = redditMetrics(post({ score: 0, numComments: 0, upvoteRatio: 0, createdUtc: 0 }), NOW);
  assert.deepEqual(zero, { score: 0, numComments: 0, upvoteRatio: 0, ageHours: 1, scorePerHour: 0, commentsPerHour: 0 });
  assert.equal(redditScore(zero), 0);
  const odd = redditMetrics(post({ score: -40, numComments: Number.NaN, upvoteRatio: Number.NaN, createdUtc: NOW / 1000 + 600 }), NOW);
  assert.equal(odd.ageHours, 1, "a post from the future counts as an hour old");
  assert.equal(redditScore(odd), 0);
  const fresh = redditMetrics(post({ createdUtc: NOW / 1000 - 60, score: 10 }), NOW);
  assert.equal(fresh.ageHours, 1, "at least an hour, so a minute-old post does not explode");
  assert.equal(fresh.scorePerHour, 10);
  const huge = redditScore(redditMetrics(post({ score: 1e9, numComments: 1e9, upvoteRatio: 1, createdUtc: (NOW - HOUR) / 1000 }), NOW));
  for (const s of [redditScore(zero), redditScore(odd), huge, redditScore(redditMetrics(post(), NOW))]) {
    assert.ok(Number.isFinite(s) && s >= 0 && s <= 100, `${s} in 0..100`);
    assert.equal(Math.round(s * 10) / 10, s, "one decimal");
  }
  assert.ok(huge > 85);
});

test("postToIdea of a self post: text, keywords, source fields, score, category and metadata", () => {
  const p = post({
    title: "My sourdough bread recipe after a month of baking",
    selftext: "The ramen broth was next. Video: https://youtu.be/AAAAAAAAAA1",
    flair: "Recipe",
    totalAwards: 2,
  });
  const comments = [comment("Great pasta tip, see https://www.youtube.com/watch?v=BBBBBBBBBB2"), comment("[removed]"), comment("Try a curry soup next", { depth: 1 })];
  const idea = postToIdea(p, comments, NOW);
  const metrics = redditMetrics(p, NOW);
  assert.equal(idea.title, p.title);
  assert.equal(idea.description, p.selftext);
  assert.equal(idea.content, [p.selftext, "Great pasta tip, see https://www.youtube.com/watch?v=BBBBBBBBBB2", "Try a curry soup next"].join("\n\n"));
  assert.deepEqual(idea.keywords!.slice(0, 2), ["recipe", "cooking"], "flair, then the subreddit in lower case");
  assert.ok(idea.keywords!.includes("sourdough") && idea.keywords!.length <= 15);
  assert.equal(idea.sourceType, "text");
  assert.equal(idea.sourceId, p.id);
  assert.equal(idea.sourceUrl, p.permalink);
  assert.equal(idea.sourcePlatform, "reddit");
  assert.equal(idea.sourceCreatedBy, "someone");
  assert.equal(idea.sourceCreatedAt, new Date(NOW - 4 * HOUR).toISOString());
  assert.equal(idea.score, redditScore(metrics));
  assert.equal(idea.category, "food");
  assert.ok((idea.contextualCategoryScores!.food ?? 0) > 0.5);
  assert.ok(Object.keys(idea.subcategoryRelevance!).length > 0);
  assert.deepEqual(idea.metadata, {
    postId: p.id,
    subreddit: "Cooking",
    author: "someone",
    score: 100,
    upvoteRatio: 0.7,
    numComments: 20,
    awards: 2,
    domain: "self.Cooking",
    url: p.url,
    flair: "Recipe",
    isSelf: true,
    over18: false,
    removed: false,
    commentsFetched: 2,
    metrics: { ...metrics },
    youtubeVideoIds: ["AAAAAAAAAA1", "BBBBBBBBBB2"],
  });
});

test("postToIdea of a link post: the link is the description, comments are the content", () => {
  const p = post({
    id: "1h0link",
    title: "New telescope finds a comet near the volcano",
    selftext: "",
    isSelf: false,
    url: "https://news.example.com/science/comet",
    domain: "news.example.com",
    subreddit: "science",
    flair: null,
    author: "[deleted]",
  });
  const idea = postToIdea(p, [comment("The fossil record agrees"), comment("Quantum telescope optics")], NOW);
  assert.equal(idea.description, "https://news.example.com/science/comet");
  assert.equal(idea.content, "The fossil record agrees\n\nQuantum telescope optics");
  assert.equal(idea.keywords![0], "science", "no flair: the subreddit first");
  assert.equal(idea.sourceCreatedBy, null, "a deleted author is unknown");
  assert.equal(idea.category, "science");
  assert.equal(idea.metadata!.isSelf, false);
  assert.equal(idea.metadata!.domain, "news.example.com");
  assert.deepEqual(idea.metadata!.youtubeVideoIds, []);
  const bare = postToIdea(post({ title: "   ", selftext: "[removed]", removedByCategory: "moderator" }), [], NOW);
  assert.equal(bare.title, "Reddit post 1h0abcd");
  assert.equal(bare.description, "", "removed text is not content");
  assert.equal(bare.content, "");
  assert.equal(bare.metadata!.removed, true);
});

test("youtubeLinks finds watch, youtu.be and shorts links in the url, the text and the comments, each once, in order", () => {
  const p = post({
    isSelf: false,
    url: "https://www.youtube.com/watch?v=AAAAAAAAAA1&t=30",
    selftext: "also youtu.be/BBBBBBBBBB2 and https://youtube.com/shorts/CCCCCCCCCC3, again https://youtu.be/AAAAAAAAAA1",
  });
  const comments = [
    comment("shorts https://www.youtube.com/shorts/DDDDDDDDDD4 then youtube.com/watch?v=BBBBBBBBBB2"),
    comment("https://youtu.be/EEEEEEEEEE5?si=x"),
    comment("m.youtube.com/watch?v=FFFFFFFFFF6 and www.youtube.com/shorts/CCCCCCCCCC3"),
    comment("not a link: https://evil.example/youtube.com/watch?v=NNNNNNNNNN8 or youtu.be/short"),
  ];
  assert.deepEqual(youtubeLinks(p, comments), ["AAAAAAAAAA1", "BBBBBBBBBB2", "CCCCCCCCCC3", "DDDDDDDDDD4", "EEEEEEEEEE5", "FFFFFFFFFF6"]);
  assert.deepEqual(youtubeLinks(post(), []), []);
});

test("the Reddit -> YouTube Video edge spawns one Video task per video youtubeLinks finds, in order, one hop further and one priority step lower", () => {
  const p = post({ isSelf: false, url: "https://youtu.be/AAAAAAAAAA1", selftext: "and youtube.com/watch?v=BBBBBBBBBB2, again youtu.be/AAAAAAAAAA1" });
  const comments = [comment("https://www.youtube.com/shorts/CCCCCCCCCC3")];
  const spawned = crossModuleTasks(platform.edges, "reddit", { params: { hops: 0 }, priority: 0 }, { keywords: [], texts: postTexts(p, comments) });
  assert.deepEqual(
    spawned.map((t) => t.params),
    youtubeLinks(p, comments).map((video_id) => ({ hops: 1, video_id })),
  );
  assert.ok(spawned.every((t) => t.type === YouTube.Video.name && t.priority === -HOP_PRIORITY_STEP && t.edge === toYouTubeVideos));
  assert.deepEqual(crossModuleTasks(platform.edges, "reddit", { params: { hops: MAX_HOPS } }, { keywords: [], texts: postTexts(p, comments) }), [], "past the hop limit");
});

test("youtubeLinks reads one text exactly as the shared extractYouTubeIds", () => {
  const texts = [
    "first https://www.youtube.com/watch?feature=share&t=42&v=AAAAAAAAAA1 then youtu.be/BBBBBBBBBB2, also (https://youtube.com/shorts/CCCCCCCCCC3)",
    "embed: http://m.youtube.com/embed/DDDDDDDDDD4 live: www.youtube.com/live/EEEEEEEEEE5?si=x music https://music.youtube.com/watch?v=FFFFFFFFFF6&list=RD",
    'html <a href="https://www.youtube.com/watch?list=PL1&amp;v=HHHHHHHHHH8">x</a> https://www.youtube-nocookie.com/embed/BBBBBBBBBB2 HTTPS://YOUTU.BE/CCCCCCCCCC3',
    "https://www.youtube.com/watch?v=ABCDEFGHIJKL https://notyoutube.com/watch?v=NNNNNNNNNN1 https://youtube.com.evil.example/watch?v=NNNNNNNNNN5",
    "https://evil.example/youtube.com/watch?v=NNNNNNNNNN8 end: youtu.be/KKKKKKKKK11. youtube.com/watch?v=CCCCCCCCCC3#t=5",
    "",
  ];
  for (const text of texts) assert.deepEqual(youtubeLinks(post({ url: "", selftext: text }), []), extractYouTubeIds(text), text);
});

test("youtubeLinks of the sandbox's posts and comments finds exactly the videos the data says they link", async (t) => {
  const sb = await startRedditSandbox();
  t.after(() => sb.close());
  const client = await createRedditClient({ userAgent: UA, clientId: "sandbox-client", clientSecret: "sandbox-secret", baseUrl: sb.url });
  const api = new RedditApi({ client });
  const visible = sb.data.visiblePostCount();
  const ids = Array.from({ length: visible }, (_, i) => sb.data.postId(i));
  const forms = new Set<string>();
  let linking = 0;
  for (let k = 0; k < ids.length; k += 100) {
    const posts = await api.info(ids.slice(k, k + 100));
    assert.equal(posts.length, Math.min(100, ids.length - k));
    for (const p of posts) {
      const ref = sb.data.postYouTube(sb.data.postIndex(p.id)!);
      assert.deepEqual(youtubeLinks(p, []), ref ? [ref.videoId] : [], `post ${p.id}`);
      if (ref) {
        linking++;
        forms.add(ref.form);
        assert.deepEqual(postToIdea(p, [], NOW).metadata!.youtubeVideoIds, [ref.videoId]);
      }
    }
  }
  assert.ok(linking > 20, `posts that link YouTube: ${linking}`);
  assert.deepEqual([...forms].sort(), ["shorts", "watch", "youtu.be"], "all three URL forms were checked");

  // Comments too: the post's video first, then each comment's, once each.
  const withComments = [];
  for (let i = visible - 1; i >= 0 && withComments.length < 5; i--) {
    const size = sb.data.treeSize(i);
    let links = 0;
    for (let j = 0; j < size; j++) if (sb.data.commentYouTube(i, j)) links++;
    if (links >= 2) withComments.push(i);
  }
  assert.equal(withComments.length, 5);
  for (const i of withComments) {
    const { post: p, comments } = await api.comments(sb.data.postId(i), { depth: 10, limit: 500 });
    const expected: string[] = [];
    const add = (id: string | undefined) => {
      if (id && !expected.includes(id)) expected.push(id);
    };
    add(sb.data.postYouTube(i)?.videoId);
    for (const c of comments) {
      const [pi, j] = sb.data.commentIndex(c.id)!;
      assert.equal(pi, i);
      add(sb.data.commentYouTube(i, j)?.videoId);
    }
    assert.ok(expected.length >= 1);
    assert.deepEqual(youtubeLinks(p!, comments), expected, `post ${p!.id}`);
  }
});

test("a cooking post from the sandbox is classified food", async (t) => {
  const sb = await startRedditSandbox();
  t.after(() => sb.close());
  const client = await createRedditClient({ userAgent: UA, clientId: "sandbox-client", clientSecret: "sandbox-secret", baseUrl: sb.url });
  const api = new RedditApi({ client });
  const { items } = await api.listing("Cooking", "top", { t: "all", limit: 25 });
  const ideas = items.map((p) => postToIdea(p, [], NOW));
  const food = ideas.filter((i) => i.category === "food").length;
  assert.ok(food >= 20, `${food} of ${ideas.length} Cooking posts are food`);
  for (const idea of ideas) assert.equal(idea.sourcePlatform, "reddit");
});
