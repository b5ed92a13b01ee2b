// GraphQL Code Generator: typed documents for tests and for the fleet board from the committed
// schema.graphql. Offline: reads local files only. `npm run codegen` regenerates test/generated/ and
// web/src/generated/ (both committed).
import type { CodegenConfig } from '@graphql-codegen/cli';

const typedDocuments = {
  preset: 'client',
  presetConfig: { fragmentMasking: false },
  config: {
    useTypeImports: true,
    enumsAsTypes: true,
    skipTypename: false,
    scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
  },
} as const;

const config: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: true,
  // NodeNext resolution: generated relative imports need their .js extension.
  emitLegacyCommonJSImports: false,
  generates: {
    'test/generated/': { ...typedDocuments, documents: ['test/graphql/**/*.graphql'] },
    // The board's documents (urql + graphcache), and the schema shape graphcache needs to match
    // fragments on unions and interfaces exactly (minified introspection).
    'web/src/generated/': { ...typedDocuments, documents: ['web/src/graphql/**/*.graphql'] },
    'web/src/generated/introspection.ts': { plugins: ['urql-introspection'], config: { useTypeImports: true } },
  },
};

export default config;
