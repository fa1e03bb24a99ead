// XML logical sources: a DOM parse that refuses DTDs (no entity expansion) and XPath 1.0 iterators/references.
import { createRequire } from 'node:module';
import { DOMParser } from '@xmldom/xmldom';
import { MappingError } from '../errors.ts';

const require = createRequire(import.meta.url);
// xpath's typings omit parse(): compile once, evaluate per record.
const xpath = require('xpath') as {
  parse(expr: string): { evaluate(options: { node: unknown; namespaces?: Record<string, string> }): XPathResult };
};

interface XPathResult {
  toArray?: () => XmlNode[];
  stringValue(): string;
}

/** The DOM node shape the engine reads (xmldom nodes). */
export interface XmlNode {
  nodeType: number;
  nodeValue: string | null;
  textContent: string | null;
}

export interface XmlLimits {
  /** Most elements in the document. */
  maxElements?: number;
  /** Deepest element nesting: XPath's descendant axes cost quadratic time in depth (4,000 levels: 1.6 s for //a). */
  maxDepth?: number;
}

interface DomNode extends XmlNode {
  firstChild: DomNode | null;
  nextSibling: DomNode | null;
}

/** Element nesting depth, walked without recursion (a deep document must not overflow the stack here either). */
function depthOf(root: DomNode, max: number): number {
  let deepest = 0;
  const stack: Array<[DomNode, number]> = [[root, 0]];
  while (stack.length) {
    const [node, d] = stack.pop()!;
    if (d > deepest) deepest = d;
    if (deepest > max) return deepest;
    for (let c = node.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) stack.push([c, d + 1]);
  }
  return deepest;
}

/**
 * Parses an XML document for rml:XPath sources. A document with a DOCTYPE is refused (MappingError `source-invalid`):
 * DTDs bring entity expansion ("billion laughs") and external entities, which a mapping input never needs. Any
 * well-formedness error is refused too, never silently repaired.
 */
export function parseXml(text: string, limits: XmlLimits = {}): XmlNode {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new MappingError('XML: documents with a DTD (<!DOCTYPE> or <!ENTITY>) are refused', {}, {}, 'source-invalid');
  }
  const problems: string[] = [];
  const parser = new DOMParser({
    onError: (level: string, message: string) => {
      if (level !== 'warning') problems.push(message);
    },
  });
  let doc: XmlNode & { documentElement?: unknown; getElementsByTagName?(n: string): { length: number } };
  try {
    doc = parser.parseFromString(text, 'text/xml') as unknown as typeof doc;
  } catch (e) {
    throw new MappingError(`XML: ${(e as Error).message.split('\n')[0]}`, {}, { cause: e }, 'source-invalid');
  }
  if (problems.length > 0 || !doc.documentElement) {
    throw new MappingError(`XML: ${(problems[0] ?? 'no root element').split('\n')[0]}`, {}, {}, 'source-invalid');
  }
  const max = limits.maxElements ?? 1_000_000;
  const count = doc.getElementsByTagName?.('*').length ?? 0;
  if (count > max) throw new MappingError(`XML: more than ${max} elements`, {}, {}, 'source-too-large');
  const maxDepth = limits.maxDepth ?? 256;
  if (depthOf(doc as unknown as DomNode, maxDepth) > maxDepth) throw new MappingError(`XML: elements nested deeper than ${maxDepth}`, {}, {}, 'source-too-large');
  return doc;
}

/** A compiled XPath expression: the nodes or values it selects from a context node, as strings or nodes. */
export interface CompiledXPath {
  readonly expression: string;
  /** Nodes selected (an iterator); a non-node-set result is an error. */
  nodes(context: XmlNode): XmlNode[];
  /** String values (a reference): each selected node's string value, or the one value of a string/number/boolean. */
  values(context: XmlNode): string[];
}

/**
 * Compiles an XPath 1.0 expression (RML-IO rml:XPath, legacy ql:XPath) with the xpath library, which evaluates the
 * XPath grammar only (no JavaScript). Prefixes resolve through `namespaces` (rml:namespace declarations).
 */
export function compileXPath(expression: string, namespaces: Record<string, string> = {}): CompiledXPath {
  let compiled: ReturnType<typeof xpath.parse>;
  try {
    compiled = xpath.parse(expression);
  } catch (e) {
    throw new MappingError(`Invalid XPath '${expression}': ${(e as Error).message}`, { term: expression }, { cause: e });
  }
  const evaluate = (context: XmlNode): XPathResult => {
    try {
      return compiled.evaluate({ node: context, namespaces });
    } catch (e) {
      throw new MappingError(`XPath '${expression}' failed: ${(e as Error).message}`, { term: expression }, { cause: e }, 'mapping-failed');
    }
  };
  return {
    expression,
    nodes(context) {
      const r = evaluate(context);
      if (!r.toArray) throw new MappingError(`XPath iterator '${expression}' does not select nodes`, { term: expression }, {}, 'mapping-failed');
      return r.toArray();
    },
    values(context) {
      const r = evaluate(context);
      if (!r.toArray) return [r.stringValue()];
      return r.toArray().map(stringValue);
    },
  };
}

/** XPath string value of a node: an attribute's or text node's value, an element's text content. */
function stringValue(node: XmlNode): string {
  return node.nodeType === 1 || node.nodeType === 9 ? (node.textContent ?? '') : (node.nodeValue ?? '');
}
