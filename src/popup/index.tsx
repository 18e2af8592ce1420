/** The popup (minimal for now): engine status, and how to use Spotter. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import * as v from 'valibot';
import { StatusResponseSchema, type EngineStatusMessage } from '../shared/protocol';
import { formatMs } from '../shared/format';
import './popup.css';

type View = { kind: 'waiting' } | { kind: 'status'; status: EngineStatusMessage } | { kind: 'error'; message: string };

const STATE_TEXT: Record<EngineStatusMessage['state'], string> = {
  idle: 'Model not loaded yet',
  loading: 'Loading the model…',
  ready: 'Model ready',
  failed: 'Model failed to load',
};

function Popup() {
  const [view, setView] = useState<View>({ kind: 'waiting' });
  useEffect(() => {
    browser.runtime
      .sendMessage({ type: 'get-status', warmUp: true })
      .then((reply: unknown) => {
        const response = v.parse(StatusResponseSchema, reply);
        setView(response.ok ? { kind: 'status', status: response.result } : { kind: 'error', message: response.error.message });
      })
      .catch((error: unknown) => setView({ kind: 'error', message: error instanceof Error ? error.message : String(error) }));
  }, []);

  return (
    <>
      <h1>Spotter</h1>
      <p class="hint">Right-click any image, video or canvas and choose “Classify with Spotter”.</p>
      {view.kind === 'waiting' && <p class="status">Starting the engine…</p>}
      {view.kind === 'error' && <p class="status" role="alert">{view.message}</p>}
      {view.kind === 'status' && <EngineStatusView status={view.status} />}
    </>
  );
}

function EngineStatusView({ status }: { status: EngineStatusMessage }) {
  return (
    <section aria-label="Engine status" data-engine-state={status.state}>
      <p class="status">
        <span class="dot" data-state={status.state} aria-hidden="true" />
        {STATE_TEXT[status.state]}
      </p>
      <dl>
        <dt>Backend</dt>
        <dd data-testid="backend">{status.backend ?? '–'}</dd>
        {status.loadMs !== null && (
          <>
            <dt>Load time</dt>
            <dd>{formatMs(status.loadMs)}</dd>
          </>
        )}
        {status.probe && (
          <>
            <dt>Measured</dt>
            <dd>{status.probe.map((t) => `${t.backend} ${t.ms === null ? 'n/a' : formatMs(t.ms)}`).join(' · ')}</dd>
          </>
        )}
        {status.error && (
          <>
            <dt>Error</dt>
            <dd>{status.error}</dd>
          </>
        )}
      </dl>
    </section>
  );
}

render(<Popup />, document.getElementById('app')!);
