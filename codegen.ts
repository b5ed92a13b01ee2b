// GraphQL Code Generator: typed documents for tests (and frontends) from the committed schema.graphql.
// Offline: reads local files only. `npm run codegen` regenerates test/generated/ (committed).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/graphql/**/*.graphql'],
  ignoreNoDocuments: true,
  // NodeNext resolution: generated relative imports need their .js extension.
  emitLegacyCommonJSImports: false,
  generates: {
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        skipTypename: false,
        scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
      },
    },
  },
};

export default config;
