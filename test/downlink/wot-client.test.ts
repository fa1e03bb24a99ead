// node-wot's HTTP client (@node-wot/core + binding-http) drives a device action: invokeaction, queryaction, cancelaction.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TdValidator } from '../../hub/directory/validator.ts';
import { baseUrlOf, startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';
import { failures, playgroundValidate } from '../directory/playground.ts';

const require = createRequire(import.meta.url);
const { Servient } = require('@node-wot/core') as typeof import('@node-wot/core');
const { HttpClientFactory } = require('@node-wot/binding-http') as typeof import('@node-wot/binding-http');
// The RFC 6570 expander node-wot's ConsumedThing uses for hrefs (a dependency of @node-wot/core).
const UriTemplate = createRequire(require.resolve('@node-wot/core'))('uritemplate') as { parse(t: string): { expand(v: Record<string, unknown>): string } };

const EUI = '70B3D57ED00000C1';
const ID = `urn:dev:lorawan:${EUI}`;
const td = {
  '@context': 'https://www.w3.org/2022/wot/td/v1.1',
  id: ID,
  title: 'WoT client downlink',
  securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
  security: ['nosec_sc'],
  actions: {
    setInterval: {
      input: { type: 'object', properties: { seconds: { type: 'integer', minimum: 10 } }, required: ['seconds'] },
      forms: [{ href: 'https://device.invalid/interval' }],
    },
  },
  ioAdapterDefinitions: [{ uuid: `${ID}#radio`, deviceDefinitions: { keyType: 'devEui', deviceKey: EUI, interfaceType: 'uplink_triggered', networkServer: 'tts', fPort: 4 } }],
};

type Form = WoT.Form & { op?: string | string[]; 'htv:methodName'?: string };
type Status = { id: string; thingId: string; action: string; input: unknown; status: string; history: Array<{ status: string; at: string; evidence: string }> };

describe("node-wot's HTTP client and a device action (TD 1.1 queryaction / cancelaction)", () => {
  let hub: TestHub;
  let servient: InstanceType<typeof Servient>;
  let wot: typeof WoT;

  beforeAll(async () => {
    hub = await startTestHub({}, { listen: true });
    const put = await fetch(`${baseUrlOf(hub)}/things/${encodeURIComponent(ID)}`, { method: 'PUT', headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, body: JSON.stringify(td) });
    expect(put.status).toBe(201);
    for (let i = 0; i < 250 && !hub.things.hasThing(ID); i++) await new Promise((r) => setTimeout(r, 20));
    servient = new Servient();
    servient.addClientFactory(new HttpClientFactory());
    servient.addCredentials({ [ID]: { token: TEST_ADMIN_TOKEN } });
    wot = await servient.start();
  });
  afterAll(async () => {
    await servient?.shutdown();
    await hub?.stop();
  });

  it('finds the Thing in the directory, invokes, reads the status through the queryaction form and cancels through cancelaction', async () => {
    // discovery: the directory lists the Thing; the hub serves it with its own forms at /wot/{id}
    const listed = (await wot.requestThingDescription(`${baseUrlOf(hub)}/things/${encodeURIComponent(ID)}`)) as WoT.ThingDescription;
    expect(listed.id).toBe(ID);
    const served = (await wot.requestThingDescription(`${baseUrlOf(hub)}/wot/${encodeURIComponent(ID)}`)) as WoT.ThingDescription & { actions: Record<string, { forms: Form[]; uriVariables?: Record<string, WoT.DataSchema> }> };
    const action = served.actions.setInterval!;
    expect(action.uriVariables).toEqual({ commandId: expect.objectContaining({ type: 'string' }) });
    const templated = action.forms.filter((f) => f.href.includes('{commandId}'));
    expect(templated.map((f) => [f.op, f.href.startsWith('http:') ? f['htv:methodName'] : (f as Record<string, unknown>)['cov:method']]).filter(([, m]) => m)).toEqual(
      expect.arrayContaining([[['queryaction'], 'GET'], [['cancelaction'], 'DELETE']]),
    );

    const thing = await wot.consume(served);
    const output = (await (await thing.invokeAction('setInterval', { seconds: 300 }))!.value()) as { id: string; status: string; href: string };
    expect(output).toMatchObject({ id: expect.stringMatching(/^urn:uuid:[0-9a-f-]{36}$/), status: 'QUEUED' });
    const commandId = output.id.slice('urn:uuid:'.length);

    // node-wot 0.8.16's ConsumedThing implements neither queryAction nor cancelAction (its Scripting API has none):
    // the form is chosen by op as ConsumedThing does (getClientFor), its href expanded with the uriVariables by
    // node-wot's own RFC 6570 expander, and sent with node-wot's HttpClient (htv:methodName picks GET / DELETE).
    const call = async (op: 'queryaction' | 'cancelaction'): Promise<Status> => {
      const consumed = thing as unknown as { getClientFor(f: WoT.Form[], op: string, affordance: number, o: object): { client: { readResource(f: object): Promise<{ toBuffer(): Promise<Buffer> }>; invokeResource(f: object): Promise<{ toBuffer(): Promise<Buffer> }> }; form: Form } };
      // without a formIndex: the client ConsumedThing made for invokeaction (it holds the bearer credentials)
      const { client, form } = consumed.getClientFor(action.forms, op, 1, {});
      expect(form.href).toMatch(/^http:.*\/commands\/\{commandId\}$/);
      const expanded = { ...form, href: UriTemplate.parse(form.href).expand({ commandId }) };
      const content = op === 'queryaction' ? await client.readResource(expanded) : await client.invokeResource(expanded);
      return JSON.parse((await content.toBuffer()).toString('utf8')) as Status;
    };
    const queued = await call('queryaction');
    expect(queued).toMatchObject({ id: output.id, thingId: ID, action: 'setInterval', input: { seconds: 300 }, status: 'QUEUED' });
    expect(queued.history).toEqual([{ status: 'QUEUED', at: expect.any(String), evidence: `accepted by the hub for interface ${ID}#radio` }]);
    // the expanded href is the Location the invocation answered
    expect(UriTemplate.parse(action.forms.find((f) => f.href.startsWith('http:') && [f.op].flat().includes('queryaction'))!.href).expand({ commandId })).toBe(output.href);
    const cancelled = await call('cancelaction');
    expect(cancelled).toMatchObject({ id: output.id, status: 'CANCELLED' });
    expect(cancelled.history.map((h) => h.status)).toEqual(['QUEUED', 'CANCELLED']);
    expect(cancelled.history[1]!.evidence).toMatch(/^cancelled by token:[0-9a-f]{12} \(cancelaction\)$/);
    expect((await call('queryaction')).status).toBe('CANCELLED');
    // a second cancel is refused (409): node-wot's HttpClient rejects on a client error
    await expect(call('cancelaction')).rejects.toThrow(/409|Conflict/);
  });

  it("the served TD and the directory's TD with the hub's forms pass the directory's TD schema and the TD playground", async () => {
    const validator = new TdValidator();
    const served = (await (await fetch(`${baseUrlOf(hub)}/wot/${encodeURIComponent(ID)}`)).json()) as Record<string, unknown>;
    const merged = hub.things.withHubForms((await hub.directory.get(ID))!) as Record<string, unknown>;
    expect((merged.actions as Record<string, { uriVariables?: unknown }>).setInterval!.uriVariables).toEqual((served.actions as Record<string, { uriVariables?: unknown }>).setInterval!.uriVariables);
    expect((merged.forms as Array<{ op: string[] }>).flatMap((f) => f.op)).toContain('queryallactions');
    for (const t of [served, merged]) {
      expect(() => validator.validate(t)).not.toThrow();
      const { registration: _r, ...withoutRegistration } = t;
      const result = await playgroundValidate(withoutRegistration);
      expect(failures(result)).toEqual([]);
    }
  });
});
