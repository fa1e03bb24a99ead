// Writes and /health timed over HTTP while a runaway query runs in the hub (issue 9: none slower than 50 ms), and right
// after it was ended (its member replaced by the standby, the next standby rebuilt in the background).
const RUNAWAY = `SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g1 { ?a ?b ?c } GRAPH ?g2 { ?d ?e ?f } GRAPH ?g3 { ?h ?i ?j } GRAPH ?g4 { ?k ?l ?m } }`;
const r2 = (x: number) => Math.round(x * 100) / 100;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;

async function timed(url: string, init?: RequestInit): Promise<{ ms: number; status: number; body: string }> {
  const t = performance.now();
  const res = await fetch(url, init);
  const body = await res.text();
  return { ms: performance.now() - t, status: res.status, body };
}

/**
 * Waits until every replica and standby of the hub is live (they join in the background after start), then sends a
 * runaway query anonymously (its budget: anonymousQueryTimeoutMs, 5 s by default) and, until it is answered, every
 * 20 ms: GET /health, a SPARQL Update (INSERT DATA, with the admin token) and an ASK that it is visible. Then, for
 * `afterSeconds`, the same plus `query` (a dashboard or latest-value query) while the ended member is replaced.
 */
export async function duringRunaway(base: string, adminToken: string, replicas = 2, standby = Number(process.env.HUB_STORE_STANDBY ?? 1), afterSeconds = 5, query = 'SELECT * WHERE { ?s ?p ?o } LIMIT 1') {
  const t0 = performance.now();
  let store0: Record<string, number> = {};
  for (;;) {
    const h = JSON.parse((await timed(`${base}/health`)).body) as { store: Record<string, number> };
    store0 = h.store;
    if ((h.store.replicasLive ?? 1) >= replicas && (h.store.replicasStandby ?? 0) >= standby) break;
    if (performance.now() - t0 > 1_800_000) throw new Error('replicas not live within 30 min');
    await new Promise((r) => setTimeout(r, 500));
  }
  const joinWaitMs = performance.now() - t0;
  const started = performance.now();
  let done = false;
  let endedAt = 0;
  const runaway = timed(`${base}/sparql?query=${encodeURIComponent(RUNAWAY)}`).finally(() => ((done = true), (endedAt = performance.now())));
  await new Promise((r) => setTimeout(r, 200));
  const health: number[] = [];
  const update: number[] = [];
  const visible: number[] = [];
  let i = 0;
  const after = { health: [] as number[], update: [] as number[], visible: [] as number[], query: [] as number[], queryFailures: [] as string[] };
  let afterUntil = Infinity;
  for (;;) {
    const phase = done ? after : { health, update, visible };
    if (done && afterUntil === Infinity) afterUntil = performance.now() + afterSeconds * 1000;
    if (performance.now() > afterUntil) break;
    phase.health.push((await timed(`${base}/health`)).ms);
    const s = `<urn:bench:runaway:${i}>`;
    const u = await timed(`${base}/sparql`, {
      method: 'POST',
      headers: { 'content-type': 'application/sparql-update', authorization: `Bearer ${adminToken}` },
      body: `INSERT DATA { GRAPH <urn:bench:runaway> { ${s} <urn:bench:p> ${i} } }`,
    });
    if (u.status !== 204 && u.status !== 200) throw new Error(`update during the runaway: ${u.status} ${u.body.slice(0, 200)}`);
    phase.update.push(u.ms);
    const ask = await timed(`${base}/sparql?query=${encodeURIComponent(`ASK { GRAPH <urn:bench:runaway> { ${s} ?p ?o } }`)}`, { headers: { accept: 'application/sparql-results+json' } });
    if (!ask.body.includes('true')) throw new Error(`update ${i} not visible right after its ack: ${ask.body.slice(0, 200)}`);
    phase.visible.push(ask.ms);
    if (done) {
      const q = await timed(`${base}/sparql?query=${encodeURIComponent(query)}`, { headers: { accept: 'application/sparql-results+json' } });
      // Counted, not thrown: a query the store itself cannot answer within the anonymous budget is a figure too.
      if (q.status !== 200) after.queryFailures.push(`${q.status} ${q.body.slice(0, 120)}`);
      after.query.push(q.ms);
    }
    i++;
    await new Promise((r) => setTimeout(r, 20));
  }
  const r = await runaway;
  const runawayMs = endedAt - started;
  const h1 = (JSON.parse((await timed(`${base}/health`)).body) as { store: Record<string, number> }).store;
  const first = await timed(`${base}/sparql?query=${encodeURIComponent('ASK { GRAPH <urn:bench:runaway> { <urn:bench:runaway:0> ?p ?o } }')}`, { headers: { accept: 'application/sparql-results+json' } });
  return {
    joinWaitSeconds: r2(joinWaitMs / 1000),
    runawayStatus: r.status,
    runawayMs: r2(runawayMs),
    samples: health.length,
    healthMaxMs: r2(Math.max(...health)),
    healthP99Ms: r2(pct(health, 0.99)),
    updateMaxMs: r2(Math.max(...update)),
    updateP99Ms: r2(pct(update, 0.99)),
    visibleMaxMs: r2(Math.max(...visible)),
    afterMs: r2(first.ms),
    afterKill: {
      seconds: afterSeconds,
      samples: after.health.length,
      healthMaxMs: r2(Math.max(...after.health)),
      updateMaxMs: r2(Math.max(...after.update)),
      updateP99Ms: r2(pct(after.update, 0.99)),
      visibleMaxMs: r2(Math.max(...after.visible)),
      queryMaxMs: r2(Math.max(...after.query)),
      queryP50Ms: r2(pct(after.query, 0.5)),
      queryFailures: after.queryFailures.length,
      firstQueryFailure: after.queryFailures[0],
      standbyPromotions: (h1.standbyPromotions ?? 0) - (store0.standbyPromotions ?? 0),
      replicasLive: h1.replicasLive ?? 1,
      replicasStandby: h1.replicasStandby ?? 0,
    },
  };
}
