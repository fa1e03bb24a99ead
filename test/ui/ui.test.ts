// The web UI in a real browser (Debian's chromium via playwright-core) against a hub on loopback: the four user tasks, and
// a property write from its Set form reaching a device (a UDP socket on loopback that echoes, as an NGIMU does).
import type { Socket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { baseUrlOf, startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';
import { freeUdpPort, udpSocket } from '../helpers/udp.ts';

const ROOT = join(import.meta.dirname, '../..');
const SHOTS = join(import.meta.dirname, 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DEV_EUI = '0004A30B00AB0001';
const IMU_ID = 'urn:dev:ngimu:ui-write';
const have = existsSync(CHROMIUM);
if (!have && process.env.CI) throw new Error(`chromium is not installed at ${CHROMIUM} (CI needs it: .ci/run installs it)`);

/** The Things Stack uplink for the test device with a decoded temperature. */
function uplink(fCnt: number, temperature: number) {
  const at = new Date().toISOString();
  return {
    end_device_ids: { device_id: 'ui-1', application_ids: { application_id: 'demo' }, dev_eui: DEV_EUI },
    received_at: at,
    uplink_message: { f_cnt: fCnt, f_port: 1, decoded_payload: { temperature }, rx_metadata: [{ gateway_ids: { gateway_id: 'gtw1' }, rssi: -40, snr: 6 }], received_at: at },
  };
}

describe.skipIf(!have)('web UI in chromium', () => {
  let hub: TestHub;
  let base: string;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  const assets = new Map<string, number>();
  const devEui = DEV_EUI;
  const id = `urn:dev:lorawan:${devEui}`;
  const enc = encodeURIComponent(id);
  /** The NGIMU: every OSC datagram the hub sends it, echoed back to the sender (an NGIMU's acknowledgement). */
  let device: Socket;
  const datagrams: Buffer[] = [];

  const post = (path: string, body: unknown, type = 'application/json') =>
    fetch(`${base}${path}`, { method: 'POST', headers: { authorization: hub.bearer, 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeAll(async () => {
    hub = await startTestHub({ oscPort: await freeUdpPort() }, { listen: true });
    base = baseUrlOf(hub);
    const put = await fetch(`${base}/mappings/lorawan-uplink`, {
      method: 'PUT',
      headers: { authorization: hub.bearer, 'content-type': 'text/turtle' },
      body: readFileSync(join(ROOT, 'mappings/lorawan-uplink.ttl'), 'utf8'),
    });
    expect(put.status).toBe(201);
    const reg = await post('/thing-models/lorawan-sensor/instantiate?register=true', {
      id,
      placeholders: { TITLE: 'UI field sensor', DEV_EUI: devEui, DEV_ADDR: '', FPORT: 1, PAYLOAD_CODEC: 'network-server', ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', MAPPING: 'lorawan-uplink' },
    });
    expect(reg.status, await reg.clone().text()).toBe(201);
    const first = await post('/bindings/tts/uplink', uplink(1, 20.5));
    expect(first.status, await first.clone().text()).toBe(200);
    // An NGIMU (thing-models/ngimu-imu: eulerRate is written by setSendRates {euler}) at a UDP socket on loopback.
    const osc = await fetch(`${base}/mappings/ngimu-osc`, { method: 'PUT', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, body: readFileSync(join(ROOT, 'mappings/ngimu-osc.ttl'), 'utf8') });
    expect(osc.status, await osc.clone().text()).toBe(201);
    device = await udpSocket();
    device.on('message', (bytes, from) => {
      datagrams.push(bytes);
      device.send(bytes, from.port, from.address);
    });
    const imu = await post('/thing-models/ngimu-imu/instantiate?register=true', {
      id: IMU_ID,
      placeholders: { TITLE: 'UI motion sensor', ADAPTER_ID: 'urn:wot-hub:adapter:osc', OSC_SOURCE: `127.0.0.1:${device.address().port}`, SEND_PORT: hub.config.oscPort, MAPPING: 'ngimu-osc' },
    });
    expect(imu.status, await imu.clone().text()).toBe(201);
    // Exposed and routed (its OSC source indexed) before any page shows it (expect.poll works inside tests only).
    const exposed = () => hub.things.hasThing(IMU_ID) && hub.routing.index.entriesOf(IMU_ID).length > 0;
    for (const until = Date.now() + 10_000; !exposed() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    expect(exposed(), `${IMU_ID} exposed and routed`).toBe(true);
    mkdirSync(SHOTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'hub-ui-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
      timeout: 20_000,
    });
    context.setDefaultTimeout(8_000);
    context.on('request', (r) => requests.push(r.url()));
    context.on('response', async (r) => {
      if (r.url().includes('/ui/assets/') && r.ok()) assets.set(r.url(), (await r.body().catch(() => Buffer.alloc(0))).length);
    });
    page = context.pages()[0] ?? (await context.newPage());
    // CSP violations with their source (the console message names only the document).
    await page.addInitScript(() =>
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP ${e.violatedDirective} ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`)),
    );
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${m.text()} @ ${m.location().url}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (device) await new Promise<void>((r) => device.close(() => r()));
    await hub?.stop();
  });

  it('serves the shell with a strict CSP at every page path, redirects / and hides everything but the bundle', async () => {
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui/');
    for (const path of ['/ui/', '/ui/things', `/ui/things/${enc}`, '/ui/sparql', '/ui/mappings', '/ui/mappings/lorawan-uplink']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).toMatch(/style-src 'self' 'nonce-[A-Za-z0-9+/=]{20,}'/);
      expect(csp).toMatch(/connect-src 'self'/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/);
      const html = await res.text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
      expect(html).not.toMatch(/https?:\/\//); // nothing from another origin
    }
    const a = (await fetch(`${base}/ui/`)).headers.get('content-security-policy');
    const b = (await fetch(`${base}/ui/`)).headers.get('content-security-policy');
    expect(a).not.toBe(b); // a fresh nonce per response
    expect((await fetch(`${base}/ui/assets/current.json`)).status).toBe(404);
    expect((await fetch(`${base}/ui/assets/../build.ts`)).status).toBe(404);
  });

  it('task 1: finds a Thing by title and sees a live value change after an uplink', async () => {
    const t0 = Date.now();
    await page.goto(`${base}/`);
    await page.locator('table.things').waitFor();
    const firstPageMs = Date.now() - t0;
    const timing = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return { domInteractive: Math.round(n.domInteractive), domComplete: Math.round(n.domComplete) };
    });
    await page.reload();
    const r0 = Date.now();
    await page.goto(`${base}/ui/things`);
    await page.locator('table.things').waitFor();
    const warmMs = Date.now() - r0;
    console.log(`first page: cold ${firstPageMs} ms, warm ${warmMs} ms to the rendered list (domInteractive ${timing.domInteractive} ms, domComplete ${timing.domComplete} ms)`);
    // < 1 s wanted (the log has the figures); the bounds leave room for a machine shared by many test processes.
    expect(warmMs).toBeLessThan(6000);
    expect(firstPageMs).toBeLessThan(8000);
    await page.getByLabel('Search', { exact: true }).fill('ui FIELD');
    await page.getByRole('button', { name: 'Search' }).click();
    const link = page.getByRole('link', { name: 'UI field sensor' });
    await link.waitFor();
    expect(await page.locator('table.things tbody tr').count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'things.png'), fullPage: true });
    await link.click();
    await page.getByRole('heading', { name: 'UI field sensor' }).waitFor();
    const cell = page.locator('td.value[data-property="temperature"]');
    await expect.poll(() => cell.textContent(), { timeout: 5000 }).toBe('20.5');
    await expect.poll(() => page.locator('#live-state').textContent(), { timeout: 5000 }).toMatch(/^live/);
    const res = await post('/bindings/tts/uplink', uplink(2, 23.25));
    expect(res.status).toBe(200);
    await expect.poll(() => cell.textContent(), { timeout: 5000 }).toBe('23.25');
    await expect.poll(() => page.locator('td.value[data-property="frameCounter"]').textContent(), { timeout: 5000 }).not.toBe('—');
    expect(await page.getByRole('link', { name: 'Observations (LDP)' }).getAttribute('href')).toBe(`/ldp/observations/${enc}/`);
    expect(await page.locator('#td-raw').textContent()).toContain(`"id": "${id}"`);
    await page.screenshot({ path: join(SHOTS, 'thing.png'), fullPage: true });
  });

  it('signs in with the token (kept in sessionStorage)', async () => {
    await page.getByLabel('Token').fill(TEST_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signed-in').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('wot-hub.token'))).toBe(TEST_ADMIN_TOKEN);
  });

  it('task 2: runs a SPARQL query and sees the table; a syntax error is marked on its line', async () => {
    // From the Thing's page, its ready-made query.
    await page.goto(`${base}/ui/things/${enc}`);
    await page.getByRole('link', { name: 'Query its observations (SPARQL)' }).click();
    await page.getByRole('heading', { name: 'SPARQL' }).waitFor();
    await page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => page.locator('#sparql-status').textContent(), { timeout: 8000 }).toMatch(/^\d+ results in \d+ ms/);
    const rows = page.locator('table.results tbody tr');
    expect(await rows.count()).toBeGreaterThanOrEqual(6); // two uplinks' observations of this Thing
    expect(await page.locator('table.results').textContent()).toContain('23.25');
    // Sort by ?result with the keyboard: focus the header button, Enter.
    const sort = page.getByRole('button', { name: /^\?result/ });
    await sort.focus();
    await page.keyboard.press('Enter');
    expect(await page.locator('th[aria-sort="ascending"]').textContent()).toContain('?result');
    await page.screenshot({ path: join(SHOTS, 'sparql.png'), fullPage: true });
    // A saved query of sparql/ loads into the editor.
    await page.getByLabel('Saved query').selectOption('count-observations.rq');
    await expect.poll(() => page.locator('.cm-content').textContent()).toMatch(/COUNT/);
    // An error on line 3: the hub's position (line, column) becomes a lint mark on that line.
    const broken = ['SELECT * WHERE {', '  ?s ?p ?o .', '  FILTER(?o > ) }'];
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+a');
    // (Deleted first: chromium's own editing, replacing a styled selection in a contenteditable, tries an inline style.)
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(broken.join('\n'));
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => page.locator('#sparql-status').textContent(), { timeout: 5000 }).toMatch(/400 sparql-syntax.*at line \d+, column \d+/s);
    const line = Number(/at line (\d+)/.exec((await page.locator('#sparql-status').textContent()) ?? '')?.[1]);
    expect(line).toBe(3);
    await page.locator('.cm-lintRange-error').first().waitFor();
    const marked = await page.locator('.cm-line', { has: page.locator('.cm-lintRange-error') }).first().textContent();
    expect(marked).toBe(broken[line - 1]);
    await page.screenshot({ path: join(SHOTS, 'sparql-error.png'), fullPage: true });
  });

  it('task 3: edits a mapfile, sees the preview change, then an error on its line', async () => {
    await page.getByRole('link', { name: 'Mappings' }).click();
    await page.getByRole('link', { name: 'lorawan-uplink' }).click();
    await page.getByRole('heading', { name: 'Mapfile lorawan-uplink' }).waitFor();
    const preview = page.locator('#preview');
    await expect.poll(() => preview.textContent(), { timeout: 8000 }).toContain('sosa:Observation');
    expect(await preview.textContent()).not.toContain('edited in the UI');
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.insertText(
      '\n<#UiExtra> a rml:TriplesMap ; rml:logicalSource [ rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ; rml:iterator "$" ] ;\n' +
        '  rml:subjectMap [ rml:template "things/{$.meta.thingId}/ui" ] ;\n' +
        '  rml:predicateObjectMap [ rml:predicate <http://www.w3.org/2000/01/rdf-schema#label> ; rml:objectMap [ rml:constant "edited in the UI" ] ] .\n',
    );
    await expect.poll(() => preview.textContent(), { timeout: 8000 }).toContain('edited in the UI');
    expect(await page.locator('#mapping-status').textContent()).toMatch(/edited mapfile/);
    await page.screenshot({ path: join(SHOTS, 'mapping-preview.png'), fullPage: true });
    await page.keyboard.insertText('<#Broken> a rml:TriplesMap ;; rml:subjectMap [ .\n');
    await expect.poll(() => page.locator('#mapping-status').textContent(), { timeout: 8000 }).toMatch(/422/);
    const where = await page.locator('#error-position').textContent();
    const line = Number(/line (\d+)/.exec(where ?? '')?.[1]);
    // The cursor sits on the line after the broken one: the gutter's active line number tells which line that is.
    const active = Number(await page.locator('.cm-activeLineGutter').first().textContent());
    expect(line).toBe(active - 1);
    await page.locator('.cm-lintRange-error').first().waitFor();
    expect(await page.locator('.cm-line', { has: page.locator('.cm-lintRange-error') }).first().textContent()).toContain('<#Broken>');
    await page.screenshot({ path: join(SHOTS, 'mapping-error.png'), fullPage: true });
    // The saved mapfile is untouched (the preview of edits went through a draft).
    const saved = await (await fetch(`${base}/mappings/lorawan-uplink`, { headers: { authorization: hub.bearer } })).text();
    expect(saved).not.toContain('UiExtra');
  });

  it('task 4: invokes an action from its generated form and sees the command state', async () => {
    await page.goto(`${base}/ui/things/${enc}`);
    const form = page.locator('form[data-action="downlink"]');
    await form.waitFor();
    const payload = form.getByLabel(/payloadHex|Payload/);
    expect(await payload.getAttribute('aria-required')).toBe('true');
    // Required field empty: the browser refuses to submit; nothing is sent.
    const before = requests.filter((u) => u.includes('/actions/')).length;
    await form.getByRole('button', { name: /^Invoke/ }).click();
    expect(requests.filter((u) => u.includes('/actions/')).length).toBe(before);
    await payload.fill('01FF');
    await form.getByRole('button', { name: /^Invoke/ }).click();
    const status = form.locator('.status');
    await expect.poll(() => status.textContent(), { timeout: 8000 }).toMatch(/queued|sent|accepted|delivered/i);
    await page.screenshot({ path: join(SHOTS, 'action.png'), fullPage: true });
  });

  it('task 5: sets a writable property from its Set form, follows the command to DELIVERED; an out-of-range value is marked on the field', async () => {
    const puts: string[] = [];
    const onRequest = (r: import('playwright-core').Request) => void (r.method() === 'PUT' && r.url().includes('/properties/') && puts.push(r.url()));
    page.on('request', onRequest);
    try {
      await page.goto(`${base}/ui/things/${encodeURIComponent(IMU_ID)}`);
      await page.getByRole('heading', { name: 'UI motion sensor' }).waitFor();
      // Only eulerRate names hub:writeAction: one Set form, in the properties' section, from the property's own schema.
      const forms = page.locator('form.write');
      await forms.first().waitFor();
      expect(await forms.evaluateAll((fs) => fs.map((f) => f.getAttribute('data-property')))).toEqual(['eulerRate']);
      expect(await page.locator('section[aria-labelledby="props-h"] form.write').count()).toBe(1);
      const form = page.locator('form.write[data-property="eulerRate"]');
      const rate = form.getByLabel('Euler angles send rate');
      expect(await rate.evaluate((el: HTMLInputElement) => [el.type, el.min, el.max, el.required])).toEqual(['number', '0', '1000', true]);
      const set = form.getByRole('button', { name: 'Set Euler angles send rate' });

      // Without a token: the actions' "sign in first", nothing sent.
      await page.evaluate(() => sessionStorage.removeItem('wot-hub.token'));
      await rate.fill('40');
      await set.click();
      await expect.poll(() => form.getByRole('alert').textContent()).toMatch(/act scope: sign in first/);
      expect(puts).toEqual([]);
      await page.evaluate((t) => sessionStorage.setItem('wot-hub.token', t), TEST_ADMIN_TOKEN);

      // From the keyboard: the value, Enter. The hub queues setSendRates {euler: 40}; the device gets /rate/euler 40, echoes.
      datagrams.length = 0;
      await rate.focus();
      await page.keyboard.press('Control+a');
      await page.keyboard.type('40');
      await page.keyboard.press('Enter');
      const status = form.locator('.status');
      await expect.poll(() => status.getAttribute('data-status'), { timeout: 15_000 }).toBe('DELIVERED');
      expect(puts).toEqual([`${base}/wot/${encodeURIComponent(IMU_ID)}/properties/eulerRate`]);
      expect(await form.locator('ol.history li strong').allTextContents()).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
      const shown = /^urn:uuid:\S+$/.exec((await form.locator('.command code').textContent()) ?? '')?.[0];
      const commands = (await (await fetch(`${base}/wot/${encodeURIComponent(IMU_ID)}/commands`)).json()) as Array<{ id: string; action: string; input: unknown; status: string }>;
      expect(commands.find((c) => c.id === shown)).toMatchObject({ action: 'setSendRates', input: { euler: 40 }, status: 'DELIVERED' });
      // OSC 1.0: "/rate/euler" NUL-padded, ",f" padded, float32 40 big-endian (as test/things/write-property.test.ts).
      expect(datagrams.map((d) => d.toString('hex'))).toEqual(['2f726174652f65756c6572002c66000042200000']);
      // The command history of the page lists the write as a setSendRates command.
      await expect.poll(() => page.locator('table tbody tr', { hasText: shown! }).textContent()).toContain('setSendRates');
      await page.screenshot({ path: join(SHOTS, 'property-write.png'), fullPage: true });

      // Out of the schema's range: the browser's check refuses it, the field is marked, nothing is sent.
      await rate.fill('5000');
      await set.click();
      expect(await rate.getAttribute('aria-invalid')).toBe('true');
      expect(await rate.evaluate((el: HTMLInputElement) => el.validity.rangeOverflow)).toBe(true);
      expect(await form.locator('.field-error').count()).toBe(1);
      expect(puts).toHaveLength(1);
      // The hub's own check (a client that skipped the browser's): 400 validation-failed, its error on the field.
      await rate.evaluate((el) => el.removeAttribute('max'));
      await set.click();
      await expect.poll(() => form.locator('p.error[role="alert"]').textContent()).toMatch(/^400 validation-failed: .*eulerRate/);
      expect(await rate.getAttribute('aria-invalid')).toBe('true');
      expect(await form.locator('.field-error').allTextContents()).toEqual(['/: must be <= 1000']);
      expect(puts).toHaveLength(2);
      await page.screenshot({ path: join(SHOTS, 'property-write-error.png'), fullPage: true });
      // A good value again: the marks go, a second command is delivered.
      await rate.fill('0');
      await set.click();
      await expect.poll(() => form.locator('.command code').textContent()).not.toBe(shown);
      await expect.poll(() => status.getAttribute('data-status'), { timeout: 15_000 }).toBe('DELIVERED');
      expect(await form.locator('.field-error').count()).toBe(0);
      expect(await rate.getAttribute('aria-invalid')).toBeNull();
      expect(datagrams).toHaveLength(2);
    } finally {
      page.off('request', onRequest);
    }
  });

  it('registers a Thing from a Thing Model, marks a TD validation error on its field, deletes the Thing', async () => {
    const other = 'urn:dev:lorawan:0004A30B00AB0002';
    await page.goto(`${base}/ui/things`);
    await page.evaluate((t) => sessionStorage.setItem('wot-hub.token', t), TEST_ADMIN_TOKEN);
    await page.reload();
    await page.getByLabel('Thing Model', { exact: true }).selectOption('lorawan-sensor');
    await page.getByLabel('Thing id').fill(other);
    const values: Record<string, string> = { TITLE: 'Registered in the UI', DEV_EUI: '0004A30B00AB0002', DEV_ADDR: '', FPORT: '1', PAYLOAD_CODEC: 'network-server', ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', MAPPING: 'lorawan-uplink' };
    for (const [k, v] of Object.entries(values)) await page.getByLabel(k, { exact: true }).fill(v);
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('link', { name: other }).click();
    await page.getByRole('heading', { name: 'Registered in the UI' }).waitFor();
    // Edit: a title that is no string; the directory's error names /title, marked on the "title" line.
    const td = JSON.parse((await page.locator('#td-raw').textContent())!) as Record<string, unknown>;
    await page.getByRole('button', { name: 'Edit TD' }).click();
    await page.locator('.td-edit .cm-content').click();
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(JSON.stringify({ ...td, title: 5 }, null, 2));
    await page.getByRole('button', { name: 'Save TD' }).click();
    await page.screenshot({ path: join(SHOTS, 'td-edit-error.png'), fullPage: true });
    await expect.poll(() => page.locator('.field-error').first().textContent(), { timeout: 5000 }).toBe('/title must be string');
    await page.keyboard.press('Control+Home');
    await page.locator('.td-edit .cm-lintRange-error').first().waitFor();
    expect(await page.locator('.td-edit .cm-line', { has: page.locator('.cm-lintRange-error') }).first().textContent()).toMatch(/^\s*"title": 5,?$/);
    await page.screenshot({ path: join(SHOTS, 'td-edit-error.png'), fullPage: true });
    expect((await (await fetch(`${base}/things/${encodeURIComponent(other)}`)).json()).title).toBe('Registered in the UI');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'Things' }).waitFor();
    expect((await fetch(`${base}/things/${encodeURIComponent(other)}`)).status).toBe(404);
  });

  it('labels every control and works from the keyboard', async () => {
    for (const path of ['/ui/things', `/ui/things/${enc}`, `/ui/things/${encodeURIComponent(IMU_ID)}`, '/ui/sparql', '/ui/mappings', '/ui/mappings/lorawan-uplink']) {
      await page.goto(`${base}${path}`);
      await page.locator('main h1').waitFor();
      await page.waitForTimeout(300); // late parts (saved queries, Thing Model, commands) rendered
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('input, select, textarea, button, [contenteditable="true"]')]
          .filter((el) => !el.closest('[hidden]'))
          .filter((el) => {
            const labels = (el as HTMLInputElement).labels;
            return !(labels && labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && !(el.textContent ?? '').trim() && !el.getAttribute('title');
          })
          .map((el) => el.outerHTML.slice(0, 120)),
      );
      expect(unlabelled, path).toEqual([]);
    }
    // Keyboard: the skip link comes first, then the navigation; Enter on "SPARQL" navigates.
    await page.goto(`${base}/ui/things`);
    await page.locator('table.things').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    let guard = 0;
    while ((await page.evaluate(() => document.activeElement?.textContent)) !== 'SPARQL' && guard++ < 6) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'SPARQL' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/ui/sparql');
  });

  it('logs no console errors and sends no request off loopback; asset sizes', async () => {
    const off = requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:'));
    expect(off).toEqual([]);
    // Chrome logs every 4xx fetch as "Failed to load resource"; the only expected ones are the page's reads of
    // properties no message has set yet (404), the command list of a hub without one (404, until the downlink
    // service answers GET /wot/{id}/commands) and the test's deliberate errors (400 /sparql, 422 /mappings, 400 PUT /things,
    // 400 PUT /wot/{id}/properties/eulerRate).
    const expected = [
      /status of 404 .* @ \S+\/wot\/[^/ ]+\/(properties\/[^/ ]+|commands)$/,
      /status of 400 .* @ \S+\/sparql$/,
      /status of 422 .* @ \S+\/mappings\/[^/ ]+$/,
      /status of 400 .* @ \S+\/things\/[^/ ]+$/,
      /status of 400 .* @ \S+\/wot\/[^/ ]+\/properties\/eulerRate$/,
    ];
    const unexpected = consoleErrors.filter((e) => !expected.some((re) => re.test(e)));
    expect(unexpected).toEqual([]);
    // Every asset of the build (each page's chunk, CodeMirror, uPlot), and what these pages loaded of it.
    const build = JSON.parse(readFileSync(join(ROOT, 'hub/ui/dist/current.json'), 'utf8')) as { dir: string };
    let raw = 0;
    let gz = 0;
    for (const f of readdirSync(build.dir).filter((n) => !n.endsWith('.map'))) {
      const body = readFileSync(join(build.dir, f));
      raw += body.length;
      gz += gzipSync(body).length;
    }
    const loaded = [...assets].filter(([u]) => !u.endsWith('.map')).reduce((n, [, size]) => n + size, 0);
    console.log(`UI assets: ${raw} bytes raw, ${gz} bytes gzip in all; ${loaded} bytes raw loaded by the visited pages`);
    expect(raw).toBeGreaterThan(100_000);
    expect(gz).toBeLessThan(400_000);
  });
});
