// Shared execution of subscription events. graphql-js would execute every subscriber's selection set
// for every event, each with its own DataLoaders (one query per subscriber per event). Here the
// subscribers of one batch that have the same document, the same variables (bar the root field's own
// arguments, which only choose the stream) and the same visibility share ONE execution per event: the
// first of them executes it in a context made for that batch and visibility, the others reuse the
// result. Used for SSE (yoga's envelop) and WebSocket alike, as the subscribe function.
import {
  createSourceEventStream,
  execute,
  Kind,
  type GraphQLError,
  print,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type OperationDefinitionNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../schema/context.js';
import { subscriptionGraphQLError } from '../schema/status-change.js';
import type { Delivery } from '../services/events/subscriptions.js';

type MaybePromise<T> = T | Promise<T>;

/** Process-wide counters: how many event executions ran, and how many deliveries reused one. */
export const sharedExecutionStats = { executions: 0, reused: 0 };

/** Who may see what: viewers with the same key get the same answers for the same event. */
function visibilityOf(ctx: Partial<GraphQLContext> | undefined): string {
  const v = ctx?.viewer;
  if (!v) return '?';
  if (v.kind === 'WORKSPACE') return `W:${v.workspaceId}`;
  // Writable org tokens all have the same rights; read-only ones see no logs and no allowedActions.
  if (v.kind === 'ORG_TOKEN') return v.readOnly ? 'ORG_TOKEN:ro' : 'ORG_TOKEN';
  return v.kind; // ADMIN / ANONYMOUS
}

interface DocumentShape {
  /** The operation printed without the root fields' arguments. */
  text: string;
  /** Variables referenced anywhere but in a root field's arguments. */
  usedBelowRoot: string[];
}

const shapes = new WeakMap<DocumentNode, Map<string, DocumentShape>>();

function shapeOf(document: DocumentNode, operationName: string | null | undefined): DocumentShape {
  let byOp = shapes.get(document);
  if (!byOp) shapes.set(document, (byOp = new Map()));
  const cached = byOp.get(operationName ?? '');
  if (cached) return cached;
  const ops = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const op = operationName ? ops.find((o) => o.name?.value === operationName) : ops[0];
  const stripped: DocumentNode = {
    ...document,
    definitions: document.definitions.map((d) =>
      d !== op || !op
        ? d
        : {
            ...op,
            selectionSet: {
              ...op.selectionSet,
              selections: op.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? { ...s, arguments: [] } : s)),
            },
          },
    ),
  };
  const used = new Set<string>();
  visit(stripped, {
    VariableDefinition: () => false,
    Variable: (node) => {
      used.add(node.name.value);
    },
  });
  const shape = { text: `${operationName ?? ''}\n${print(stripped)}`, usedBelowRoot: [...used].sort() };
  byOp.set(operationName ?? '', shape);
  return shape;
}

// Sharing keys are long (they contain the document); each distinct one gets a short number, so the
// per-event lookup of every subscriber builds a short string instead of copying the document.
const sharingIds = new Map<string, string>();
let nextSharingId = 0;

function sharingKey(args: ExecutionArgs): string {
  const shape = shapeOf(args.document, args.operationName);
  const vars = args.variableValues ?? {};
  const relevant = shape.usedBelowRoot.map((name) => [name, vars[name]]);
  const full = `${visibilityOf(args.contextValue as GraphQLContext)}\n${JSON.stringify(relevant)}\n${shape.text}`;
  let id = sharingIds.get(full);
  if (id === undefined) {
    // Bounded: past this many distinct keys the table starts afresh. Numbers are never reused, so a
    // subscription still holding an old number can never share with a different document.
    if (sharingIds.size >= 10_000) sharingIds.clear();
    id = `s${nextSharingId++}:`;
    sharingIds.set(full, id);
  }
  return id;
}

/** A payload delivered to many subscribers at once: an event of the log (Delivery) or a workspace's
 * activity, with the batch whose memo holds the shared executions. */
type Shared = { batch: { memo: Map<string, unknown> } } & ({ event: Delivery['event'] } | { shareKey: string });

function isShared(x: unknown): x is Shared {
  return typeof x === 'object' && x !== null && 'batch' in x && (x as Shared).batch?.memo instanceof Map;
}

/** What identifies the payload within its batch. */
function payloadKey(p: Shared): string {
  return 'event' in p ? String(p.event.id) : p.shareKey;
}

