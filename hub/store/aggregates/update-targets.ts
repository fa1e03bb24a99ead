// The named graphs a SPARQL 1.1 Update writes (its templates and graph management targets), read with sparqljs.
import sparqljs from 'sparqljs';
import '../../sparql/sparqljs-lexer.ts';

const MAX_CHARS = 64 * 1024;

/**
 * Graph IRIs the update may change; '*' when it may change any named graph (a variable graph, NAMED/ALL) and
 * undefined when sparqljs cannot read it (the caller then waits for the store's verdict). The default graph is not
 * listed: the aggregates only follow named graphs.
 */
export function updateTargets(sparql: string, baseIri?: string): string[] | '*' | undefined {
  if (sparql.length > MAX_CHARS) return '*';
  let parsed: any;
  try {
    parsed = new sparqljs.Parser(baseIri ? { baseIRI: baseIri } : {}).parse(sparql);
  } catch {
    return undefined;
  }
  if (parsed.type !== 'update') return undefined;
  const out = new Set<string>();
  let all = false;
  const target = (g: any): void => {
    if (!g || g.default) return;
    if (g.named || g.all || g.name?.termType === 'Variable' || g.termType === 'Variable') all = true;
    else if (g.name?.termType === 'NamedNode') out.add(g.name.value);
    else if (g.termType === 'NamedNode') out.add(g.value);
    else all = true;
  };
  for (const op of parsed.updates) {
    if (op.updateType) {
      for (const group of [...(op.insert ?? []), ...(op.delete ?? [])]) {
        if (group.type === 'graph') target(group.name);
        else if (op.graph) target(op.graph);
      }
      if (op.updateType === 'deletewhere' && !op.delete) all = true;
    } else if (op.type === 'clear' || op.type === 'drop') target(op.graph);
    else if (op.type === 'load') target(op.destination);
    else if (op.type === 'add' || op.type === 'copy' || op.type === 'move') {
      target(op.destination);
      if (op.type === 'move') target(op.source);
    } else if (op.type !== 'create') all = true;
  }
  return all ? '*' : [...out];
}
