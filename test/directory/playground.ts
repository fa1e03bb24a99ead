// Test helper: validates a TD with @thing-description-playground/core offline (its jsonld copy gets the local contexts).
import { createRequire } from 'node:module';
import { offlineDocumentLoader } from '../../hub/directory/td-rdf.ts';

const require = createRequire(import.meta.url);
const playgroundPath = require.resolve('@thing-description-playground/core');
const playgroundRequire = createRequire(playgroundPath);
// The playground calls jsonld.toRDF without a loader: point its own jsonld copy's default loader at the local contexts.
(playgroundRequire('jsonld') as { documentLoader: unknown }).documentLoader = offlineDocumentLoader;
const playground = require('@thing-description-playground/core') as {
  tdValidator(td: string, log: (m: unknown) => void, options: Record<string, boolean>): Promise<{ report: Record<string, string | null>; details: Record<string, string | null> }>;
};

export interface PlaygroundResult {
  report: Record<string, string | null>;
  details: Record<string, string | null>;
  log: string[];
}

/** Runs the TD playground's checks (JSON, JSON Schema, defaults, JSON-LD, additional assertions). */
export async function playgroundValidate(td: unknown, options: { checkTmConformance?: boolean } = {}): Promise<PlaygroundResult> {
  const log: string[] = [];
  const result = await playground.tdValidator(JSON.stringify(td), (m) => log.push(String(m)), {
    checkDefaults: true,
    checkJsonLd: true,
    checkTmConformance: options.checkTmConformance ?? false,
  });
  return { ...result, log };
}

/** Names of every check that failed (warnings are allowed: the defaults check warns about omitted defaults). */
export function failures(result: PlaygroundResult): string[] {
  return [
    ...Object.entries(result.report).filter(([, v]) => v === 'failed').map(([k]) => `report.${k}`),
    ...Object.entries(result.details).filter(([, v]) => v === 'failed').map(([k]) => `details.${k}`),
  ];
}
