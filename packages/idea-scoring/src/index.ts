/**
 * @prismq/idea-scoring: how every platform scores and classifies an idea, with no storage and no
 * dependencies: the keyword classifier (categories and subcategories as weighted word lists) and the
 * helpers that fold a platform's signals into a score from 0 to 100.
 */
export { CATEGORIES, MIN_CATEGORY_SCORE, STOPWORDS, classify, extractTerms, tokenize } from "./classify.js";
export type { ClassifiableText, Classification } from "./classify.js";
export { foldScore, round, squash } from "./score.js";
export type { ScoreSignal } from "./score.js";
