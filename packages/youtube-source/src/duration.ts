/** Seconds of an ISO 8601 duration as YouTube sends it (`PT1H2M3S`, `P1DT2H`, `PT45S`); `null` when it is not one. */
export function durationSeconds(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
  if (!m || iso === "P" || iso.endsWith("T")) return null;
  const [, w, d, h, min, s] = m;
  return Number(w ?? 0) * 604_800 + Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3_600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

/** YouTube Shorts are at most 3 minutes long (vertical videos up to 180 s since October 2024). */
export const SHORTS_MAX_SECONDS = 180;
