// Messages as network servers send them (The Things Stack v3, ChirpStack v4, Sigfox callbacks), built for simulators.
// Field names and shapes follow ../shared/vectors/network_servers.json (sources in NETWORK_SERVERS.md).

export interface SimulatedDevice {
  /** EUI-64 as 16 hex digits. */
  devEui: string;
  devAddr: string;
  /** TTS device id / ChirpStack device name. */
  name: string;
  /** Sigfox device id (hex, up to 8 digits), for the Sigfox callback poster. */
  sigfoxId?: string;
}

export interface SimulatedUplink {
  fCnt: number;
  fPort: number;
  payload: Uint8Array;
  /** Epoch ms the (simulated) network server received the frame. */
  at: number;
  /** Gateways that heard it, each with its RSSI and SNR. */
  gateways: Array<{ eui: string; rssi: number; snr: number }>;
  frequency?: number;
  spreadingFactor?: number;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/**
 * A TTS v3 uplink message (MQTT `v3/{app}@{tenant}/devices/{dev}/up` and the webhook body). As TTS does, members at
 * their default are left out (f_cnt 0 is absent).
 */
export function ttsUplink(dev: SimulatedDevice, up: SimulatedUplink, app = 'hub-demo'): Record<string, unknown> {
  const time = new Date(up.at).toISOString();
  return {
    end_device_ids: { device_id: dev.name, application_ids: { application_id: app }, dev_eui: dev.devEui, dev_addr: dev.devAddr },
    received_at: time,
    uplink_message: {
      ...(up.fCnt ? { f_cnt: up.fCnt } : {}),
      f_port: up.fPort,
      frm_payload: b64(up.payload),
      rx_metadata: up.gateways.map((g) => ({ gateway_ids: { gateway_id: `eui-${g.eui.toLowerCase()}`, eui: g.eui }, time, rssi: g.rssi, channel_rssi: g.rssi, snr: g.snr })),
      settings: {
        data_rate: { lora: { bandwidth: 125000, spreading_factor: up.spreadingFactor ?? 7 } },
        coding_rate: '4/5',
        frequency: String(up.frequency ?? 868_100_000),
      },
      received_at: time,
    },
  };
}

/** A ChirpStack v4 `up` event (MQTT `application/{id}/device/{devEui}/event/up`, HTTP integration `?event=up`). */
export function chirpstackUplink(dev: SimulatedDevice, up: SimulatedUplink, applicationId = '00000000-0000-4000-8000-000000000001'): Record<string, unknown> {
  return {
    deduplicationId: dedupId(dev.devEui, up.fCnt, up.at),
    time: new Date(up.at).toISOString(),
    deviceInfo: { tenantId: '00000000-0000-4000-8000-000000000000', tenantName: 'Hub demo', applicationId, applicationName: 'hub-demo', deviceName: dev.name, devEui: dev.devEui.toLowerCase() },
    devAddr: dev.devAddr.toLowerCase(),
    dr: 5,
    ...(up.fCnt ? { fCnt: up.fCnt } : {}),
    fPort: up.fPort,
    data: b64(up.payload),
    rxInfo: up.gateways.map((g, i) => ({ gatewayId: g.eui.toLowerCase(), uplinkId: (up.fCnt * 16 + i) >>> 0, rssi: g.rssi, snr: g.snr, context: 'AAAAAA==' })),
    txInfo: { frequency: up.frequency ?? 868_100_000, modulation: { lora: { bandwidth: 125000, spreadingFactor: up.spreadingFactor ?? 7, codeRate: 'CR_4_5' } } },
  };
}

/** A Sigfox DATA/UPLINK callback with the documented variables (values as Sigfox's JSON template would give them). */
export function sigfoxCallback(dev: SimulatedDevice, up: SimulatedUplink): Record<string, unknown> {
  const g = up.gateways[0] ?? { eui: '0DF1', rssi: -120, snr: 10 };
  return {
    device: (dev.sigfoxId ?? dev.devEui.slice(-8)).toUpperCase(),
    time: Math.floor(up.at / 1000),
    data: Buffer.from(up.payload).toString('hex'),
    seqNumber: up.fCnt % 4096,
    station: g.eui.slice(-4).toUpperCase(),
    rssi: g.rssi,
    snr: g.snr,
    duplicate: false,
    ack: false,
  };
}

/** A UUID-shaped id derived from the frame (ChirpStack's deduplicationId is random; deterministic here for tests). */
function dedupId(devEui: string, fCnt: number, at: number): string {
  const hex = (devEui + fCnt.toString(16).padStart(8, '0') + at.toString(16).padStart(12, '0')).toLowerCase().padEnd(32, '0').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** `count` simulated devices with EUIs, DevAddrs and Sigfox ids derived from `base` (distinct per fleet). */
export function fleet(count: number, base = 0x70b3d57ed0000000n): SimulatedDevice[] {
  return Array.from({ length: count }, (_, i) => {
    const eui = (base + BigInt(i + 1)).toString(16).toUpperCase().padStart(16, '0');
    return {
      devEui: eui,
      devAddr: ((0x26000000 + Number(base & 0xffffffn) + i + 1) >>> 0).toString(16).toUpperCase().padStart(8, '0'),
      name: `sim-${String(i + 1).padStart(4, '0')}`,
      sigfoxId: (0xc0de0000 + i + 1).toString(16).toUpperCase(),
    };
  });
}