/** The context one batch's shared executions run in: fresh DataLoaders, so the workspace is read as delivered. */
function batchContext(d: Shared, visibility: string, base: unknown): unknown {
  const key = `ctx\n${visibility}`;
  let ctx = d.batch.memo.get(key);
  if (!ctx) d.batch.memo.set(key, (ctx = { ...(base as object) }));
  return ctx;
}

function then<T, U>(value: MaybePromise<T>, f: (v: T) => U): MaybePromise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

function mapStream<T, U>(
  source: AsyncIterator<T>,
  map: (value: T) => MaybePromise<U>,
  onError: (err: unknown) => unknown,
  signal?: AbortSignal,
): AsyncIterableIterator<U> {
  // SSE: @whatwg-node only notices a client that went away on its next write, and does not always
  // cancel the stream then; the request's signal fires on the response's 'close', so end here.
  const onAbort = () => void source.return?.();
  signal?.addEventListener('abort', onAbort, { once: true });
  const detach = () => signal?.removeEventListener('abort', onAbort);
  return {
    // Not async, and resolved explicitly: a waiting subscriber holds one pending promise (no
    // suspended frame), and a delivered event takes no extra promise-adoption steps.
    next() {
      return new Promise<IteratorResult<U>>((resolve, reject) => {
        source.next().then(
          (r) => {
            if (r.done) {
              detach();
              resolve({ done: true, value: undefined });
              return;
            }
            const mapped = map(r.value);
            if (mapped instanceof Promise) mapped.then((value) => resolve({ done: false, value }), reject);
            else resolve({ done: false, value: mapped });
          },
          (err: unknown) => {
            detach();
            reject(onError(err));
          },
        );
      });
    },
    async return() {
      detach();
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(err?: unknown) {
      detach();
      await source.return?.();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export interface SharedSubscribeOptions {
  /** Masks every error of a result and every error ending a stream (for transports outside yoga's masking). */
  maskError?: (err: unknown) => Error;
}

export type SubscribeFn = (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>;

export function createSharedSubscribe(opts: SharedSubscribeOptions = {}): SubscribeFn {
  const mask = opts.maskError;
  const maskResult = (r: ExecutionResult): ExecutionResult =>
    mask && r.errors?.length ? { ...r, errors: r.errors.map((e) => mask(e) as GraphQLError) } : r;
  const onError = (err: unknown) => (mask ? mask(subscriptionGraphQLError(err)) : subscriptionGraphQLError(err));

  return async function sharedSubscribe(args) {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in (source as object))) return maskResult(source as ExecutionResult);
    const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const key = sharingKey(args);
    const visibility = visibilityOf(args.contextValue as GraphQLContext);
    const signal = (args.contextValue as { request?: { signal?: AbortSignal } } | undefined)?.request?.signal;
    if (signal?.aborted) {
      await iterator.return?.();
      return { data: null };
    }
    // Keep what later executions need, not the subscribe-time context: per-context caches (scope-auth,
    // loaders) hang off that object and would live as long as the subscription.
    const { schema, document, operationName, variableValues } = args;
    const base: ExecutionArgs = { schema, document, operationName, variableValues, contextValue: { ...(args.contextValue as object) } };
    const map = (payload: unknown): MaybePromise<ExecutionResult> => {
      if (!isShared(payload)) return then(execute({ ...base, contextValue: { ...(base.contextValue as object) }, rootValue: payload }), maskResult);
      const memoKey = key + payloadKey(payload);
      let result = payload.batch.memo.get(memoKey) as MaybePromise<ExecutionResult> | undefined;
      if (result) sharedExecutionStats.reused += 1;
      else {
        sharedExecutionStats.executions += 1;
        result = then(execute({ ...base, rootValue: payload, contextValue: batchContext(payload, visibility, base.contextValue) }), maskResult);
        payload.batch.memo.set(memoKey, result);
      }
      return result;
    };
    return mapStream(iterator, map, onError, signal);
  };
}

/** Unmasked: yoga masks what goes out over HTTP/SSE itself. */
export const sharedSubscribe = createSharedSubscribe();

/** Yoga/envelop plugin: subscriptions over yoga (SSE) use the shared execution. */
export function useSharedSubscriptionExecution(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(sharedSubscribe as Parameters<typeof setSubscribeFn>[0]);
    },
  };
}
