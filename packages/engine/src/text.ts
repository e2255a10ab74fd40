/**
 * Cutting text to a length, in one place: prompts, events, tables and the journal all cut with these, marked by `…`.
 */

/** At most `max` characters: the start, ending in `…` when cut. */
export const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** At most `max` characters: the end, starting with `…` when cut (error output ends with the part that matters). */
export const tail = (text: string, max: number): string =>
  text.length > max ? `…${text.slice(text.length - max + 1)}` : text;

/** Whitespace collapsed onto one line, then clipped. */
export const oneLine = (text: string, max: number): string => clip(text.replace(/\s+/g, ' ').trim(), max);

/**
 * One line of at most `max` characters cut at a word boundary (the first sentence when it fits), ending in `…` when
 * cut: a table cell never ends in half a word.
 */
export function clipAtWord(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const sentence = /^(.+?[.!?])(\s|$)/.exec(flat)?.[1];
  if (sentence && sentence.length <= max) return sentence;
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.]+$/, '')}…`;
}
