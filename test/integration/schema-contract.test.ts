// What a client reads from introspection must be what API.md declares: argument and input defaults as
// written (a client that omits an argument gets the documented value) and enum values in API.md's
// declaration order (STATUS sorting, workspaceCounts and allowedActions follow it). schema.graphql is
// printed sorted, so only the live schema can show the order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

const INTROSPECT = `{
  __schema {
    types {
      name kind
      enumValues { name }
      inputFields { name defaultValue }
      fields { name args { name defaultValue } }
    }
  }
}`;

interface IntrospectedType {
  name: string;
  kind: string;
  enumValues: Array<{ name: string }> | null;
  inputFields: Array<{ name: string; defaultValue: string | null }> | null;
  fields: Array<{ name: string; args: Array<{ name: string; defaultValue: string | null }> }> | null;
}

describe('the live schema against API.md', () => {
  let s: TestServer;
  let types: Map<string, IntrospectedType>;
  beforeAll(async () => {
    s = await startTestServer();
    const r = await s.gql(INTROSPECT);
    expect(r.errors).toBeUndefined();
    types = new Map((r.data.__schema.types as IntrospectedType[]).map((t) => [t.name, t]));
  });
  afterAll(async () => {
    await s?.stop();
  });

  const argDefault = (type: string, field: string, arg: string) =>
    types.get(type)?.fields?.find((f) => f.name === field)?.args.find((a) => a.name === arg)?.defaultValue;

  it.each([
    ['Workspace', 'logs', 'tail', '200'],
    ['Subscription', 'workspaceLogs', 'tail', '100'],
    ['Mutation', 'createOrgToken', 'readOnly', 'false'],
    ['Query', 'workspaces', 'includeRemoved', 'false'],
    ['Mutation', 'deleteWorkspace', 'confirm', 'false'],
    ['Mutation', 'deleteWorkspace', 'purge', 'false'],
    ['Mutation', 'hibernateWorkspace', 'force', 'false'],
  ])('%s.%s(%s) defaults to %s', (type, field, arg, value) => {
    expect(argDefault(type, field, arg)).toBe(value);
  });

  it('WorkspaceOrder.direction defaults to ASC', () => {
    expect(types.get('WorkspaceOrder')?.inputFields?.find((f) => f.name === 'direction')?.defaultValue).toBe('ASC');
  });

  it.each([
    ['WorkspaceStatus', 'PROVISIONING ONLINE DEGRADED OFFLINE FAILED PAUSED HIBERNATING HIBERNATED AWAITING_AGENT REMOVED'],
    ['WorkspaceAction', 'RESTART PAUSE RESUME HIBERNATE DELETE'],
    ['WorkspaceOrderField', 'CREATED_AT NAME STATUS LAST_HEARTBEAT_AT'],
    ['OrderDirection', 'ASC DESC'],
    ['LogStream', 'STDOUT STDERR'],
    ['ViewerKind', 'ADMIN ORG_TOKEN WORKSPACE ANONYMOUS'],
  ])('%s declares its values in the order of API.md', (name, values) => {
    expect(types.get(name)?.enumValues?.map((v) => v.name).join(' ')).toBe(values);
  });

  it('has Workspace, WorkspaceToken and OrgToken implement Node', async () => {
    const r = await s.gql('{ __type(name: "Node") { kind possibleTypes { name } } }');
    expect(r.data.__type.kind).toBe('INTERFACE');
    expect(r.data.__type.possibleTypes.map((t: { name: string }) => t.name).sort()).toEqual(['OrgToken', 'Workspace', 'WorkspaceToken']);
  });
});
