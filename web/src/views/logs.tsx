// Live container output: the last lines, then each new one as it is written. The stream ends when
// the container stops; a new container (restart) mounts a new panel.
import { useClient } from '@urql/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { subscribeResumable } from '../api/live.ts';
import { WorkspaceLogsDocument, type WorkspaceLogsSubscription } from '../generated/graphql.ts';

type Line = WorkspaceLogsSubscription['workspaceLogs'];
const TAIL = 200;
const KEEP = 2000;

export function LogsPanel({ workspaceId, containerId }: { workspaceId: string; containerId: string | null }) {
  const client = useClient();
  const [lines, setLines] = useState<Line[]>([]);
  const [ended, setEnded] = useState(false);
  const [follow, setFollow] = useState(true);
  const pre = useRef<HTMLPreElement>(null);

  useEffect(() => {
    setEnded(false);
    return subscribeResumable(client, WorkspaceLogsDocument, {
      variables: () => {
        // A resubscription sends the tail again: start from it rather than repeat lines.
        setLines([]);
        return { workspaceId, tail: TAIL };
      },
      onData: (data) => setLines((current) => [...current.slice(-(KEEP - 1)), data.workspaceLogs]),
      onComplete: () => setEnded(true),
    });
  }, [workspaceId, containerId]);

  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [lines, follow]);

  return (
    <section class="card" aria-labelledby="logs-title">
      <div class="card-head">
        <h2 id="logs-title">Logs</h2>
        <label class="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} />
          Follow
        </label>
      </div>
      <pre ref={pre} class="logs" tabIndex={0} aria-label="Container output" data-container={containerId ?? ""} data-lines={lines.length}>
        {lines.map((l, i) => (
          <span key={i} class={l.stream === 'STDERR' ? 'stderr' : undefined}>
            {l.text}
            {'\n'}
          </span>
        ))}
      </pre>
      <p class="muted small" role="status">
        {ended ? (lines.length ? 'The container stopped; the stream has ended.' : 'No container output.') : containerId ? 'Streaming…' : 'Waiting for a container…'}
      </p>
    </section>
  );
}
