// Which member a read goes to (replica-set.ts leastBusy): never behind a user query when a member is only counting
// the store for /health, else the fewest reads, else the fewest requests.
import { describe, expect, it } from 'vitest';
import { leastBusy, type MemberLoad } from '../../hub/store/embedded/replica-set.ts';

const m = (name: string, userReadsInFlight: number, readsInFlight: number, inFlight: number) => ({ name, userReadsInFlight, readsInFlight, inFlight });

describe('replica read routing', () => {
  it('prefers a member counting the store over one running a user query (a possible runaway)', () => {
    const runaway = m('runaway', 1, 1, 1);
    const sizing = m('sizing', 0, 1, 1);
    expect(leastBusy([runaway, sizing])?.name).toBe('sizing');
    expect(leastBusy([sizing, runaway])?.name).toBe('sizing');
  });

  it('then the fewest reads, then the fewest requests in flight (writes queued), first of equals', () => {
    expect(leastBusy([m('a', 0, 1, 1), m('b', 0, 0, 3)])?.name).toBe('b');
    expect(leastBusy([m('a', 0, 0, 4), m('b', 0, 0, 2)])?.name).toBe('b');
    expect(leastBusy([m('a', 2, 2, 2), m('b', 1, 3, 9)])?.name).toBe('b');
    expect(leastBusy([m('a', 0, 0, 0), m('b', 0, 0, 0)])?.name).toBe('a');
    expect(leastBusy<MemberLoad>([])).toBeUndefined();
  });
});
