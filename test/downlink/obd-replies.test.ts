// OBD action replies (outcomeOf over parsed ELM327 text), input checks before queueing, and the queue's ready / validate /
// output seams the obd adapter uses (a not-ready adapter holds commands; the output survives a reopen).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { outcomeOf, requestsOf, validateObdInput } from '../../hub/bindings/obd/downlink.ts';
import { parseElmReply } from '../../hub/bindings/obd/elm327.ts';
import type { ElmExchange } from '../../hub/bindings/obd/session.ts';
import { DownlinkService } from '../../hub/downlink/service.ts';
import type { CommandRecord, DownlinkAdapter, DownlinkRoute } from '../../hub/downlink/types.ts';
import { HubError, ValidationError } from '../../hub/errors.ts';

const ex = (request: string, text: string, headers: boolean | 'auto' = 'auto'): ElmExchange => ({ request, text, reply: parseElmReply(text, { headers, request }) });

describe('outcomeOf: what the car said', () => {
  it('readDtcs: stored codes of every ECU (deduplicated, sorted) and pending ones; 07 NO DATA leaves pendingDtcs out', () => {
    const o = outcomeOf('readDtcs', null, [ex('03', '7E8 06 43 02 01 33 C1 23\r\n7E9 04 43 01 01 33\r\n\r\n>'), ex('07', '7E8 04 47 01 04 20\r\n>')]);
    expect(o).toMatchObject({ status: 'DELIVERED', output: { dtcs: ['P0133', 'U0123'], dtcCount: 2, pendingDtcs: ['P0420'] } });
    expect(o.evidence).toBe('ELM327 replied: 03 -> 7E8 06 43 02 01 33 C1 23 | 7E9 04 43 01 01 33 | >; 07 -> 7E8 04 47 01 04 20 | >');
    const noPending = outcomeOf('readDtcs', null, [ex('03', '7E8 02 43 00\r\n'), ex('07', 'NO DATA\r\n')]);
    expect(noPending).toMatchObject({ status: 'DELIVERED', output: { dtcs: [], dtcCount: 0 } });
    expect(noPending.output).not.toHaveProperty('pendingDtcs');
    // A legacy (non-CAN) mode 03 reply: pairs after the mode byte, zero padding.
    expect(outcomeOf('readDiagnosticCodes', null, [ex('03', '43 01 33 00 00 00 00\r\n', false)])).toMatchObject({ status: 'DELIVERED', output: ['P0133'] });
  });

  it('FAILED with the text that says why: NO DATA, ?, CAN ERROR, a negative response, only invalid frames', () => {
    expect(outcomeOf('readDtcs', null, [ex('03', 'SEARCHING...\r\nNO DATA\r\n'), ex('07', 'NO DATA')]).evidence).toMatch(/^NO DATA \(03 -> SEARCHING\.\.\. \| NO DATA; 07 -> NO DATA\)$/);
    expect(outcomeOf('readVin', null, [ex('0902', '?\r\n')])).toMatchObject({ status: 'FAILED', evidence: '? (0902 -> ?)' });
    expect(outcomeOf('pollPid', { pid: '0D' }, [ex('010D', 'CAN ERROR\r\n')]).evidence).toMatch(/^CAN ERROR/);
    const refused = outcomeOf('clearDtcs', { confirm: true }, [ex('04', '7E8 03 7F 04 22\r\n')]);
    expect(refused).toMatchObject({ status: 'FAILED' });
    expect(refused.evidence).toMatch(/^negative response 7F 04 22 \(conditionsNotCorrect\) from 7E8/);
    expect(outcomeOf('pollPid', { pid: '0C' }, [ex('010C', '7E8 06 41 0C\r\n', true)]).evidence).toMatch(/^invalid frames only/);
    // Another PID's answer is not this one's.
    expect(outcomeOf('pollPid', { pid: '0C' }, [ex('010C', '7E8 03 41 0D 32\r\n')]).evidence).toMatch(/^no mode 41 reply/);
    expect(outcomeOf('readVin', null, [])).toMatchObject({ status: 'FAILED', evidence: 'no reply ()' });
  });

  it('clearDtcs: every ECU that acknowledged (44); headers off has no ids', () => {
    expect(outcomeOf('clearDtcs', { confirm: true }, [ex('04', '7E8 01 44\r\n7E9 01 44\r\n')]).output).toEqual({ cleared: true, ecus: ['7E8', '7E9'] });
    expect(outcomeOf('clearDtcs', { confirm: true }, [ex('04', '44\r\n', false)]).output).toEqual({ cleared: true, ecus: [] });
  });

  it('readVin: the ISO-TP message, headers on or the numbered headers-off form', () => {
    const on = '7E8 10 14 49 02 01 31 44 34\r\n7E8 21 47 50 30 30 52 35 35\r\n7E8 22 42 31 32 33 34 35 36\r\n';
    const off = '014\r\n0: 49 02 01 31 44 34\r\n1: 47 50 30 30 52 35 35\r\n2: 42 31 32 33 34 35 36\r\n>';
    expect(outcomeOf('readVin', null, [ex('0902', on, true)]).output).toEqual({ vin: '1D4GP00R55B123456' });
    expect(outcomeOf('readVin', null, [ex('0902', off, false)]).output).toEqual({ vin: '1D4GP00R55B123456' });
  });

  it('pollPid: value and unit, a bitmap as PIDs, an undecoded PID as its bytes; the engine ECU wins', () => {
    expect(outcomeOf('pollPid', { pid: '0C' }, [ex('010C', '7E8 04 41 0C 1A F8\r\n')]).output).toEqual({ pid: '0C', name: 'rpm', value: 1726, unit: 'rpm' });
    expect(outcomeOf('pollPid', { pid: 'speed' }, [ex('010D', '7E9 03 41 0D 33\r\n7E8 03 41 0D 32\r\n')]).output).toEqual({ pid: '0D', name: 'speed', value: 50, unit: 'km/h' });
    expect(outcomeOf('pollPid', { pid: '00' }, [ex('0100', '7E8 06 41 00 98 18 00 01\r\n')]).output).toEqual({ pid: '00', supported: ['01', '04', '05', '0C', '0D', '20'] });
    expect(outcomeOf('pollPid', { pid: 'A6' }, [ex('01A6', '7E8 06 41 A6 00 01 E2 40\r\n')]).output).toEqual({ pid: 'A6', bytes: '0001E240' });
  });

  it('stays linear on a hostile reply (16 KiB of spaces, then garbage): bounded evidence within milliseconds', () => {
    const hostile = `${' '.repeat(16_384)}x${'\r\n|'.repeat(4000)}`;
    const t = performance.now();
    for (const action of ['readDtcs', 'clearDtcs', 'readVin', 'pollPid']) {
      const o = outcomeOf(action, { pid: '0C', confirm: true }, requestsOf(action, { pid: '0C' }).map((r) => ex(r, hostile)));
      expect(o.status).toBe('FAILED');
      expect(o.evidence.length).toBeLessThan(700);
    }
    expect(performance.now() - t).toBeLessThan(500);
  });
});

