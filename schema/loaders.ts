// Per-request DataLoaders, keyed by name on the request context, so relations (parent, children,
// tokens, secret keys, events) of every workspace in a response are read in one query each.
import DataLoader from 'dataloader';
import { groupBy } from '../services/group-by.js';
import type { GraphQLContext } from './context.js';

const loadersByContext = new WeakMap<object, Map<string, DataLoader<unknown, unknown>>>();

export function loader<K, V>(ctx: GraphQLContext, name: string, batch: (keys: readonly K[]) => Promise<V[]>): DataLoader<K, V> {
  let loaders = loadersByContext.get(ctx);
  if (!loaders) {
    loaders = new Map();
    loadersByContext.set(ctx, loaders);
  }
  let l = loaders.get(name);
  if (!l) {
    l = new DataLoader<K, V>(batch) as DataLoader<unknown, unknown>;
    loaders.set(name, l);
  }
  return l as DataLoader<K, V>;
}

/** Batches a flat "all rows of these parents" read and hands each parent its group. */
export function groupLoader<T>(
  ctx: GraphQLContext,
  name: string,
  load: (keys: readonly string[]) => Promise<T[]>,
  groupOf: (row: T) => string,
): DataLoader<string, T[]> {
  return loader<string, T[]>(ctx, name, async (keys) => {
    const groups = groupBy(await load(keys), groupOf);
    return keys.map((k) => groups.get(k.toLowerCase()) ?? []);
  });
}
