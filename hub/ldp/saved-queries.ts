// The named example queries of sparql/*.rq: each file starts with "# title:" and "# description:" comment lines.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface SavedQuery {
  name: string;
  title: string;
  description?: string;
  text: string;
}

const DEFAULT_DIR = fileURLToPath(new URL('../../sparql/', import.meta.url));

/** Reads the header of a saved query: `# title: ...` and `# description: ...` (continued by further `#` lines). */
export function parseSavedQuery(name: string, text: string): SavedQuery {
  let title = name;
  let description: string | undefined;
  let last: 'title' | 'description' | undefined;
  for (const line of text.split(/\r?\n/)) {
    const m = /^#\s?(.*)$/.exec(line);
    if (!m) break;
    const field = /^(title|description)\s*:\s*(.*)$/i.exec(m[1]!);
    if (field) {
      last = field[1]!.toLowerCase() as 'title' | 'description';
      if (last === 'title') title = field[2]!.trim();
      else description = field[2]!.trim();
    } else if (last === 'description' && m[1]!.trim()) description = `${description ?? ''} ${m[1]!.trim()}`.trim();
  }
  return { name, title, description, text };
}

/** The saved queries, read from disk once per listing (a handful of small files). */
export class SavedQueries {
  constructor(private readonly dir = DEFAULT_DIR) {}

  names(): string[] {
    try {
      return readdirSync(this.dir).filter((f) => /^[A-Za-z0-9._-]+\.rq$/.test(f)).sort();
    } catch {
      return [];
    }
  }

  get(name: string): SavedQuery | undefined {
    if (!this.names().includes(name)) return undefined;
    return parseSavedQuery(name, readFileSync(`${this.dir}${name}`, 'utf8'));
  }
}
