// node-wot's CoapServer bound to the configured host only, without mDNS, with the hub's request router.
import { wotCoap, type ExposedThing, type ProtocolServer, type Servient } from './node-wot.ts';
import { addCoapForms } from './hub-forms.ts';
import type { CoapRequest, CoapResponse, CoapRouter } from './coap-router.ts';

/** node-coap's Server as node-wot's CoapServer holds it (private there). */
interface NodeCoapServer {
  listen(port: number, address: string, done: (err?: Error) => void): unknown;
  once(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  off(event: 'error', listener: (err: Error) => void): unknown;
}

interface CoapServerInternals {
  server: NodeCoapServer;
  handleRequest: (req: CoapRequest, res: CoapResponse) => void;
}

/**
 * Wraps @node-wot/binding-coap's CoapServer (RFC 7252) and works around its 0.8.16 defects: start() would open mDNS on
 * 0.0.0.0:5353 (we listen ourselves and never create the MdnsIntroducer); expose() would add forms for every interface
 * address and every media type (we add one application/json form per operation on the configured host); and its
 * request handler can crash the process (replaced by CoapRouter).
 */
export class HubCoapServer implements ProtocolServer {
  readonly scheme = 'coap';
  private readonly inner: InstanceType<typeof wotCoap.CoapServer>;
  private listening = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly readsOpen: boolean,
    private readonly formHost: string,
    router: CoapRouter,
    private readonly onError: (error: unknown, context: string) => void,
    /** When false, a port that cannot be bound is reported and the hub runs without CoAP (and without CoAP forms). */
    private readonly required = false,
  ) {
    this.inner = new wotCoap.CoapServer({ port, address: host });
    // The node-coap request callback calls `this.handleRequest(req, res)` on the CoapServer instance: shadow it.
    (this.inner as unknown as CoapServerInternals).handleRequest = (req, res) => router.handle(req, res);
  }

  async start(_servient: Servient): Promise<void> {
    const server = (this.inner as unknown as CoapServerInternals).server;
    try {
      await this.listen(server);
    } catch (e) {
      if (this.required) throw e;
      this.onError(e, `CoAP server not started on ${this.host}:${this.port}; Things are exposed over HTTP only`);
      return;
    }
    // Socket errors after start (e.g. ICMP unreachable) are logged, never thrown.
    server.on('error', (err) => this.onError(err, 'CoAP socket error'));
    this.listening = true;
  }

  /** Whether the CoAP socket is bound (false after a tolerated bind failure). */
  get isListening(): boolean {
    return this.listening;
  }

  private async listen(server: NodeCoapServer): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error) => reject(err);
      server.once('error', failed);
      server.listen(this.port, this.host, (err) => {
        server.off('error', failed);
        if (err) reject(err);
        else resolve();
      });
    });
  }

  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    await this.inner.stop();
  }

  /** The bound UDP port (the configured one until the socket is bound; 0 asks the OS for one). */
  getPort(): number {
    const port = this.inner.getPort();
    return port > 0 ? port : this.port;
  }

  async expose(thing: ExposedThing): Promise<void> {
    if (!this.listening) return;
    addCoapForms(thing, this.formHost, this.getPort(), this.readsOpen);
  }

  async destroy(_thingId: string): Promise<boolean> {
    return true;
  }
}
