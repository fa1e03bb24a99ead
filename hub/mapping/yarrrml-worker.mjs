// YARRRML -> RML conversion in a worker thread, so that a large or deeply nested upload never blocks the event loop.
// Plain JavaScript on purpose: a worker started without tsx's loader starts in a fraction of the time.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);

/**
 * Converts workerData.text with @rmlio/yarrrml-parser and posts `{ nquads, count }` (legacy RML quads as N-Quads),
 * `{ error, line, column, code }` for a YARRRML error, or `{ tooLarge: count }` past workerData.maxTriples.
 */
function run() {
  const { text, maxTriples } = workerData;
  const Generator = require('@rmlio/yarrrml-parser/lib/rml-generator.js');
  const jsLogger = require(require.resolve('js-logger', { paths: [require.resolve('@rmlio/yarrrml-parser/lib/logger.js')] }));
  jsLogger.setLevel(jsLogger.OFF);
  const { Writer } = require('n3');
  const generator = new Generator();
  let quads;
  try {
    quads = generator.convert(text);
  } catch (e) {
    if (e instanceof RangeError) return { error: 'the YAML is nested too deeply', code: 'mapfile-too-deep' };
    const mark = e && e.mark;
    return { error: `YARRRML error: ${e && e.message}`, line: mark ? (mark.line ?? 0) + 1 : undefined, column: mark ? (mark.column ?? 0) + 1 : undefined };
  }
  const errors = generator.getLogger().getAll().filter((m) => m.level === 'ERROR');
  if (errors.length) return { error: `YARRRML error: ${errors.map((m) => m.message).join('; ')}` };
  if (quads.length > maxTriples) return { tooLarge: quads.length };
  return { nquads: new Writer({ format: 'application/n-quads' }).quadsToString(quads), count: quads.length };
}

let result;
try {
  result = run();
} catch (e) {
  result = e instanceof RangeError ? { error: 'the YAML is nested too deeply', code: 'mapfile-too-deep' } : { error: `YARRRML error: ${e && e.message}` };
}
parentPort.postMessage(result);
