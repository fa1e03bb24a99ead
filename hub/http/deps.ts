// What the HTTP plugins are built from: configuration, the store, auth, and the hub's services.
import type { HubConfig } from '../config.ts';
import type { QuadStore } from '../store/quad-store.ts';
import type { TokenAuth } from './auth.ts';
import type { Directory } from '../directory/directory.ts';

export interface HubDeps {
  config: HubConfig;
  store: QuadStore;
  auth: TokenAuth;
  /** The WoT Thing Description Directory (hub/directory). */
  directory: Directory;
}
