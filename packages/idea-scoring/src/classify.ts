/**
 * The transparent keyword classifier shared by every platform: each category
 * and subcategory is a list of words with weights, written out below, and an
 * idea's score for a category is the weighted count of those words in its
 * text, with the title counting most. Nothing is learned or hidden: to change
 * a verdict, change a list.
 */

/** Text of an idea, by field. Title words weigh 3, tags 2, description 1, content 0.5. */
export interface ClassifiableText {
  /** Words weigh 3. */
  title: string;
  /** Words weigh 2; `extractTerms` answers tags first. @defaultValue none */
  tags?: readonly string[];
  /** Words weigh 1. @defaultValue none */
  description?: string;
  /** Words weigh 0.5. @defaultValue none */
  content?: string;
}

export interface Classification {
  /** The best category, or `uncategorized` when no category reaches {@link MIN_CATEGORY_SCORE}. */
  category: string;
  /** Share of each category with any evidence (0..1, 3 decimals, summing to about 1). */
  contextualCategoryScores: Record<string, number>;
  /** Share of each subcategory of the chosen category with any evidence (0..1, 3 decimals). */
  subcategoryRelevance: Record<string, number>;
}

type Words = Record<string, number>;

/** Category -> subcategory -> word -> weight. A word may appear in several categories. */
export const CATEGORIES: Record<string, Record<string, Words>> = {
  technology: {
    hardware: { laptop: 2, smartphone: 2, keyboard: 1.5, chip: 2, battery: 1.5, camera: 1, router: 2, display: 1, gpu: 2, cpu: 2 },
    software: { linux: 2, software: 2, app: 1, typescript: 2, python: 1.5, code: 1.5, programming: 2, server: 1.5, database: 2, ai: 1.5 },
    reviews: { review: 1, unboxing: 2, comparison: 1, benchmark: 2 },
  },
  gaming: {
    play: { speedrun: 2, boss: 1.5, quest: 1.5, multiplayer: 2, gameplay: 2, walkthrough: 2, level: 0.5 },
    platforms: { console: 2, controller: 2, arcade: 2, pc: 1, steam: 1.5 },
    genres: { indie: 1.5, strategy: 1.5, puzzle: 1.5, rpg: 2, shooter: 2 },
  },
  food: {
    recipes: { recipe: 2, sourdough: 2, ramen: 2, curry: 2, pasta: 2, dumplings: 2, soup: 1.5, pancakes: 2, bread: 1.5 },
    technique: { knife: 1.5, roast: 1, spice: 1.5, baking: 2, cooking: 2, kitchen: 1.5, grill: 1.5 },
  },
  music: {
    instruments: { guitar: 2, synth: 2, drums: 2, piano: 2, bass: 1, vocals: 1.5 },
    production: { mixing: 2, melody: 1.5, chord: 2, vinyl: 1.5, album: 1.5, song: 1.5, beat: 1 },
  },
  science: {
    physics: { quantum: 2, fusion: 2, physics: 2, particle: 2 },
    life: { genome: 2, neuron: 2, enzyme: 2, biology: 2, fossil: 2, evolution: 2 },
    earth: { volcano: 2, climate: 2, earthquake: 2, ocean: 1 },
    space: { telescope: 2, comet: 2, rocket: 2, orbit: 2, mars: 2, satellite: 2, moon: 1.5, launch: 1, astronaut: 2, nebula: 2, eclipse: 2, station: 0.5 },
  },
  education: {
    lessons: { tutorial: 1.5, lesson: 2, course: 2, explained: 1.5, learn: 1.5, guide: 1, beginner: 1 },
    subjects: { algebra: 2, calculus: 2, history: 1.5, grammar: 2, statistics: 2, economics: 1.5 },
  },
  fitness: {
    strength: { deadlift: 2, squat: 2, kettlebell: 2, protein: 1.5, workout: 2, gym: 2 },
    endurance: { marathon: 2, cardio: 2, cycling: 1.5, running: 1.5 },
    mobility: { mobility: 2, stretching: 2, yoga: 2 },
  },
  travel: {
    destinations: { island: 1.5, mountains: 1.5, desert: 1.5, museum: 1, market: 0.5, city: 1 },
    ways: { backpacking: 2, train: 1, hostel: 2, ferry: 1.5, roadtrip: 2, flight: 1.5, travel: 2 },
  },
  finance: {
    personal: { budget: 1.5, savings: 2, mortgage: 2, rent: 1, credit: 1.5, taxes: 2, retirement: 2 },
    markets: { index: 1, dividend: 2, inflation: 2, stocks: 2, investing: 2 },
  },
  comedy: {
    formats: { sketch: 2, standup: 2, prank: 2, parody: 2, bloopers: 2, improv: 2, satire: 2, sitcom: 2, meme: 1.5, funny: 1.5 },
  },
  diy: {
    making: { woodworking: 2, plywood: 2, drill: 1.5, workbench: 2, solder: 2, shelf: 1.5, tiles: 1.5, lamp: 1, paint: 1, diy: 2 },
    garden: { garden: 2, plants: 1.5, compost: 2 },
  },
};

