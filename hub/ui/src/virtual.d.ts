// Type of the build-time module with the hub's vocabularies (hub/ui/build.ts makes it from ontologies/ and mappings/).
declare module 'virtual:vocabulary' {
  const value: { prefixes: Record<string, string>; terms: Array<{ prefix: string; local: string; label?: string }> };
  export default value;
}
