import { classify, extractTerms, type ClassifiableText, type Classification } from "./classify.js";

/** An idea's title is cut to this many characters (the store's limit). */
export const MAX_TITLE_CHARS = 1_000;
/** How many keywords an idea keeps: its tags, then its strongest terms. */
export const IDEA_KEYWORDS = 15;

/** The fields of an idea every platform makes the same way from its text. */
export interface IdeaTextFields extends Classification {
  title: string;
  description: string;
  content: string;
  keywords: string[];
}

/**
 * The text fields of a platform's idea: `text` is what the classifier and the keyword picker read
 * (title, tags, description, comments), `stored` the description and content the idea keeps, each
 * platform bounding them its own way. The title is cut to {@link MAX_TITLE_CHARS}; the keywords are
 * {@link IDEA_KEYWORDS} terms of `text`. A platform adds its own source fields, score and metadata.
 */
export function ideaText(text: ClassifiableText, stored: { description: string; content: string }): IdeaTextFields {
  const { category, contextualCategoryScores, subcategoryRelevance } = classify(text);
  return {
    title: text.title.slice(0, MAX_TITLE_CHARS),
    description: stored.description,
    content: stored.content,
    keywords: extractTerms(text, IDEA_KEYWORDS),
    category,
    subcategoryRelevance,
    contextualCategoryScores,
  };
}
