// Device actions over CoAP with real peers: invokeaction answers 2.01 Created + Location-Path, queryaction/cancelaction on it.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseUrlOf, startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';
import { coapClient, RUN_COAP_PEER_TESTS } from './coap-peers.ts';
import { DEVICE_ID, deviceTd, waitFor } from './fixtures.ts';

const require = createRequire(import.meta.url);
const { Servient } = require('@node-wot/core') as typeof import('@node-wot/core');
const { CoapClientFactory } = require('@node-wot/binding-coap') as typeof import('@node-wot/binding-coap');
// The RFC 6570 implementation node-wot's ConsumedThing expands hrefs with (a dependency of @node-wot/core).
const UriTemplate = createRequire(require.resolve('@node-wot/core'))('uritemplate') as { parse(t: string): { expand(v: Record<string, unknown>): string } };

type Form = { href: string; op?: string[]; 'cov:method'?: string; security?: string[] };
type Td = { actions: Record<string, { forms: Form[]; uriVariables?: Record<string, { type: string; pattern?: string }> }>; forms?: Form[] };

/** The options of the response PDU coap-client-notls prints at verbosity 7 (`v:1 t:ACK c:2.01 i:... {..} [ a:b, ... ]`). */
function responsePdu(stderrAndOut: string): { code: string; options: Array<[string, string]>; payload: string } {
  const line = stderrAndOut.split('\n').find((l) => /^v:1 t:(ACK|CON|NON) c:[2-5]\.\d\d/.test(l.trim()));
  if (!line) throw new Error(`no response PDU in: ${stderrAndOut.slice(0, 2000)}`);
  const code = /c:([2-5]\.\d\d)/.exec(line)![1]!;
  const inner = /\[ (.*) \]/.exec(line)?.[1] ?? '';
  const options = inner.split(', ').filter(Boolean).map((o) => {
    const i = o.indexOf(':');
    return [o.slice(0, i), o.slice(i + 1)] as [string, string];
  });
  return { code, options, payload: /\] :: '(.*)'$/.exec(line.trim())?.[1] ?? '' };
}

