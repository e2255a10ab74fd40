/**
 * Just enough of a terminal to test the live displays: what the screen (and its scrollback) shows after a stream of
 * output. It knows `\n` (as a tty with ONLCR: next row, first column), `\r`, cursor up (`ESC[nA`), erase down
 * (`ESC[J`), erase to line end (`ESC[K`); colours and cursor visibility are ignored; lines wrap at `columns`.
 * Returns the rows, or with `joinWrapped` the lines as written (a row continued by wrapping joined to the next).
 */
export function emulateTerminal(output: string, columns: number, options: { joinWrapped?: boolean } = {}): string[] {
  const rows: string[][] = [[]];
  /** Rows that began because the one above wrapped. */
  const continued = new Set<number>();
  let row = 0;
  let col = 0;
  const line = () => {
    while (rows.length <= row) rows.push([]);
    return rows[row]!;
  };
  for (let i = 0; i < output.length; ) {
    const rest = output.slice(i);
    const sequence = /^\x1b\[(\?)?([0-9;]*)([A-Za-z])/.exec(rest);
    if (sequence) {
      const [whole, , digits, command] = sequence;
      const n = digits ? Number(digits) : 1;
      if (command === 'A') row = Math.max(0, row - n);
      else if (command === 'J') {
        rows.splice(row + 1);
        for (const index of continued) if (index > row) continued.delete(index);
        line().splice(col);
      } else if (command === 'K') line().splice(col);
      i += whole.length;
      continue;
    }
    const char = String.fromCodePoint(output.codePointAt(i)!);
    i += char.length;
    if (char === '\n') {
      row++;
      col = 0;
      line();
      continued.delete(row);
    } else if (char === '\r') {
      col = 0;
    } else {
      if (col >= columns) {
        row++;
        col = 0;
        line();
        continued.add(row);
      }
      const current = line();
      while (current.length < col) current.push(' ');
      current[col] = char;
      col++;
    }
  }
  const texts = rows.map((cells) => cells.join(''));
  if (!options.joinWrapped) return texts.map((text) => text.trimEnd());
  const lines: string[] = [];
  texts.forEach((text, index) => {
    if (continued.has(index) && lines.length > 0) lines[lines.length - 1] += text;
    else lines.push(text);
  });
  return lines.map((text) => text.trimEnd());
}
