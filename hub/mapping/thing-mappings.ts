// Which mapfile each Thing uses: read from the `mapping` member of its TD (kept in sync with directory events) or attached.

/** The slice of the Thing Directory this needs (hub/directory Directory satisfies it). */
export interface TdSource {
  on(type: 'thing_created' | 'thing_updated' | 'thing_deleted', listener: (event: { id: string; td?: Record<string, unknown> }) => void): unknown;
  all(): Promise<Array<Record<string, unknown>>>;
}

/** TD members that name the mapfile: `"mapping": "<name>"` (or the mapfile's URL ending in /mappings/<name>). */
export const TD_MAPPING_MEMBERS = ['mapping', 'hub:mapping'];

/** The mapfile name a TD names, if any. */
export function mappingOfTd(td: Record<string, unknown> | undefined): string | undefined {
  if (!td) return undefined;
  for (const key of TD_MAPPING_MEMBERS) {
    const v = td[key];
    const s = typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { '@id'?: unknown })['@id'] === 'string' ? (v as { '@id': string })['@id'] : undefined;
    if (s) {
      const m = /\/mappings\/([^/?#]+)$/.exec(s);
      return m ? decodeURIComponent(m[1]!) : s;
    }
  }
  return undefined;
}

/**
 * Resolves thingId -> mapfile name synchronously (the router's hot path). Explicit attachments win over TDs; TD
 * changes are picked up from directory events, so a TD update takes effect for the next message.
 */
export class ThingMappings {
  private readonly fromTd = new Map<string, string>();
  private readonly attached = new Map<string, string>();

  /** Follows a directory: loads every TD now, then tracks created/updated/deleted events. */
  async follow(directory: TdSource): Promise<void> {
    const track = (e: { id: string; td?: Record<string, unknown> }): void => {
      const name = mappingOfTd(e.td);
      if (name) this.fromTd.set(e.id, name);
      else this.fromTd.delete(e.id);
    };
    directory.on('thing_created', track);
    directory.on('thing_updated', track);
    directory.on('thing_deleted', (e) => this.fromTd.delete(e.id));
    for (const td of await directory.all()) {
      const id = typeof td.id === 'string' ? td.id : undefined;
      const name = mappingOfTd(td);
      if (id && name) this.fromTd.set(id, name);
    }
  }

  attach(thingId: string, name: string): void {
    this.attached.set(thingId, name);
  }

  detach(thingId: string): boolean {
    return this.attached.delete(thingId);
  }

  resolve = (thingId: string): string | undefined => this.attached.get(thingId) ?? this.fromTd.get(thingId);
}
