// README paragraphs that scripts write between two HTML comment markers (package-figures.mjs, bench-figures.mjs).

/** The text between `start` and `end` in `readme`, and where it sits. */
export function markedParagraph(readme, start, end) {
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} markers`);
  return { start: from + start.length, end: to, text: readme.slice(from + start.length, to).trim() };
}

/** `readme` with the text between the markers replaced by `text`. */
export function replaceMarked(readme, start, end, text) {
  const current = markedParagraph(readme, start, end);
  return `${readme.slice(0, current.start)}\n${text}\n${readme.slice(current.end)}`;
}

/** Break `text` into lines of at most `width` characters, at spaces. */
export function wrap(text, width) {
  const lines = [''];
  for (const word of text.split(' ')) {
    const last = lines.length - 1;
    if (lines[last] === '') lines[last] = word;
    else if (lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines.join('\n');
}
