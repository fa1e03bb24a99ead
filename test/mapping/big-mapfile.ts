// Generators of large mapfiles (Turtle and YARRRML) and an event-loop stall probe, for the upload-limit tests.

/** A Turtle mapfile of `tms` triples maps with `poms` predicate-object maps each (4 triples per map, 4+5 per TM). */
export function bigTurtle(tms: number, poms: number): string {
  const parts = ['@prefix rml: <http://w3id.org/rml/> .\n@prefix hub: <https://w3id.org/wot-hub#> .\n@prefix ex: <http://ex/> .\n'];
  for (let t = 0; t < tms; t += 1) {
    parts.push(`ex:tm${t} a rml:TriplesMap ; rml:logicalSource [ rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ] ;\n  rml:subjectMap [ rml:template "http://ex/{$.meta.thingId}/${t}" ]`);
    for (let p = 0; p < poms; p += 1) parts.push(` ;\n  rml:predicateObjectMap [ rml:predicate ex:p${p} ; rml:objectMap [ rml:reference "$.payload.v${p}" ] ]`);
    parts.push(' .\n');
  }
  return parts.join('');
}

/** A YARRRML mapfile of `mappings` mappings with `poms` predicate-objects each. */
export function bigYarrrml(mappings: number, poms: number): string {
  const parts = ['prefixes:\n  ex: http://ex/\nmappings:\n'];
  for (let t = 0; t < mappings; t += 1) {
    parts.push(`  m${t}:\n    sources:\n      - ['hub:CurrentMessage~jsonpath', '$']\n    s: http://ex/$(meta.thingId)/${t}\n    po:\n`);
    for (let p = 0; p < poms; p += 1) parts.push(`      - [ex:p${p}, $(payload.v${p})]\n`);
  }
  return parts.join('');
}

/**
 * Measures the longest stretch the event loop was held while `work` ran: a 1 ms timer records the largest gap between
 * its ticks in wall time (what a concurrent request waited) and in CPU time of this process (the same gap without the
 * time the OS gave other processes: on a loaded machine, wall gaps include being descheduled).
 */
export async function longestStall<T>(work: () => Promise<T>): Promise<{ result: T; maxGapMs: number; maxCpuGapMs: number }> {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let maxGapMs = 0;
  let maxCpuGapMs = 0;
  const tick = (): void => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    maxGapMs = Math.max(maxGapMs, now - last);
    maxCpuGapMs = Math.max(maxCpuGapMs, (cpu.user + cpu.system) / 1000);
    last = now;
    lastCpu = process.cpuUsage();
  };
  const timer = setInterval(tick, 1);
  try {
    await new Promise((r) => setTimeout(r, 5));
    last = performance.now();
    lastCpu = process.cpuUsage();
    const result = await work();
    tick();
    return { result, maxGapMs, maxCpuGapMs };
  } finally {
    clearInterval(timer);
  }
}
