/**
 * @prismq/idea-scoring: how every platform scores and classifies an idea, with no storage and no
 * dependencies: the keyword classifier (categories and subcategories as weighted word lists) and the
 * helpers that fold a platform's signals into a score from 0 to 100.
 */
export { CATEGORIES, MIN_CATEGORY_SCORE, STOPWORDS, classify, extractTerms, tokenize } from "./classify.js";
export type { ClassifiableText, Classification } from "./classify.js";
export { IDEA_KEYWORDS, MAX_TITLE_CHARS, ideaText } from "./idea.js";
export type { IdeaTextFields } from "./idea.js";
export { ageIn, foldScore, perAge, round, squash } from "./score.js";
export type { ScoreSignal } from "./score.js";
