// The Comunica side of the store benchmark: the same quads in an n3 Store, queried by @comunica/query-sparql.
import { QueryEngine } from '@comunica/query-sparql';
import { Parser, Store } from 'n3';

export class ComunicaSide {
  readonly store = new Store();
  private readonly engine = new QueryEngine();

  /** Adds N-Quads text to the n3 Store. */
  load(nquads: string): void {
    this.store.addQuads(new Parser({ format: 'N-Quads' }).parse(nquads));
  }

  /** Runs a SELECT and returns its rows as plain objects of term values. */
  async select(query: string): Promise<Array<Record<string, string>>> {
    const stream = await this.engine.queryBindings(query, { sources: [this.store] });
    const rows = await stream.toArray();
    return rows.map((b) => Object.fromEntries([...b].map(([k, v]) => [k.value, v.value])));
  }
}
