import { useEffect, useRef, useState } from 'preact/hooks';
import { ask } from '../shared/client';
import { toErrorInfo } from '../shared/errors';
import { countOf, formatAccuracy, formatMs } from '../shared/format';
import { DEFAULT_TRAIN_OPTIONS, TRAIN_OPTION_LIMITS } from '../engine/train-options';
import type { Dataset, TrainingReportMessage, TrainingState } from '../shared/protocol';
import { LineChart } from './chart';
import { InlineConfirm, useFocusReturn } from './confirm';
import { pollTraining } from './training-poll';

type AdvancedKey = 'epochs' | 'learningRate' | 'batchSize' | 'hiddenUnits';
type Advanced = Record<AdvancedKey, string>;

/** The Advanced fields, with the limits the protocol enforces and the defaults shown as placeholders. */
const ADVANCED_FIELDS: readonly { key: AdvancedKey; title: string; min: number; max: number; integer: boolean }[] = (
  [
    ['epochs', 'Epochs (max)'],
    ['learningRate', 'Learning rate'],
    ['batchSize', 'Batch size'],
    ['hiddenUnits', 'Hidden units (0 = none)'],
  ] as const
).map(([key, title]) => ({ key, title, ...TRAIN_OPTION_LIMITS[key] }));

/**
 * The options the user set, or a sentence saying which one is wrong. `unreadable` marks the fields
 * whose text the browser could not read as a number (a number input then reports an empty value,
 * which must not silently mean "the default").
 */
function advancedOptions(advanced: Advanced, unreadable: Partial<Record<AdvancedKey, boolean>>): { options: Partial<Record<AdvancedKey, number>> } | { problem: string; key: AdvancedKey } {
  const options: Partial<Record<AdvancedKey, number>> = {};
  for (const { key, title, min, max, integer } of ADVANCED_FIELDS) {
    const text = advanced[key].trim();
    if (text === '' && !unreadable[key]) continue;
    const value = unreadable[key] ? Number.NaN : Number(text);
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      return { problem: `${title} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}.`, key };
    }
    options[key] = value;
  }
  return { options };
}

/** Why Retrain is off, and what the examples are so far, so the user knows what is missing. */
function whatTrainingNeeds(dataset: Dataset | null): string {
  const needs = 'Retraining needs at least 2 labels with at least 2 examples each.';
  if (!dataset) return needs;
  if (dataset.labels.length === 0) return `${needs} You have none yet: correct a label on "This page", use "Label as" in the right-click menu, or add images in "Your labels".`;
  return `${needs} So far: ${dataset.labels.map((l) => `${l.label} (${countOf(l.count, 'example')})`).join(', ')}.`;
}

/** How the stored model differs from the examples now, in words; null when it is up to date. */
function staleness(dataset: Dataset): string | null {
  if (!dataset.head) return null;
  const trainable = dataset.labels.filter((l) => l.count >= 2).map((l) => l.label);
  const missing = dataset.head.labels.filter((label) => !trainable.includes(label));
  const added = trainable.filter((label) => !dataset.head!.labels.includes(label));
  const newer = dataset.labels.reduce((n, l) => n + l.examples.filter((e) => e.createdAt > dataset.head!.trainedAt).length, 0);
  const changes = [
    ...(missing.length ? [`${missing.map((l) => `"${l}"`).join(', ')} no longer ${missing.length === 1 ? 'has' : 'have'} enough examples`] : []),
    ...(added.length ? [`${added.map((l) => `"${l}"`).join(', ')} ${added.length === 1 ? 'is' : 'are'} new`] : []),
    ...(newer > 0 ? [`${countOf(newer, 'example')} added`] : []),
  ];
  return changes.length ? `Your examples changed since the model was trained (${changes.join('; ')}). Retrain to bring it up to date.` : null;
}

