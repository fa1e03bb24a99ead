// LDP conformance, BasicContainerTest (1), DirectContainerTest (8) and IndirectContainerTest (3) AUTOMATED cases:
// container type links, membership configuration and membership triples kept in sync (LDP 1.0 §5.3-§5.5, §7.2).
import { beforeAll, describe, expect, it } from 'vitest';
import { count, has, hasLink, LDP, prefer, type LdpClient, type Subjects } from './ldp-client.ts';
import type { Ctx } from './ldp-client.ts';
import type { TestHub } from '../../helpers/hub.ts';
import type { Quad } from '@rdfjs/types';

let hub: TestHub;
let c: LdpClient;
let s: Subjects;

const one = (quads: Quad[], subject: string, p: string) => quads.find((q) => q.subject.value === subject && q.predicate.value === p)?.object.value;

/** Registers the cases; `ctx` gives the hub and subjects set up once by ldp-conformance.test.ts. */
export function containerKindCases(ctx: () => Ctx): void {
  beforeAll(() => ({ hub, c, s } = ctx()));

  describe('BasicContainerTest', () => {
    it('testContainerSupportsHttpLinkHeader [MUST]', async () => {
      const r = await c.req('GET', s.basic);
      expect(hasLink(r, s.basic, `${LDP}BasicContainer`, 'type')).toBe(true);
    });
  });

  describe('DirectContainerTest', () => {
    /** Membership triple of member L, as the suite reads it (hasMemberRelation or isMemberOfRelation). */
    async function membership(member: string, headers: Record<string, string> = { prefer: prefer('include', 'PreferMembership') }) {
      const { res, quads } = await c.turtle(s.direct, headers);
      const mr = one((await c.turtle(s.direct)).quads, s.direct, `${LDP}membershipResource`)!;
      const hmr = one((await c.turtle(s.direct)).quads, s.direct, `${LDP}hasMemberRelation`);
      return { res, quads, present: hmr ? has(quads, mr, hmr, member) : false };
    }

    it('testHttpLinkHeader [MUST]', async () => {
      const { res } = await c.turtle(s.direct);
      expect(res.status).toBe(200);
      expect(hasLink(res, s.direct, `${LDP}DirectContainer`, 'type')).toBe(true);
    });

    it('testUseMemberPredicate [SHOULD]', async () => {
      const { quads } = await c.turtle(s.direct);
      if (!has(quads, s.direct, `${LDP}isMemberOfRelation`, null)) expect(one(quads, s.direct, `${LDP}hasMemberRelation`)).toBe(`${LDP}member`);
    });

    it('testMemberResourceTriple [MUST]', async () => {
      const { quads } = await c.turtle(s.direct);
      expect(count(quads, s.direct, `${LDP}membershipResource`)).toBe(1);
    });

    it('testMemberRelationOrIsMemberOfRelationTripleExists [MUST]', async () => {
      const { quads } = await c.turtle(s.direct);
      expect(count(quads, s.direct, `${LDP}hasMemberRelation`) + count(quads, s.direct, `${LDP}isMemberOfRelation`)).toBe(1);
    });

    it('testActAsIfInsertedContentRelationTripleExists [MUST] (delegates to testPostResourceUpdatesTriples)', async () => {
      const member = await c.post(s.direct);
      expect((await membership(member)).present).toBe(true);
    });

    it('testPostResourceUpdatesTriples [MUST]', async () => {
      const member = await c.post(s.direct);
      expect((await membership(member)).present).toBe(true);
    });

    it('testDeleteResourceUpdatesTriples [MUST]', async () => {
      const member = await c.post(s.direct);
      const before = await membership(member);
      expect(before.res.headers.get('preference-applied')).toContain('return=representation');
      expect(before.present).toBe(true);
      expect((await c.req('DELETE', member)).status).toBeLessThan(300);
      expect((await membership(member)).present).toBe(false);
    });

    it('testPreferMembershipTriples [SHOULD]', async () => {
      const member = await c.post(s.direct);
      expect((await membership(member)).present).toBe(true);
      const minimal = await c.turtle(s.direct, { prefer: prefer('include', 'PreferMinimalContainer') });
      expect(has(minimal.quads, s.direct, `${LDP}member`, null)).toBe(false);
      expect(has(minimal.quads, s.direct, `${LDP}contains`, null)).toBe(false);
      const omit = await c.turtle(s.direct, { prefer: prefer('omit', 'PreferMembership') });
      expect(has(omit.quads, s.direct, `${LDP}member`, null)).toBe(false);
      const both = await c.turtle(s.direct, { prefer: prefer('include', 'PreferMinimalContainer', 'PreferMembership') });
      expect(has(both.quads, s.direct, `${LDP}member`, member)).toBe(true);
      expect(has(both.quads, s.direct, `${LDP}contains`, null)).toBe(false);
      for (const r of [minimal.res, omit.res, both.res]) expect(r.headers.get('preference-applied') ?? 'return=representation').toContain('return=representation');
    });
  });

  describe('IndirectContainerTest', () => {
    it('testContainerSupportsHttpLinkHeader [MUST]', async () => {
      const { res } = await c.turtle(s.indirect);
      expect(res.status).toBe(200);
      expect(hasLink(res, s.indirect, `${LDP}IndirectContainer`, 'type')).toBe(true);
    });

    it('testContainerHasInsertedContentRelation [MUST]', async () => {
      const { res, quads } = await c.turtle(s.indirect, { prefer: prefer('include', 'PreferMinimalContainer') });
      expect(res.status).toBe(200);
      const icr = quads.filter((q) => q.subject.value === s.indirect && q.predicate.value === `${LDP}insertedContentRelation`);
      expect(icr).toHaveLength(1);
      expect(icr[0]!.object.termType).toBe('NamedNode');
    });

    it('testPostResource [MUST]', async () => {
      const member = await c.post(s.indirect);
      const { quads } = await c.turtle(s.indirect, { prefer: prefer('include', 'PreferContainment') });
      expect(has(quads, s.indirect, `${LDP}contains`, member)).toBe(true);
    });
  });
}
