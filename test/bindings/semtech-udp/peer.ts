// Test helper: a python3 UDP peer speaking the packet-forwarder protocol (sends datagrams, collects each reply).
import { execFile } from 'node:child_process';

const SCRIPT = `
import socket, sys, json, time
port = int(sys.argv[1])
wait = float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(wait)
out = []
for h in sys.argv[3:]:
    t = time.monotonic()
    s.sendto(bytes.fromhex(h), ('127.0.0.1', port))
    try:
        data, _ = s.recvfrom(65535)
        out.append([data.hex(), (time.monotonic() - t) * 1000])
    except socket.timeout:
        out.append([None, None])
print(json.dumps(out))
`;

/** Sends each datagram from one UDP socket and returns the reply to each (null when none came within `waitS`). */
export async function pythonPeer(port: number, datagrams: Uint8Array[], waitS = 1): Promise<Array<string | null>> {
  return (await pythonPeerTimed(port, datagrams, waitS)).map(([hex]) => hex);
}

/** Like pythonPeer, with each reply's round-trip time in ms as the peer measured it. */
export function pythonPeerTimed(port: number, datagrams: Uint8Array[], waitS = 1): Promise<Array<[string | null, number | null]>> {
  return new Promise((resolve, reject) => {
    const args = ['-S', '-c', SCRIPT, String(port), String(waitS), ...datagrams.map((d) => Buffer.from(d).toString('hex'))];
    execFile('python3', args, { timeout: 5000 + datagrams.length * waitS * 1000, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) return reject(err);
      resolve(JSON.parse(stdout) as Array<[string | null, number | null]>);
    });
  });
}

/** A PUSH_DATA datagram (protocol 2) carrying rxpk entries for the given PHYPayloads. */
export function pushData(gatewayEui: string, token: number, frames: Array<{ phy: Uint8Array; rssi?: number; lsnr?: number; stat?: number; time?: string }>): Buffer {
  const rxpk = frames.map((f, i) => ({
    ...(f.time ? { time: f.time } : {}),
    tmst: 1000 + i,
    chan: 2,
    rfch: 0,
    freq: 868.1,
    stat: f.stat ?? 1,
    modu: 'LORA',
    datr: 'SF7BW125',
    codr: '4/5',
    rssi: f.rssi ?? -50,
    lsnr: f.lsnr ?? 7.5,
    size: f.phy.length,
    data: Buffer.from(f.phy).toString('base64'),
  }));
  return Buffer.concat([Buffer.from([2, token & 0xff, token >> 8, 0]), Buffer.from(gatewayEui, 'hex'), Buffer.from(JSON.stringify({ rxpk }))]);
}

export function pullData(gatewayEui: string, token: number): Buffer {
  return Buffer.concat([Buffer.from([2, token & 0xff, token >> 8, 2]), Buffer.from(gatewayEui, 'hex')]);
}

/** The same exchange from a node:dgram socket (quicker to start than python3 on a loaded machine). */
export async function nodePeer(port: number, datagrams: Uint8Array[], waitMs = 1000): Promise<Array<string | null>> {
  const { createSocket } = await import('node:dgram');
  const s = createSocket('udp4');
  const out: Array<string | null> = [];
  try {
    for (const d of datagrams) {
      const reply = new Promise<string | null>((resolve) => {
        const timer = setTimeout(() => {
          s.off('message', onMessage);
          resolve(null);
        }, waitMs);
        const onMessage = (m: Buffer) => {
          clearTimeout(timer);
          resolve(m.toString('hex'));
        };
        s.once('message', onMessage);
      });
      s.send(d, port, '127.0.0.1');
      out.push(await reply);
    }
  } finally {
    s.close();
  }
  return out;
}