describe.skipIf(!RUN_COAP_PEER_TESTS)('device actions over CoAP (peers: coap-client-notls from libcoap3-bin, node-wot CoapClient)', () => {
  let hub: TestHub;
  let coapBase: string;

  beforeAll(async () => {
    hub = await startTestHub({}, { listen: true });
    await hub.directory.put(DEVICE_ID, deviceTd());
    await waitFor(() => (hub.things.thingIds().includes(DEVICE_ID) ? true : undefined), 5000, 'exposure');
    coapBase = `coap://127.0.0.1:${hub.things.coapPort}`;
  });
  afterAll(async () => {
    await hub?.stop();
  });

  it('coap-client: invokeaction is 2.01 with Location-Path of the status resource; GET and DELETE on it work like HTTP', async () => {
    const path = `/wot/${encodeURIComponent(DEVICE_ID)}`;
    const post = await coapClient(['-v', '7', '-m', 'post', '-t', 'application/json', '-e', '{"seconds":600}', '-B', '5', `${coapBase}${path}/actions/setInterval?access_token=${TEST_ADMIN_TOKEN}`]);
    const pdu = responsePdu(post.stdout + post.stderr);
    expect(pdu.code).toBe('2.01');
    const location = pdu.options.filter(([n]) => n === 'Location-Path').map(([, v]) => v);
    expect(location.slice(0, 3)).toEqual(['wot', DEVICE_ID, 'commands']);
    expect(location[3]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pdu.options.some(([n]) => n === 'Location-Query')).toBe(false); // no token or anything else in the Location
    const body = JSON.parse(pdu.payload) as { id: string; status: string; href: string };
    expect(body).toMatchObject({ id: `urn:uuid:${location[3]}`, status: 'QUEUED' });
    // the HTTP status resource names the same command
    expect(body.href).toBe(`${hub.config.baseUrl}${path}/commands/${location[3]}`);

    // queryaction: GET on the Location-Path (segments as the client got them, re-encoded into a URI)
    const statusUri = `${coapBase}/${location.map(encodeURIComponent).join('/')}`;
    const get = await coapClient(['-m', 'get', '-B', '5', statusUri]);
    const viaCoap = JSON.parse(get.stdout) as { id: string; thingId: string; action: string; input: unknown; status: string; history: Array<{ status: string }> };
    const viaHttp = await (await fetch(`${baseUrlOf(hub)}${path}/commands/${location[3]}`)).json();
    expect(viaCoap).toEqual(viaHttp);
    expect(viaCoap).toMatchObject({ id: body.id, thingId: DEVICE_ID, action: 'setInterval', input: { seconds: 600 }, status: 'QUEUED' });
    expect(viaCoap.history.map((h) => h.status)).toEqual(['QUEUED']);

    // queryallactions lists it
    const all = await coapClient(['-m', 'get', '-B', '5', `${coapBase}${path}/commands`]);
    expect((JSON.parse(all.stdout) as Array<{ id: string }>).map((c) => c.id)).toContain(body.id);

    // cancelaction needs the act scope; then 2.02 with the CANCELLED command; a second cancel is 4.09
    const anonymous = await coapClient(['-m', 'delete', '-B', '5', statusUri]);
    expect(anonymous.stdout + anonymous.stderr).toMatch(/4\.01 unauthorized/);
    const del = await coapClient(['-v', '7', '-m', 'delete', '-B', '5', `${statusUri}?access_token=${TEST_ADMIN_TOKEN}`]);
    const deleted = responsePdu(del.stdout + del.stderr);
    expect(deleted.code).toBe('2.02');
    const after = JSON.parse(deleted.payload) as { status: string; history: Array<{ status: string; evidence: string }> };
    expect(after.status).toBe('CANCELLED');
    expect(after.history.at(-1)!.evidence).toMatch(/^cancelled by token:[0-9a-f]{12} \(cancelaction\)$/);
    const again = await coapClient(['-m', 'delete', '-B', '5', `${statusUri}?access_token=${TEST_ADMIN_TOKEN}`]);
    expect(again.stdout + again.stderr).toMatch(/4\.09 command-not-cancellable/);
    const unknown = await coapClient(['-m', 'get', '-B', '5', `${coapBase}${path}/commands/00000000-0000-4000-8000-000000000000`]);
    expect(unknown.stdout + unknown.stderr).toMatch(/4\.04 unknown-command/);
    const wrongMethod = await coapClient(['-m', 'put', '-B', '5', `${statusUri}?access_token=${TEST_ADMIN_TOKEN}`]);
    expect(wrongMethod.stdout + wrongMethod.stderr).toMatch(/4\.05/);
  });

  it("node-wot's CoAP client invokes through the TD's coap form, reads the status through queryaction and cancels through cancelaction", async () => {
    const servient = new Servient();
    servient.addClientFactory(new CoapClientFactory());
    const wot = await servient.start();
    try {
      const td = (await (await fetch(`${baseUrlOf(hub)}/wot/${encodeURIComponent(DEVICE_ID)}`)).json()) as Td;
      const action = td.actions.setInterval!;
      expect(action.uriVariables?.commandId).toMatchObject({ type: 'string' });
      const coapForms = action.forms.filter((f) => f.href.startsWith('coap:'));
      expect(coapForms.map((f) => [f.op, f['cov:method'] ?? 'POST'])).toEqual([
        [['invokeaction'], 'POST'],
        [['queryaction'], 'GET'],
        [['cancelaction'], 'DELETE'],
      ]);
      expect(td.forms?.some((f) => f.href === `${coapBase}/wot/${encodeURIComponent(DEVICE_ID)}/commands` && f.op?.includes('queryallactions'))).toBe(true);
      // coap_bearer_sc is `in: query, name: access_token`; node-wot 0.8.16's CoapClient applies no security, so the
      // client side puts the token into the hrefs of forms that require it (what the scheme tells a client to do).
      const withToken = structuredClone(td) as Td;
      for (const f of withToken.actions.setInterval!.forms) if (f.href.startsWith('coap:') && f.security?.includes('coap_bearer_sc')) f.href += `?access_token=${TEST_ADMIN_TOKEN}`;
      const thing = await wot.consume(withToken as unknown as WoT.ThingDescription);
      const invokeIndex = withToken.actions.setInterval!.forms.findIndex((f) => f.href.startsWith('coap:') && f.op?.includes('invokeaction'));
      const output = (await (await thing.invokeAction('setInterval', { seconds: 120 }, { formIndex: invokeIndex }))!.value()) as { id: string; status: string };
      expect(output).toMatchObject({ id: expect.stringMatching(/^urn:uuid:/), status: 'QUEUED' });
      const commandId = output.id.slice('urn:uuid:'.length);
      expect(commandId).toMatch(new RegExp(action.uriVariables!.commandId!.pattern!));

      // node-wot 0.8.16's ConsumedThing has no queryAction/cancelAction (Scripting API): the client picks the form by
      // op, expands its href with uriVariables (RFC 6570, node-wot's own expander) and sends it with its CoapClient.
      const run = async (op: 'queryaction' | 'cancelaction') => {
        const forms = withToken.actions.setInterval!.forms as unknown as WoT.Form[];
        const index = forms.findIndex((f) => f.href.startsWith('coap:') && [f.op ?? []].flat().includes(op));
        const { client, form } = (thing as unknown as { getClientFor(f: WoT.Form[], op: string, a: number, o: object): { client: { readResource(f: object): Promise<{ toBuffer(): Promise<Buffer> }>; invokeResource(f: object): Promise<{ toBuffer(): Promise<Buffer> }> }; form: WoT.Form } }).getClientFor(forms, op, 1, { formIndex: index });
        const expanded = { ...form, href: UriTemplate.parse(form.href).expand({ commandId }) };
        const content = op === 'queryaction' ? await client.readResource(expanded) : await client.invokeResource(expanded);
        return JSON.parse((await content.toBuffer()).toString('utf8')) as { id: string; status: string; input: unknown };
      };
      expect(await run('queryaction')).toMatchObject({ id: output.id, status: 'QUEUED', input: { seconds: 120 } });
      expect(await run('cancelaction')).toMatchObject({ id: output.id, status: 'CANCELLED' });
      expect(await run('queryaction')).toMatchObject({ id: output.id, status: 'CANCELLED' });
      expect(hub.downlink.service.get(DEVICE_ID, commandId).history.map((h) => h.status)).toEqual(['QUEUED', 'CANCELLED']);
    } finally {
      await servient.shutdown();
    }
  });
});
