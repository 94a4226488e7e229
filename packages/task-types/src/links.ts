/**
 * Every YouTube video id linked in `text`, once each, in order of first
 * appearance: `youtube.com/watch?v=`, `youtu.be/`, `youtube.com/shorts/`,
 * `youtube.com/embed/`, `youtube.com/live/`, with or without `www.` or `m.`,
 * `music.` too, `youtube-nocookie.com/embed/`, with or without the scheme, host in any case.
 * A YouTube address inside another site's path is not a link.
 */
export function extractYouTubeIds(text: string): string[] {
  const ids: string[] = [];
  const seen = new Set<string>();
  const patterns = [
    /(?:^|[^A-Za-z0-9./-])(?:https?:\/\/)?(?:(?:www|m|music)\.)?youtube\.com\/watch\?(?:[^\s#]*?&(?:amp;)?)?v=([A-Za-z0-9_-]{11})(?![A-Za-z0-9_-])/gi,
    /(?:^|[^A-Za-z0-9./-])(?:https?:\/\/)?(?:www\.)?youtu\.be\/([A-Za-z0-9_-]{11})(?![A-Za-z0-9_-])/gi,
    /(?:^|[^A-Za-z0-9./-])(?:https?:\/\/)?(?:(?:www|m)\.)?(?:youtube|youtube-nocookie)\.com\/(?:shorts|embed|live)\/([A-Za-z0-9_-]{11})(?![A-Za-z0-9_-])/gi,
  ];
  const found: Array<{ at: number; id: string }> = [];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push({ at: m.index ?? 0, id: m[1] as string });
  found.sort((a, b) => a.at - b.at);
  for (const { id } of found) {
    if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  }
  return ids;
}
