// WorkspaceLogLine: one line of a container's output, as workspaceLogs delivers it.
import type { LogLine } from '../services/logs/follow.js';
import { builder } from './builder.js';

export const LogStream = builder.enumType('LogStream', { values: ['STDOUT', 'STDERR'] as const });

export const WorkspaceLogLineRef = builder.objectRef<LogLine>('WorkspaceLogLine').implement({
  fields: (t) => ({
    stream: t.field({ type: LogStream, resolve: (l) => (l.stream === 'stderr' ? 'STDERR' : 'STDOUT') }),
    text: t.exposeString('text', { description: 'the line without its line break' }),
    timestamp: t.expose('timestamp', { type: 'DateTime', nullable: true, description: 'when the runtime recorded it, if it says' }),
  }),
});
