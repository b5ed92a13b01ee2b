// The orderBy argument of Query.workspaces: a field and a direction (API.md "Pagination and ordering").
import { DEFAULT_ORDER, ORDER_DIRECTIONS, ORDER_FIELDS } from '../services/workspaces/list-order.js';
import { builder } from './builder.js';

export const WorkspaceOrderField = builder.enumType('WorkspaceOrderField', { values: ORDER_FIELDS });
export const OrderDirection = builder.enumType('OrderDirection', { values: ORDER_DIRECTIONS });

export const WorkspaceOrder = builder.inputType('WorkspaceOrder', {
  description: 'ties broken by id in the same direction; STATUS in enum order; LAST_HEARTBEAT_AT: never heard from last either way',
  fields: (t) => ({
    field: t.field({ type: WorkspaceOrderField, required: true }),
    direction: t.field({ type: OrderDirection, defaultValue: DEFAULT_ORDER.direction }),
  }),
});