describe('input checks before queueing', () => {
  it('clearDtcs only with {"confirm": true}: anything else is a ValidationError naming /confirm', () => {
    for (const input of [null, {}, { confirm: false }, { confirm: 'true' }, [true], true]) {
      const e = (() => {
        try {
          validateObdInput('clearDtcs', input);
        } catch (err) {
          return err;
        }
      })();
      expect(e, JSON.stringify(input)).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).extensions.validationErrors).toEqual([{ field: '/confirm', description: 'must be true' }]);
    }
    expect(() => validateObdInput('clearDtcs', { confirm: true })).not.toThrow();
  });

  it('pollPid: a PID outside a known bitmap is 422 naming it; before the bitmap is known any PID waits; bad ones 400 /pid', () => {
    const supported = new Set([0x04, 0x05, 0x0c, 0x0d, 0x20]);
    const e = (() => {
      try {
        validateObdInput('pollPid', { pid: '0b' }, supported);
      } catch (err) {
        return err as HubError;
      }
    })()!;
    expect(e).toMatchObject({ status: 422, code: 'obd-pid-unsupported', extensions: { pid: '0B', supportedPids: ['04', '05', '0C', '0D', '20'] } });
    expect(e.message).toContain('PID 0B');
    expect(() => validateObdInput('pollPid', { pid: 'rpm' }, supported)).not.toThrow();
    expect(() => validateObdInput('pollPid', { pid: '00' }, supported)).not.toThrow();
    expect(() => validateObdInput('pollPid', { pid: '0B' }, new Set())).not.toThrow();
    expect(() => validateObdInput('pollPid', { pid: 'zz' }, supported)).toThrow(ValidationError);
    expect(() => validateObdInput('pollPid', {}, supported)).toThrow(ValidationError);
    expect(() => validateObdInput('unlockDoors', {})).toThrow(expect.objectContaining({ status: 400, code: 'obd-unsupported-action' }));
  });

  it('requests: 03 then 07, 04, 0902, 01 + PID', () => {
    expect(['readDtcs', 'readDiagnosticCodes', 'clearDtcs', 'readVin'].map((a) => requestsOf(a, null))).toEqual([['03', '07'], ['03'], ['04'], ['0902']]);
    expect(requestsOf('pollPid', { pid: 'coolantTemperature' })).toEqual(['0105']);
  });
});