/** Retrain, watch it learn (like TensorBoard did for TF for Poets), then see how well it does per label. */
export function TrainView(props: { labelsVersion: number; modelVersion: number; trainingVersion: number; visible: boolean; onModelChanged: () => void }) {
  const [dataset, setDataset] = useState<Dataset | null>(null);
  const [training, setTraining] = useState<TrainingState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [advanced, setAdvanced] = useState<Advanced>({ epochs: '', learningRate: '', batchSize: '', hiddenUnits: '' });
  const [unreadable, setUnreadable] = useState<Partial<Record<AdvancedKey, boolean>>>({});
  /** The Advanced field the last Retrain refused, marked until it is edited. */
  const [invalidField, setInvalidField] = useState<AdvancedKey | null>(null);
  const [pollError, setPollError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const lastPhase = useRef<TrainingState['phase'] | null>(null);
  const wasRereading = useRef(false);
  useEffect(() => {
    lastPhase.current = training?.phase ?? null;
  }, [training]);
  const [confirmingForget, setConfirmingForget] = useState(false);
  const forgetFocus = useFocusReturn<HTMLButtonElement>(confirmingForget);

  useEffect(() => {
    ask({ type: 'list-dataset' }).then(setDataset, (e: unknown) => setError(toErrorInfo(e).message));
  }, [props.labelsVersion, props.modelVersion, training?.phase]);

  // Training runs in the engine whether or not the popup is open: reopening picks it up here.
  // Read again when the model changes (an import or Forget here or in another Spotter page): a run shown as done may be gone.
  useEffect(
    () =>
      pollTraining(() => ask({ type: 'training-status' }), {
        state: (state) => {
          // The engine restarted mid-run (its page was closed or crashed): the run is gone, say so.
          const interrupted = lastPhase.current === 'running' && state.phase === 'idle';
          if (lastPhase.current === 'running' && state.phase === 'done') props.onModelChanged();
          // Every example now has this backbone's embeddings: the views that count them read again.
          if (wasRereading.current && !state.rereading) props.onModelChanged();
          wasRereading.current = state.rereading !== null;
          setPollError(interrupted ? "The training was interrupted (Spotter's engine restarted). Press Retrain to start again." : null);
          setTraining(state);
        },
        failure: setPollError,
      }),
    [training?.phase === 'running' || Boolean(training?.rereading), props.trainingVersion, props.modelVersion],
  );

  const start = async () => {
    setError(null);
    const parsed = advancedOptions(advanced, unreadable);
    if ('problem' in parsed) {
      setInvalidField(parsed.key);
      document.getElementById(`advanced-${parsed.key}`)?.focus();
      return setError(parsed.problem);
    }
    setStarting(true);
    try {
      setTraining(await ask({ type: 'train', options: parsed.options }));
    } catch (e) {
      setError(toErrorInfo(e).message);
    } finally {
      setStarting(false);
    }
  };

  const forget = async () => {
    setConfirmingForget(false);
    setError(null);
    try {
      await ask({ type: 'forget-model' });
      props.onModelChanged();
      setTraining(null);
    } catch (e) {
      setError(toErrorInfo(e).message);
    }
  };

  const running = training?.phase === 'running';
  const enough = dataset ? dataset.labels.filter((l) => l.count >= 2).length >= 2 : false;
  const report: TrainingReportMessage | null = training?.report ?? (training?.phase === 'running' ? null : (dataset?.head?.report ?? null));
  const stale = dataset && !running ? staleness(dataset) : null;
  const epochs = running || training?.phase === 'done' || training?.phase === 'failed' ? training.epochs : (report?.epochs ?? []);
  const validated = epochs.some((e) => e.valLoss !== null);

  return (
    <div class="train-view">
      {!enough && (
        <p class="hint" data-testid="training-needs">
          {whatTrainingNeeds(dataset)}
        </p>
      )}
      <div class="train-actions">
        <button type="button" class="primary" onClick={() => void start()} disabled={running || starting || !enough} data-testid="retrain">
          {running || starting ? 'Training…' : 'Retrain'}
        </button>
        {training?.rereading && (
          <span data-testid="rereading-progress" role="status">
            Re-reading your examples for the new model: {training.rereading.done} / {training.rereading.total}
            {running ? '; training starts when it is done.' : ''}
          </span>
        )}
        {running && !training.rereading && (
          <span data-testid="training-progress">
            Epoch {training.epochs.length} / {training.maxEpochs}
          </span>
        )}
        {training?.phase === 'done' && <span data-testid="training-done">Done: the new model is in use.</span>}
        {training?.phase === 'failed' && <span class="error">Training failed: {training.error}</span>}
        {dataset?.head && !running && !confirmingForget && (
          <button type="button" class="danger" ref={forgetFocus.opener} onClick={() => setConfirmingForget(true)} data-testid="forget-model">
            Forget the model
          </button>
        )}
        {confirmingForget && (
          <InlineConfirm
            question="Forget the trained model? Your examples stay; classifications show ImageNet's labels only."
            confirmLabel="Forget"
            onConfirm={() => void forget()}
            onCancel={() => {
              forgetFocus.cancelled();
              setConfirmingForget(false);
            }}
          />
        )}
      </div>
      {stale && (
        <p class="hint" data-testid="stale-model">
          {stale}
        </p>
      )}
      {[error, pollError].filter(Boolean).map((text) => (
        <p class="error" role="alert" key={text}>
          {text}
        </p>
      ))}
      <details class="advanced">
        <summary>Advanced</summary>
        <div class="advanced-grid">
          {ADVANCED_FIELDS.map(({ key, title, min, max, integer }) => (
            <label key={key}>
              {title}
              <input
                id={`advanced-${key}`}
                type="number"
                min={min}
                max={max}
                step={integer ? 1 : 'any'}
                placeholder={String(DEFAULT_TRAIN_OPTIONS[key])}
                value={advanced[key]}
                aria-invalid={invalidField === key}
                onInput={(e) => {
                  const { value, validity } = e.currentTarget;
                  setAdvanced({ ...advanced, [key]: value });
                  setUnreadable({ ...unreadable, [key]: validity.badInput });
                  if (invalidField === key) setInvalidField(null);
                }}
              />
            </label>
          ))}
        </div>
      </details>
      {props.visible && epochs.length > 0 && (
        // A run saved before cross-validation with no held-out examples has no validation curve: its legend would only say "validation: –".
        // The key remounts a chart when that changes, as its series are fixed once drawn.
        <div class="charts" key={validated ? 'validated' : 'not-validated'}>
          <LineChart
            title="Loss"
            testId="loss-chart"
            epochs={epochs.map((e) => e.epoch)}
            series={[
              { label: 'train', color: '--series-train', values: epochs.map((e) => e.loss) },
              ...(validated ? [{ label: 'validation', color: '--series-validation' as const, values: epochs.map((e) => e.valLoss) }] : []),
            ]}
          />
          <LineChart
            title="Accuracy"
            testId="accuracy-chart"
            percent
            epochs={epochs.map((e) => e.epoch)}
            series={[
              { label: 'train', color: '--series-train', values: epochs.map((e) => e.accuracy) },
              ...(validated ? [{ label: 'validation', color: '--series-validation' as const, values: epochs.map((e) => e.valAccuracy) }] : []),
            ]}
          />
        </div>
      )}
      {report && !running && <Report report={report} />}
    </div>
  );
}

/** "about 84 % right (folds 78–90 %)": the cross-validated estimate and its spread over the folds. */
function estimateOf(report: TrainingReportMessage): string {
  if (report.evaluatedOn !== 'cross-validation') {
    // Saved before cross-validation: as it was measured then.
    return `${formatAccuracy(report.accuracy)} right on the ${report.evaluatedOn === 'validation' ? countOf(report.validationCount, 'held-out example') : 'training examples (too few to hold any out)'}`;
  }
  const folds = report.foldAccuracies ?? [];
  const [lowest, highest] = [Math.min(...folds), Math.max(...folds)].map(formatAccuracy);
  const spread = folds.length === 0 ? '' : lowest === highest ? ` (every fold ${highest})` : ` (folds ${lowest!.replace(' %', '')}–${highest})`;
  return `about ${formatAccuracy(report.accuracy)} right${spread}`;
}

function Report({ report }: { report: TrainingReportMessage }) {
  const crossValidated = report.evaluatedOn === 'cross-validation';
  return (
    <section class="report" data-testid="report">
      <h2 data-testid="estimate">{estimateOf(report)}</h2>
      <p class="muted">
        {crossValidated
          ? `${report.folds ?? report.foldAccuracies?.length ?? ''}-fold cross-validation: each of the ${report.validationCount} examples predicted by a model trained without it; the model in use learned from all ${report.trainCount}`
          : `${report.trainCount} training examples`}
        {' '}· best epoch {report.bestEpoch} of {report.epochs.length} · {formatMs(report.durationMs)}
        {Object.keys(report.ignoredLabels).length > 0 && ` · left out (under 2 examples): ${Object.keys(report.ignoredLabels).join(', ')}`}
      </p>
      <table class="confusion">
        <caption>Confusion matrix{crossValidated ? ' (cross-validated)' : ''}: rows are the true label, columns what the model said</caption>
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
              <td>{formatAccuracy(report.perLabelAccuracy[label])}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
