// What the Thing runtime needs from the Thing Directory (hub/directory): list, register and change events.

/** A Thing Description as plain JSON (W3C WoT TD 1.1). */
export type ThingDescription = Record<string, unknown> & { id?: string };

export type DirectoryEvent = 'thing_created' | 'thing_updated' | 'thing_deleted';
export interface DirectoryChange {
  id: string;
  td?: ThingDescription;
}

/**
 * The part of the WoT Discovery TDD (W3C WoT Discovery 1.0 §7.3) the runtime uses; hub/directory implements it.
 */
export interface DirectoryPort {
  /** Every registered TD. */
  all(): Promise<ThingDescription[]>;
  put(id: string, td: ThingDescription): Promise<unknown>;
  on(event: DirectoryEvent, listener: (change: DirectoryChange) => void): unknown;
  off?(event: DirectoryEvent, listener: (change: DirectoryChange) => void): unknown;
}
