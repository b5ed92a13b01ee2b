// Queries and mutations run as functions compiled once per document (graphql-jit) instead of
// graphql-js's interpreter, which re-walks the selection set for every object of every list: the
// workspaces list spends half its execution time there otherwise. Subscriptions keep the standard
// executor (their shared execution is in subscription-execution.ts), and so does any document the
// compiler refuses, so such a request answers exactly as graphql-js would.
import { getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

// Keyed by the parsed document: yoga's parse cache hands out the same object for the same text, so
// this holds exactly the documents that cache holds. Per operation name, since one document may hold
// several operations.
const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();

export function useCompiledExecution(): Plugin {
  return {
    onExecute({ args, setExecuteFn }) {
      let byName = compiled.get(args.document);
      if (!byName) compiled.set(args.document, (byName = new Map()));
      const key = args.operationName ?? '';
      let query = byName.get(key);
      if (query === undefined) {
        const op = getOperationAST(args.document, args.operationName);
        const result = op && op.operation !== 'subscription' ? compileQuery(args.schema, args.document, args.operationName ?? undefined) : null;
        query = result && isCompiledQuery(result) ? result : null;
        byName.set(key, query);
      }
      if (!query) return;
      const run = query;
      setExecuteFn((a) => run.query(a.rootValue, a.contextValue, a.variableValues) as ExecutionResult | Promise<ExecutionResult>);
    },
  };
}
