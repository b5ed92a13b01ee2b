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
  return v.kind; // ADMIN / ORG_TOKEN (every org token has the same rights) / ANONYMOUS
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

function sharingKey(args: ExecutionArgs): string {
  const shape = shapeOf(args.document, args.operationName);
  const vars = args.variableValues ?? {};
  const relevant = shape.usedBelowRoot.map((name) => [name, vars[name]]);
  return `${visibilityOf(args.contextValue as GraphQLContext)}\n${JSON.stringify(relevant)}\n${shape.text}`;
}

function isDelivery(x: unknown): x is Delivery {
  return typeof x === 'object' && x !== null && 'batch' in x && (x as Delivery).batch?.memo instanceof Map;
}

/** The context one batch's shared executions run in: fresh DataLoaders, so the workspace is read as delivered. */
function batchContext(d: Delivery, visibility: string, base: unknown): unknown {
  const key = `ctx\n${visibility}`;
  let ctx = d.batch.memo.get(key);
  if (!ctx) d.batch.memo.set(key, (ctx = { ...(base as object) }));
  return ctx;
}

function mapStream<T, U>(source: AsyncIterator<T>, map: (value: T) => MaybePromise<U>, signal?: AbortSignal): AsyncIterableIterator<U> {
  // SSE: @whatwg-node only notices a client that went away on its next write, and does not always
  // cancel the stream then; the request's signal fires on the response's 'close', so end here.
  const onAbort = () => void source.return?.();
  signal?.addEventListener('abort', onAbort, { once: true });
  const detach = () => signal?.removeEventListener('abort', onAbort);
  return {
    async next() {
      let r: IteratorResult<T>;
      try {
        r = await source.next();
      } catch (err) {
        detach();
        throw subscriptionGraphQLError(err);
      }
      if (r.done) detach();
      return r.done ? { done: true, value: undefined } : { done: false, value: await map(r.value) };
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

export async function sharedSubscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in (source as object))) return source as ExecutionResult;
  const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const key = sharingKey(args);
  const visibility = visibilityOf(args.contextValue as GraphQLContext);
  const signal = (args.contextValue as { request?: Request } | undefined)?.request?.signal;
  if (signal?.aborted) {
    await iterator.return?.();
    return { data: null };
  }
  return mapStream(iterator, (payload) => {
    if (!isDelivery(payload)) return execute({ ...args, rootValue: payload });
    const memoKey = `${key}\n${payload.event.id}`;
    let result = payload.batch.memo.get(memoKey) as MaybePromise<ExecutionResult> | undefined;
    if (result) sharedExecutionStats.reused += 1;
    else {
      sharedExecutionStats.executions += 1;
      result = execute({ ...args, rootValue: payload, contextValue: batchContext(payload, visibility, args.contextValue) });
      payload.batch.memo.set(memoKey, result);
    }
    return result;
  }, signal);
}

/** Yoga/envelop plugin: subscriptions use sharedSubscribe (yoga's SSE and the WebSocket transport). */
export function useSharedSubscriptionExecution(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(sharedSubscribe as Parameters<typeof setSubscribeFn>[0]);
    },
  };
}
