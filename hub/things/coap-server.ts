// node-wot's CoapServer bound to the configured host only, without mDNS, with the hub's request router and datagram gate.
import type { RemoteInfo, Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { wotCoap, type ExposedThing, type ProtocolServer, type Servient } from './node-wot.ts';
import { addCoapForms } from './hub-forms.ts';
import type { CoapRequest, CoapResponse, CoapRouter } from './coap-router.ts';
import { CON, inspectDatagram, NON, outgoingExchange, replyDatagram, resetDatagram, type CoapMessage } from './coap-datagram.ts';

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

/** node-coap Server internals the gate replaces (coap 1.5 dist/lib/server.js). */
interface NodeCoapInternals {
  _sock?: Socket | null;
  _handle(packet: { reset?: boolean; ack?: boolean }, rsinfo: RemoteInfo): void;
  _sendError(payload: Buffer, rsinfo: RemoteInfo, packet?: { confirmable?: boolean; messageId?: number; token?: Buffer }, code?: string): void;
}

type SendArgs = [Buffer, ...unknown[]];

/** Outgoing Confirmable/Non-confirmable messages remembered to match Resets (a Reset carries only the message ID). */
const EXCHANGES_KEPT = 8192;

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
  private socket?: Socket;
  /** node-coap's own datagram listener: well-formed requests, ACKs and RSTs go on to it. */
  private forward?: (msg: Buffer, rsinfo: RemoteInfo) => void;
  /** `address|port|messageId` of a notification we sent -> its token (hex), to cancel the relation a Reset names. */
  private readonly exchanges = new Map<string, string>();
  private nextMessageId = randomInt(0x10000);

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly readsOpen: boolean,
    private readonly formHost: string,
    private readonly router: CoapRouter,
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
    this.installGate(server as unknown as NodeCoapInternals);
    this.listening = true;
  }

  /**
   * Puts handleDatagram in front of node-coap's datagram listener, watches outgoing messages (to match Resets), and
   * replaces two node-coap defects: a Reset that matches no cached message fell through to request handling (its
   * `packet.ack ?? packet.reset` is false for a Reset), and its error replies were 5.00 with the parser's message,
   * without the request's message ID, sent to the client's port on the default address.
   */
  private installGate(server: NodeCoapInternals): void {
    const sock = server._sock;
    if (!sock) return;
    this.socket = sock;
    this.forward = sock.listeners('message')[0] as (msg: Buffer, rsinfo: RemoteInfo) => void;
    sock.removeAllListeners('message');
    sock.on('message', (msg: Buffer, rsinfo: RemoteInfo) => this.handleDatagram(msg, rsinfo));
    const send = sock.send.bind(sock) as (...args: SendArgs) => void;
    (sock as unknown as { send: (...args: SendArgs) => void }).send = (...args: SendArgs) => {
      this.noteOutgoing(args);
      send(...args);
    };
    const handle = server._handle.bind(server);
    server._handle = (packet, rsinfo) => {
      if (packet.reset) packet.ack = undefined; // node-coap then ends a matching exchange and otherwise returns
      handle(packet, rsinfo);
    };
    server._sendError = (payload, rsinfo, packet, code = '5.00') => {
      // Reached only for requests the gate passed and node-coap still refused (e.g. an inconsistent Block1 sequence):
      // a client error, answered 4.00 without node-coap's message (`payload`), not logged as a failure.
      void payload;
      if (!packet || packet.messageId === undefined) return; // a reply the client could not match: send nothing
      const request: CoapMessage = {
        type: packet.confirmable ? CON : NON, codeClass: 0, codeDetail: 1, messageId: packet.messageId,
        token: packet.token ?? Buffer.alloc(0), options: [], payload: Buffer.alloc(0),
      };
      this.sendRaw(replyDatagram(request, code.startsWith('5') ? '4.00' : code, 'Bad Request', this.nextMessageId++), rsinfo);
    };
  }

  /**
   * Entry point of every datagram (RFC 7252): inspectDatagram decides, and only well-formed requests, empty ACKs and
   * Resets reach node-coap. Never throws. A test or fuzzer with a started server may call it directly.
   */
  handleDatagram(msg: Buffer, rsinfo: RemoteInfo): void {
    try {
      const verdict = inspectDatagram(msg);
      switch (verdict.action) {
        case 'ignore':
          return;
        case 'reset':
          return this.sendRaw(resetDatagram(verdict.messageId), rsinfo);
        case 'reply':
          return this.sendRaw(replyDatagram(verdict.message, verdict.code, verdict.reason, this.nextMessageId++), rsinfo);
        case 'cancel': {
          // RFC 7641 §3.6: a Reset to a notification cancels the relation; node-coap then stops retransmitting it.
          const key = `${rsinfo.address}|${rsinfo.port}|${verdict.messageId}`;
          const token = this.exchanges.get(key);
          this.exchanges.delete(key);
          if (token !== undefined) this.router.cancel(rsinfo.address, rsinfo.port, token);
          return this.forward?.(msg, rsinfo);
        }
        case 'ack':
        case 'request':
          return this.forward?.(msg, rsinfo);
      }
    } catch (e) {
      this.onError(e, 'CoAP datagram handling failed');
    }
  }

  private noteOutgoing(args: SendArgs): void {
    const [msg, a, b, c, d] = args;
    if (!Buffer.isBuffer(msg)) return;
    const exchange = outgoingExchange(msg);
    if (!exchange || (exchange.type !== CON && exchange.type !== NON) || exchange.token === '') return;
    // send(msg, offset, length, port, address, cb) or send(msg, port, address, cb)
    const [port, address] = typeof a === 'number' && typeof b === 'number' ? [c, d] : [a, b];
    this.exchanges.set(`${String(address)}|${String(port)}|${exchange.messageId}`, exchange.token);
    if (this.exchanges.size > EXCHANGES_KEPT) this.exchanges.delete(this.exchanges.keys().next().value!);
  }

  private sendRaw(datagram: Buffer, rsinfo: RemoteInfo): void {
    this.socket?.send(datagram, 0, datagram.length, rsinfo.port, rsinfo.address, (err) => {
      if (err) this.onError(err, 'CoAP send failed');
    });
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
