// node-wot ProtocolServer whose HTTP side is the hub's own fastify: it adds the hub's forms; hub/things/plugin.ts routes.
import type { ExposedThing, ProtocolServer, Servient } from './node-wot.ts';
import { addHttpForms } from './hub-forms.ts';

/**
 * node-wot's binding-http would open a second HTTP server on its own port; this server only writes forms under the
 * hub's base URL so that TDs, directory, SPARQL and UI share one origin. Requests reach the Things through the fastify
 * routes of hub/things/plugin.ts, which are registered once at build time (fastify cannot add routes after start).
 */
export class FastifyProtocolServer implements ProtocolServer {
  readonly scheme = 'http';
  private readonly exposed = new Set<string>();

  constructor(
    private readonly baseUrl: string,
    private readonly readsOpen: boolean,
  ) {}

  async expose(thing: ExposedThing): Promise<void> {
    addHttpForms(thing, this.baseUrl, this.readsOpen);
    this.exposed.add(thing.id);
  }

  async destroy(thingId: string): Promise<boolean> {
    return this.exposed.delete(thingId);
  }

  async start(_servient: Servient): Promise<void> {}

  async stop(): Promise<void> {
    this.exposed.clear();
  }

  /** The port of the hub's base URL (fastify owns the socket). */
  getPort(): number {
    const url = new URL(this.baseUrl);
    return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  }
}
