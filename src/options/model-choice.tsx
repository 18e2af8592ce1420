import { useEffect, useState } from 'preact/hooks';
import { ask } from '../shared/client';
import { formatMs } from '../shared/format';
import { MODEL_IDS, MODELS, type ModelId } from '../shared/models';
import type { ResultOf } from '../shared/protocol';

type Status = ResultOf<'get-status'>;

/** Options → Model: a radio group; choosing one switches the engine and says when it is in use. */
export function ModelChoice() {
  const [status, setStatus] = useState<Status | null>(null);
  const [switching, setSwitching] = useState<ModelId | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    ask({ type: 'get-status', warmUp: true }).then(setStatus, (e: unknown) => setError(messageOf(e)));
  }, []);

  const choose = async (model: ModelId) => {
    setSwitching(model);
    setError(null);
    try {
      setStatus(await ask({ type: 'set-model', model }));
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setSwitching(null);
    }
  };

  const inUse = status?.model;
  return (
    <fieldset class="model-choice" disabled={!status || switching !== null}>
      <legend>Model</legend>
      {MODEL_IDS.map((id) => (
        <label key={id} class="choice">
          <input type="radio" name="model" value={id} checked={(switching ?? inUse) === id} onChange={() => void choose(id)} />
          <span>
            <strong>{MODELS[id].title}</strong>
            <span class="trade-off">{MODELS[id].tradeOff}</span>
          </span>
        </label>
      ))}
      <p class="status" role="status" data-testid="model-status">
        {switching
          ? `Switching to ${MODELS[switching].title}…`
          : status
            ? `In use: ${MODELS[status.model].title}${status.state === 'ready' && status.backend ? ` on ${status.backend}${status.loadMs !== null ? `, loaded in ${formatMs(status.loadMs)}` : ''}` : ` (${status.state})`}`
            : 'Asking the engine…'}
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
