import { useEffect, useState } from 'preact/hooks';
import { ask } from '../shared/client';
import { toErrorInfo } from '../shared/errors';
import { formatMs, formatPercent } from '../shared/format';
import type { Dataset, TrainingReportMessage, TrainingState } from '../shared/protocol';
import { LineChart } from './chart';

const POLL_MS = 300;

interface Advanced {
  epochs: string;
  learningRate: string;
  batchSize: string;
  hiddenUnits: string;
}

/** Retrain, watch it learn (like TensorBoard did for TF for Poets), then see how well it does per label. */
export function TrainView(props: { labelsVersion: number; visible: boolean }) {
  const [dataset, setDataset] = useState<Dataset | null>(null);
  const [training, setTraining] = useState<TrainingState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [advanced, setAdvanced] = useState<Advanced>({ epochs: '', learningRate: '', batchSize: '', hiddenUnits: '' });

  useEffect(() => {
    ask({ type: 'list-dataset' }).then(setDataset, (e: unknown) => setError(toErrorInfo(e).message));
  }, [props.labelsVersion, training?.phase]);

  // Training runs in the engine whether or not the popup is open: reopening picks it up here.
  useEffect(() => {
    let stop = false;
    let timer = 0;
    const poll = async () => {
      try {
        const state = await ask({ type: 'training-status' });
        if (stop) return;
        setTraining(state);
        if (state.phase === 'running') timer = window.setTimeout(poll, POLL_MS);
      } catch (e) {
        if (!stop) setError(toErrorInfo(e).message);
      }
    };
    void poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [training?.phase === 'running']);

  const start = async () => {
    setError(null);
    const options = Object.fromEntries(
      Object.entries(advanced)
        .filter(([, value]) => value.trim() !== '')
        .map(([key, value]) => [key, Number(value)]),
    );
    try {
      setTraining(await ask({ type: 'train', options }));
    } catch (e) {
      setError(toErrorInfo(e).message);
    }
  };

  const running = training?.phase === 'running';
  const enough = dataset ? dataset.labels.filter((l) => l.count >= 2).length >= 2 : false;
  const report: TrainingReportMessage | null = training?.report ?? (training?.phase === 'running' ? null : (dataset?.head?.report ?? null));
  const epochs = running || training?.phase === 'done' || training?.phase === 'failed' ? training.epochs : (report?.epochs ?? []);

  return (
    <div class="train-view">
      {!enough && <p class="hint">Retraining needs at least 2 labels with at least 2 examples each.</p>}
      <div class="train-actions">
        <button type="button" class="primary" onClick={() => void start()} disabled={running || !enough} data-testid="retrain">
          {running ? 'Training…' : 'Retrain'}
        </button>
        {running && (
          <span data-testid="training-progress">
            Epoch {training.epochs.length} / {training.maxEpochs}
          </span>
        )}
        {training?.phase === 'done' && <span data-testid="training-done">Done: the new model is in use.</span>}
        {training?.phase === 'failed' && <span class="error">Training failed: {training.error}</span>}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <details class="advanced">
        <summary>Advanced</summary>
        <div class="advanced-grid">
          {(
            [
              ['epochs', 'Epochs (max)', '100'],
              ['learningRate', 'Learning rate', '0.003'],
              ['batchSize', 'Batch size', '16'],
              ['hiddenUnits', 'Hidden units (0 = none)', '0'],
            ] as const
          ).map(([key, title, placeholder]) => (
            <label key={key}>
              {title}
              <input type="number" min="0" step="any" placeholder={placeholder} value={advanced[key]} onInput={(e) => setAdvanced({ ...advanced, [key]: e.currentTarget.value })} />
            </label>
          ))}
        </div>
      </details>
      {props.visible && epochs.length > 0 && (
        <div class="charts">
          <LineChart
            title="Loss"
            testId="loss-chart"
            epochs={epochs.map((e) => e.epoch)}
            series={[
              { label: 'train', color: '#2f5bd3', values: epochs.map((e) => e.loss) },
              { label: 'validation', color: '#e07b00', values: epochs.map((e) => e.valLoss) },
            ]}
          />
          <LineChart
            title="Accuracy"
            testId="accuracy-chart"
            epochs={epochs.map((e) => e.epoch)}
            series={[
              { label: 'train', color: '#2f5bd3', values: epochs.map((e) => e.accuracy) },
              { label: 'validation', color: '#e07b00', values: epochs.map((e) => e.valAccuracy) },
            ]}
          />
        </div>
      )}
      {report && !running && <Report report={report} />}
    </div>
  );
}

function Report({ report }: { report: TrainingReportMessage }) {
  return (
    <section class="report" data-testid="report">
      <h3>
        {formatPercent(report.accuracy)} right on the {report.evaluatedOn === 'validation' ? `${report.validationCount} held-out examples` : 'training examples (too few to hold any out)'}
      </h3>
      <p class="muted">
        {report.trainCount} training examples · best epoch {report.bestEpoch} of {report.epochs.length} · {formatMs(report.durationMs)}
        {Object.keys(report.ignoredLabels).length > 0 && ` · left out (under 2 examples): ${Object.keys(report.ignoredLabels).join(', ')}`}
      </p>
      <table class="confusion">
        <caption>Confusion matrix: rows are the true label, columns what the model said</caption>
        <thead>
          <tr>
            <th scope="col">true ↓ / said →</th>
            {report.labels.map((label) => (
              <th scope="col" key={label}>
                {label}
              </th>
            ))}
            <th scope="col">accuracy</th>
          </tr>
        </thead>
        <tbody>
          {report.labels.map((label, row) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              {report.confusion[row]!.map((count, col) => (
                <td key={col} class={count > 0 ? (row === col ? 'hit' : 'miss') : ''}>
                  {count}
                </td>
              ))}
              <td>{formatPercent(report.perLabelAccuracy[label] ?? 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