/** Below this weighted score an idea is `uncategorized`. */
export const MIN_CATEGORY_SCORE = 2;

const FIELD_WEIGHTS = { title: 3, tags: 2, description: 1, content: 0.5 } as const;

/** Words too common to mean anything, left out of terms. */
export const STOPWORDS = new Set(
  (
    "a about above after again against all am an and any are as at be because been before being below between both but by can could did do does doing down " +
    "during each few for from further had has have having he her here hers herself him himself his how i if in into is it its itself just me more most my " +
    "myself no nor not now of off on once only or other our ours ourselves out over own same she should so some such than that the their theirs them " +
    "themselves then there these they this those through to too under until up very was we were what when where which while who whom why will with you " +
    "your yours yourself yourselves also get got like one two new via vs ever really every much many would make made thing things way video videos watch " +
    "http https www com youtube youtu reddit post comment comments amp let lets im ive dont cant wont didnt isnt thats heres"
  ).split(" "),
);

/** Lower-case words of 2+ letters or digits (URLs dropped), in order. */
export function tokenize(text: string): string[] {
  return (
    text
      .replace(/https?:\/\/\S+/g, " ")
      .toLowerCase()
      .match(/[a-z0-9][a-z0-9'-]*[a-z0-9]|[a-z]{2,}/g) ?? []
  ).map((w) => w.replace(/'s$/, "").replace(/'/g, ""));
}

function weightedCounts(text: ClassifiableText): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (words: string[], weight: number) => {
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + weight);
  };
  add(tokenize(text.title), FIELD_WEIGHTS.title);
  for (const tag of text.tags ?? []) add(tokenize(tag), FIELD_WEIGHTS.tags);
  add(tokenize(text.description ?? ""), FIELD_WEIGHTS.description);
  add(tokenize(text.content ?? ""), FIELD_WEIGHTS.content);
  return counts;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

function shares(scores: Record<string, number>): Record<string, number> {
  const total = Object.values(scores).reduce((a, b) => a + b, 0);
  const out: Record<string, number> = {};
  if (total === 0) return out;
  for (const [k, v] of Object.entries(scores).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) if (v > 0) out[k] = round3(v / total);
  return out;
}

/** Classifies an idea's text with the word lists in {@link CATEGORIES}. Deterministic; ties go to the name first in alphabetical order. */
export function classify(text: ClassifiableText): Classification {
  const counts = weightedCounts(text);
  const categoryScores: Record<string, number> = {};
  const subScores: Record<string, Record<string, number>> = {};
  for (const [category, subs] of Object.entries(CATEGORIES)) {
    let total = 0;
    const perSub: Record<string, number> = {};
    for (const [sub, words] of Object.entries(subs)) {
      let s = 0;
      for (const [word, weight] of Object.entries(words)) s += (counts.get(word) ?? 0) * weight;
      perSub[sub] = s;
      total += s;
    }
    categoryScores[category] = total;
    subScores[category] = perSub;
  }
  const ranked = Object.entries(categoryScores).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const [best, bestScore] = ranked[0] ?? ["uncategorized", 0];
  const category = bestScore >= MIN_CATEGORY_SCORE ? best : "uncategorized";
  return {
    category,
    contextualCategoryScores: shares(categoryScores),
    subcategoryRelevance: category === "uncategorized" ? {} : shares(subScores[category] ?? {}),
  };
}

/**
 * The idea's strongest terms: words weighted by field (title 3, tags 2,
 * description 1, content 0.5), stopwords and numbers left out, highest
 * first, ties in first-seen order. Tags come first as given (lower-cased).
 * @param limit - the most terms answered, a count
 * @defaultValue limit: 12 (terms)
 */
export function extractTerms(text: ClassifiableText, limit = 12): string[] {
  const counts = weightedCounts(text);
  const terms: string[] = [];
  const seen = new Set<string>();
  const push = (t: string) => {
    if (!seen.has(t) && terms.length < limit) {
      seen.add(t);
      terms.push(t);
    }
  };
  for (const tag of text.tags ?? []) {
    const t = tag.trim().toLowerCase();
    if (t.length >= 2 && t.length <= 64) push(t);
  }
  [...counts.entries()]
    .filter(([w]) => w.length >= 3 && !STOPWORDS.has(w) && !/^\d+$/.test(w))
    .sort((a, b) => b[1] - a[1])
    .forEach(([w]) => push(w));
  return terms;
}
