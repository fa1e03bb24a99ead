// Where a JSON Pointer (RFC 6901) points in a JSON text: a small scanner (no library maps pointers to text offsets).

/** Line (1-based) and column (1-based) of the member key (or array element) `pointer` names in `text`; undefined if absent. */
export function locatePointer(text: string, pointer: string): { line: number; column: number; length: number } | undefined {
  const want = pointer === '' || pointer === '/' ? [] : pointer.replace(/^\//, '').split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    const raw = text.slice(start + 1, i - 1);
    if (!raw.includes('\\')) return raw;
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      return raw;
    }
  };
  // Malformed text never loops (each turn moves on, or the scan ends) nor recurses past 512 levels.
  const skip = (depth = 0): void => {
    ws();
    const c = text[i];
    if (c === '"') return void str();
    if ((c === '{' || c === '[') && depth < 512) {
      const close = c === '{' ? '}' : ']';
      i++;
      for (;;) {
        ws();
        if (text[i] === close || i >= text.length) return void i++;
        const turn = i;
        if (c === '{') {
          str();
          ws();
          i++; // ':'
        }
        skip(depth + 1);
        ws();
        if (text[i] === ',') i++;
        if (i === turn) i++;
      }
    }
    while (i < text.length && !/[\s,}\]]/.test(text[i]!)) i++;
  };
  let found = { at: 0, length: 1 };
  for (const seg of want) {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      let hit = false;
      for (;;) {
        ws();
        if (text[i] === '}' || i >= text.length) break;
        const keyAt = i;
        const turn = i;
        const key = str();
        ws();
        i++;
        if (key === seg) {
          found = { at: keyAt, length: i - keyAt - 1 };
          hit = true;
          break;
        }
        skip();
        ws();
        if (text[i] === ',') i++;
        if (i === turn) i++;
      }
      if (!hit) return at(text, found);
    } else if (c === '[') {
      i++;
      const n = Number(seg);
      let k = 0;
      for (; ; k++) {
        ws();
        if (text[i] === ']' || i >= text.length) return at(text, found);
        if (k === n) {
          found = { at: i, length: 1 };
          break;
        }
        const turn = i;
        skip();
        ws();
        if (text[i] === ',') i++;
        if (i === turn) i++;
      }
    } else return at(text, found);
  }
  return at(text, found);
}

function at(text: string, f: { at: number; length: number }): { line: number; column: number; length: number } {
  const before = text.slice(0, f.at);
  const line = before.split('\n').length;
  return { line, column: f.at - before.lastIndexOf('\n'), length: f.length };
}