describe('the queue seams the obd adapter uses', () => {
  const dirs: string[] = [];
  const services: DownlinkService[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const route: DownlinkRoute = { thingId: 'car', adapterId: 'car-elm', keyType: 'vin', deviceKey: 'WVWZZZ1JZXW000001', interfaceType: 'continuous', deviceDefinitions: { elm327: {} }, codecs: [] };
  const routes = { entriesOf: (id: string) => (id === 'car' ? [route] : []), lastActive: () => undefined, lookup: () => route };
  const open = async (dir: string, adapter: DownlinkAdapter) => {
    const s = new DownlinkService(dir, routes, { retryDelayMs: 0 });
    s.registerAdapter(adapter);
    await s.open();
    services.push(s);
    return s;
  };

  it('not ready: QUEUED through sweeps; ready: sent within a sweep; validate refuses before queueing; output survives a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'downlink-obd-'));
    dirs.push(dir);
    let ready = false;
    const sent: string[] = [];
    const adapter: DownlinkAdapter = {
      binding: 'obd',
      mode: 'push',
      serves: () => true,
      ready: () => ready,
      validate: (action) => {
        if (action === 'clearDtcs') throw new ValidationError('needs confirm', [{ field: '/confirm', description: 'must be true' }]);
      },
      async send(c: CommandRecord) {
        sent.push(c.action);
        return { evidence: 'wrote 0902' };
      },
    };
    const s = await open(dir, adapter);
    await expect(s.submit('car', 'clearDtcs', {})).rejects.toBeInstanceOf(ValidationError);
    expect(s.list('car')).toEqual([]);
    const { id } = await s.submit('car', 'readVin', null);
    await new Promise((r) => setTimeout(r, 1300)); // a sweep or two
    expect(sent).toEqual([]);
    expect(s.get('car', id.slice(9)).status).toBe('QUEUED');
    ready = true;
    const t = Date.now();
    for (; s.get('car', id.slice(9)).status !== 'SENT'; await new Promise((r) => setTimeout(r, 10))) if (Date.now() - t > 6000) throw new Error('not sent');
    expect(Date.now() - t).toBeLessThan(5000); // a sweep (1 s) on a loaded machine
    const r = s.get('car', id.slice(9));
    await s.evidence(r, 'DELIVERED', 'ELM327 replied: 0902 -> ...', false, { vin: 'WVWZZZ1JZXW000001' });
    expect(s.get('car', id.slice(9))).toMatchObject({ status: 'DELIVERED', output: { vin: 'WVWZZZ1JZXW000001' } });
    await s.close();
    services.splice(0);
    const again = await open(dir, adapter);
    expect(again.get('car', id.slice(9))).toMatchObject({ status: 'DELIVERED', output: { vin: 'WVWZZZ1JZXW000001' }, attempts: 1 });
    expect(again.get('car', id.slice(9)).history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
  });
});
