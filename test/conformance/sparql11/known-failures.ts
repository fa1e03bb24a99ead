// W3C SPARQL 1.1 tests the hub fails today, each with its reason. A listed test that passes fails the suite.
//
// Every entry below was diagnosed against Oxigraph 0.5.11 (npm, WASM), the engine of the embedded store.

export const KNOWN_FAILURES: Record<string, string> = {
  // Query evaluation
  'aggregates/agg-groupconcat-04':
    'GROUP_CONCAT over literals that all share one language tag keeps the tag ("1 2"@en); the test (SPARQL 1.2 era, unapproved) expects a simple literal',
  'aggregates/agg-groupconcat-06': 'same as agg-groupconcat-04 (language-tagged GROUP_CONCAT result)',
  'aggregates/agg-empty-group-count-graph':
    'Oxigraph evaluates GRAPH ?g { SELECT (COUNT(*) ...) } once over the whole dataset instead of once per named graph: ?g stays unbound and the empty group of one graph is missing',
  'bindings/graph': 'VALUES binding ?g inside GRAPH ?g: Oxigraph leaves ?g unbound for the UNDEF row instead of joining it with each named graph',
  'functions/bnode01':
    'BNODE(str) returns the same blank node for the same string across solutions; SPARQL 1.1 §17.4.2.9 wants a fresh one per solution',
  'negation/graph-minus':
    'MINUS inside GRAPH ?g: Oxigraph counts the GRAPH variable as shared by both sides and removes the solution; the sides share no variable, so it must stay',
  'property-path/zero_or_more_set_start': 'zero-length path `?s :p* :o` on an empty dataset: Oxigraph returns no solution; the newer test expects ?s = :o',
  'property-path/zero_or_more_set_end': 'zero-length path `:o :p* ?o` on an empty dataset (as zero_or_more_set_start)',
  'property-path/zero_or_one_set_start': 'zero-length path `?s :p? :o` on an empty dataset (as zero_or_more_set_start)',
  'property-path/zero_or_one_set_end': 'zero-length path `:o :p? ?o` on an empty dataset (as zero_or_more_set_start)',
  // Update syntax
  'syntax-update-1/test_54':
    'Oxigraph accepts the same blank node label in two INSERT DATA operations of one request (SPARQL 1.1 Update §19.6 forbids it)',
  // Result formats
  'csv-tsv-res/csv03':
    'Oxigraph stores literals by value: "1.0E6"^^xsd:double comes back as 1000000 (CSV compares lexical forms) and "-3"^^xsd:negativeInteger as plain -3',
  'csv-tsv-res/tsv03': 'Oxigraph stores "-3"^^xsd:negativeInteger as an xsd:integer, so TSV writes the bare -3 and loses the datatype',
};
