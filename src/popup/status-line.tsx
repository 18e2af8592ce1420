import { useEffect, useState } from 'preact/hooks';
import { ask } from '../shared/client';
import { formatMs } from '../shared/format';
import { MODELS } from '../shared/models';
import type { ResultOf } from '../shared/protocol';

type Status = ResultOf<'get-status'>;

const STATE_TEXT: Record<Status['state'], string> = {
  idle: 'Model not loaded yet',
  loading: 'Loading the model…',
  ready: 'Model ready',
  failed: 'Model failed to load',
};

/** The engine's state in one line: model ready, which backbone (options page), the backend it measured and chose, load time. */
export function StatusLine() {
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    ask({ type: 'get-status', warmUp: true }).then(setStatus, (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  if (error) return <p class="status error" role="alert">{error}</p>;
  if (!status) return <p class="status">Starting the engine…</p>;
  const probe = status.probe?.map((t) => `${t.backend} ${t.ms === null ? 'n/a' : formatMs(t.ms)}`).join(' · ');
  return (
    <p class="status" data-engine-state={status.state} title={probe ? `Measured: ${probe}` : 'Backend remembered from an earlier measurement'}>
      <span class="dot" data-state={status.state} aria-hidden="true" />
      {/* One flex item: the row's gap would otherwise space each " · " part unevenly. */}
      <span>
        {STATE_TEXT[status.state]}
        {' · '}
        <span data-testid="model">{MODELS[status.model].title.replace(/ \(.*\)$/, '')}</span>
        {status.backend && (
          <>
            {' · '}
            <span data-testid="backend">{status.backend}</span>
          </>
        )}
        {status.loadMs !== null && ` · ${formatMs(status.loadMs)}`}
        {probe && <span class="probe"> (measured: {probe})</span>}
        {status.error && <span class="error"> — {status.error}</span>}
      </span>
    </p>
  );
}
