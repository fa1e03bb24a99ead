// Public types of the Directory: its options and its lifecycle events (WoT Discovery §7.3.2.5).
import type { QuadStore } from '../store/quad-store.ts';
import type { ThingDescription } from './registration.ts';
import type { TdValidator } from './validator.ts';

export type DirectoryEventType = 'thing_created' | 'thing_updated' | 'thing_deleted';

/** Payload of a lifecycle event (WoT Discovery §7.3.2.5): `td` is the enriched TD, `diff` the merge patch of an update. */
export interface DirectoryEvent {
  id: string;
  td?: ThingDescription;
  diff?: Record<string, unknown>;
}

export interface DirectoryOptions {
  store: QuadStore;
  baseUrl: string;
  clock?: () => Date;
  /** Where TDs are kept across restarts (`<dataDir>/directory`); without it the directory lives in memory only. */
  dataDir?: string;
  /** How often expired TDs are purged (tdd-registrationinfo-expiry-purge). */
  purgeIntervalMs?: number;
  validator?: TdValidator;
}
