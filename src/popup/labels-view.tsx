import { useEffect, useRef, useState } from 'preact/hooks';
import { ask } from '../shared/client';
import { MODELS } from '../shared/models';
import { SpotterError, toErrorInfo } from '../shared/errors';
import { countOf } from '../shared/format';
import { collapseSpaces, normaliseLabel } from '../shared/labels';
import type { Dataset } from '../shared/protocol';
import { InlineConfirm, useFocusReturn } from './confirm';
import { examplesWithFeatures } from '../storage/dataset';
import { exportableDataset } from '../storage/dataset-file';
import { loadHead } from '../storage/head-store';
import { MAX_IMPORT_BYTES, stageImport } from '../storage/import-staging';
import { download, imageFilesOnly, labelsFromFolder, readAsDataUrl, type FolderUpload } from './files';

const groupSelector = (label: string) => `.label-group[data-label="${CSS.escape(label)}"]`;

/** The user's dataset: per-label counts and thumbnails, edits, "Add images", export/import. */
export function LabelsView(props: { labelsVersion: number; modelVersion: number; onLabelsChanged: () => void; onModelChanged: () => void }) {
  const { labelsVersion, modelVersion, onLabelsChanged, onModelChanged } = props;
  const [dataset, setDataset] = useState<Dataset | null>(null);
  const [message, setMessage] = useState<{ kind: 'info' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  /** Files "Add images" could not add because storage was full, kept so the user can try again once there is room. */
  const [notAdded, setNotAdded] = useState<FolderUpload | null>(null);
  /** Where keyboard focus goes once the edited list is back (the control used may be gone). */
  const focusNext = useRef<string[] | null>(null);

  /** Why the list could not be had: the view then offers only what works without it (export, import, forget, delete everything). */
  const [listError, setListError] = useState<string | null>(null);

  // Also when the model changes (a retrain, Forget, here or elsewhere): "Export model" follows whether there is one.
  useEffect(() => {
    ask({ type: 'list-dataset' }).then(
      (answer) => {
        setDataset(answer);
        setListError(null);
      },
      (e: unknown) => setListError(toErrorInfo(e).message),
    );
  }, [labelsVersion, modelVersion]);

  useEffect(() => {
    const selectors = focusNext.current;
    if (!selectors || !dataset) return;
    focusNext.current = null;
    for (const selector of selectors) {
      const element = document.querySelector<HTMLElement>(selector);
      if (element) return element.focus();
    }
  }, [dataset]);

  /** Runs an edit, reports its outcome, and refreshes every view; `then` lists where focus should land, first match wins. */
  const run = async (work: () => Promise<string>, then: string[] = []) => {
    focusNext.current = [...then, '#labels-summary'];
    setBusy(true);
    try {
      setMessage({ kind: 'info', text: await work() });
    } catch (e) {
      setMessage({ kind: 'error', text: toErrorInfo(e).message });
    } finally {
      setBusy(false);
      onLabelsChanged();
    }
  };

  const addFiles = ({ files, skipped }: FolderUpload) =>
    run(async () => {
      setNotAdded(null);
      const failed: string[] = [];
      const notes = skipped.length > 0 ? ` Left out: ${skipped.join('; ')}.` : '';
      if (files.length === 0) throw new SpotterError('no-image', `No images to add.${notes}`);
      for (const [i, { file, label }] of files.entries()) {
        setMessage({ kind: 'info', text: `Adding ${i + 1} / ${files.length}…` });
        try {
          await ask({ type: 'add-example', source: { url: await readAsDataUrl(file) }, label, pageUrl: `file: ${file.webkitRelativePath || file.name}` });
        } catch (e) {
          const error = toErrorInfo(e);
          if (error.code === 'storage-full') {
            // The rest would fail too: stop, and keep this file and the rest for a second try once there is room.
            const left = files.slice(i);
            setNotAdded({ files: left, skipped: [] });
            const added = i - failed.length;
            throw new SpotterError('storage-full', `Added ${added} of ${countOf(files.length, 'image')}; ${countOf(left.length, 'image')} not added. ${error.message}${failed.length ? ` Also not added: ${failed.join('; ')}` : ''}${notes}`);
          }
          failed.push(`${file.name}: ${error.message}`);
        }
      }
      const added = files.length - failed.length;
      return `Added ${added} image${added === 1 ? '' : 's'}.${failed.length ? ` ${failed.length} could not be added: ${failed.join('; ')}` : ''}${notes}`;
    });

  const transfer = <Transfer dataset={dataset} busy={busy} run={run} onModelChanged={onModelChanged} />;
  const messageLine = (
    // Always mounted, so screen readers announce the first message too.
    <p class={message?.kind ?? ''} aria-live={message?.kind === 'error' ? 'assertive' : 'polite'} data-testid="labels-message">
      {message?.text ?? ''}
    </p>
  );
  if (!dataset) {
    if (!listError) return <p>Loading your labels…</p>;
    // No list to show: still every way out that needs none.
    return (
      <div class="labels-view">
        <p class="error" role="alert" data-testid="labels-error">
          {listError}
        </p>
        {messageLine}
        {transfer}
      </div>
    );
  }
  const total = dataset.labels.reduce((sum, l) => sum + l.count, 0);

  return (
    <div class="labels-view">
      <p id="labels-summary" tabIndex={-1}>
        {total === 0 ? 'No examples yet: correct a label on "This page", use "Label as" in the right-click menu, or add images here.' : `${countOf(total, 'example')} in ${countOf(dataset.labels.length, 'label')}.`}
      </p>
      {listError && (
        <p class="error" role="alert" data-testid="labels-error">
          {listError}
        </p>
      )}
      {dataset.unreadable.examples > 0 && (
        <p class="error" data-testid="unreadable-examples">
          {unreadableExamplesNote(dataset.unreadable.examples)}
        </p>
      )}
      {dataset.otherModels.map(({ model, count, withPicture }) => (
        <p class="hint" key={model} data-testid="other-model">
          {withPicture > 0 && `${countOf(withPicture, 'example')} made with ${MODELS[model].title} ${withPicture === 1 ? 'is' : 'are'} being read again for ${MODELS[dataset.model].title} (see Train). `}
          {count > withPicture &&
            `${countOf(count - withPicture, 'example')} made with ${MODELS[model].title} cannot move to ${MODELS[dataset.model].title}: ${count - withPicture === 1 ? 'it was' : 'they were'} saved before Spotter kept the pictures, so ${count - withPicture === 1 ? 'it trains' : 'they train'} only when ${MODELS[model].title} is chosen (Spotter's options → Model).`}
        </p>
      ))}
      <AddImages disabled={busy} onAdd={addFiles} knownLabels={dataset.labels.map((l) => l.label)} />
      {messageLine}
      {notAdded && (
        <p>
          <button type="button" data-testid="add-not-added" disabled={busy} onClick={() => void addFiles(notAdded)}>
            Add the {countOf(notAdded.files.length, 'image')} not added
          </button>{' '}
          <button type="button" disabled={busy} onClick={() => setNotAdded(null)}>
            Forget them
          </button>
        </p>
      )}
      {dataset.labels.map(({ label, count, examples }) => (
        <section class="label-group" key={label} data-label={label}>
          <h2 tabIndex={-1}>
            {label} <span class="muted">({count})</span>
          </h2>
          <ul class="thumbs">
            {examples.map((example) => (
              <li key={example.id}>
                <img src={example.thumbnail} alt={`${label} example`} title={example.imageUrl} />
                <button type="button" class="remove" aria-label={`Delete this ${label} example`} disabled={busy} onClick={() => run(async () => (await ask({ type: 'delete-example', id: example.id }), 'Example deleted.'), [`${groupSelector(label)} button.remove`, `${groupSelector(label)} h2`])}>
                  {/* A symbol, not a label: the name is the aria-label. */}
                  <span aria-hidden="true">×</span>
                </button>
              </li>
            ))}
          </ul>
          <LabelEdits label={label} others={dataset.labels.map((l) => l.label).filter((l) => l !== label)} disabled={busy} run={run} refuse={(text) => setMessage({ kind: 'error', text })} />
        </section>
      ))}
      {transfer}
    </div>
  );
}

function unreadableExamplesNote(count: number): string {
  const them = count === 1 ? 'it' : 'them';
  return `Spotter could not read ${countOf(count, 'stored example')}, so ${count === 1 ? 'it is' : 'they are'} not shown. "Export everything" leaves ${them} out; "Delete everything" removes ${them}.`;
}

/**
 * Export, import, and the ways out of stored data that cannot be read: Forget the model, Delete
 * everything. Shown with the list, and without it when the list cannot be had (`dataset` null).
 */
function Transfer(props: { dataset: Dataset | null; busy: boolean; run: (work: () => Promise<string>, then?: string[]) => Promise<void>; onModelChanged: () => void }) {
  const { dataset, busy, run, onModelChanged } = props;
  const [pendingImport, setPendingImport] = useState<File | null>(null);
  const importFocus = useFocusReturn<HTMLInputElement>(pendingImport !== null);
  const [confirming, setConfirming] = useState<'forget' | 'delete-all' | null>(null);
  const forgetFocus = useFocusReturn<HTMLButtonElement>(confirming === 'forget');
  const deleteAllFocus = useFocusReturn<HTMLButtonElement>(confirming === 'delete-all');
  // Beside "Export model", and for a model that cannot be read (which the Train view does not show), or when nothing can be.
  const offerForget = !dataset || dataset.head !== null || dataset.unreadable.model;
  const cancel = (focus: { cancelled: () => void }) => {
    focus.cancelled();
    setConfirming(null);
  };
  const changesModel = (work: () => Promise<string>) => async () => {
    try {
      return await work();
    } finally {
      onModelChanged();
    }
  };
  return (
    <section class="transfer">
      <h2>Export and import</h2>
      {dataset?.unreadable.model && (
        <p class="error" data-testid="unreadable-model">
          Spotter could not read the trained model. Forget it, or retrain to replace it.
        </p>
      )}
      <button type="button" disabled={busy || !dataset?.head} onClick={() => run(exportModel)} title={dataset?.head ? '' : 'Train first'}>
        Export model (TF.js)
      </button>
      <button type="button" disabled={busy} onClick={() => run(exportDataset)}>
        Export everything
      </button>
      <label class="file-button" aria-disabled={busy}>
        Import…
        <input
          type="file"
          accept=".json,application/json"
          ref={importFocus.opener}
          disabled={busy}
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (file) setPendingImport(file);
          }}
        />
      </label>
      {pendingImport && (
        <InlineConfirm
          question={`Replace all your labels and the trained model with ${pendingImport.name}?`}
          confirmLabel="Replace"
          onConfirm={() => {
            const file = pendingImport;
            setPendingImport(null);
            void run(async () => {
              try {
                const summary = await importDataset(file);
                onModelChanged();
                return summary;
              } catch (e) {
                // Nothing was imported: keep the file, so that Replace works once there is room.
                const error = toErrorInfo(e);
                if (error.code !== 'storage-full') throw e;
                setPendingImport(file);
                throw new SpotterError(error.code, `${error.message} Nothing was changed; press Replace to import ${file.name} once there is room.`);
              }
            });
          }}
          onCancel={() => {
            importFocus.cancelled();
            setPendingImport(null);
          }}
        />
      )}
      <p class="transfer-danger">
        {offerForget &&
          (confirming === 'forget' ? (
            <InlineConfirm
              question="Forget the trained model? Your examples stay; classifications show ImageNet's labels only."
              confirmLabel="Forget"
              onConfirm={() => {
                setConfirming(null);
                void run(changesModel(async () => ((await ask({ type: 'forget-model' })).forgotten ? 'The trained model is forgotten.' : 'There was no trained model to forget.')));
              }}
              onCancel={() => cancel(forgetFocus)}
            />
          ) : (
            <button type="button" class="danger" ref={forgetFocus.opener} disabled={busy} data-testid="labels-forget-model" onClick={() => setConfirming('forget')}>
              Forget the model
            </button>
          ))}{' '}
        {confirming === 'delete-all' ? (
          <InlineConfirm
            question='Delete all your examples and the trained model? This cannot be undone: "Export everything" first to keep a copy.'
            confirmLabel="Delete everything"
            onConfirm={() => {
              setConfirming(null);
              void run(
                changesModel(async () => {
                  const deleted = await ask({ type: 'delete-all' });
                  return `Deleted ${countOf(deleted.examples, 'example')}${deleted.model ? ' and the trained model' : ''}.`;
                }),
                ['#labels-summary'],
              );
            }}
            onCancel={() => cancel(deleteAllFocus)}
          />
        ) : (
          <button type="button" class="danger" ref={deleteAllFocus.opener} disabled={busy} data-testid="delete-all" onClick={() => setConfirming('delete-all')}>
            Delete everything
          </button>
        )}
      </p>
    </section>
  );
}

function AddImages(props: { disabled: boolean; knownLabels: string[]; onAdd: (upload: FolderUpload) => void }) {
  const [label, setLabel] = useState('');
  // Checked before any file is read, so a bad label is said once, not once per file.
  let labelProblem: string | null = null;
  try {
    normaliseLabel(label);
  } catch (e) {
    labelProblem = label.trim() ? toErrorInfo(e).message : 'Type a label first.';
  }
  const filesDisabled = props.disabled || labelProblem !== null;
  return (
    <details class="add-images">
      <summary>Add images</summary>
      <p>
        <label>
          Label{' '}
          <input list="known-labels" value={label} onInput={(e) => setLabel(e.currentTarget.value)} placeholder="e.g. tulips" aria-describedby="add-images-hint" />
        </label>
        <datalist id="known-labels">
          {props.knownLabels.map((l) => (
            <option key={l} value={l} />
          ))}
        </datalist>{' '}
        <label class="file-button" aria-disabled={filesDisabled}>
          Choose images…
          <input
            type="file"
            accept="image/*"
            multiple
            disabled={filesDisabled}
            onChange={(e) => {
              const files = [...(e.currentTarget.files ?? [])];
              e.currentTarget.value = '';
              props.onAdd(imageFilesOnly(files.map((file) => ({ file, label }))));
            }}
          />
        </label>{' '}
        <span id="add-images-hint" class="muted">
          {labelProblem}
        </span>
      </p>
      <p>
        Or a folder whose sub-folders are the labels (like Teachable Machine):{' '}
        <label class="file-button" aria-disabled={props.disabled}>
          Choose folder…
          <input
            type="file"
            {...{ webkitdirectory: '' }}
            disabled={props.disabled}
            onChange={(e) => {
              const files = [...(e.currentTarget.files ?? [])];
              e.currentTarget.value = '';
              props.onAdd(labelsFromFolder(files));
            }}
          />
        </label>
      </p>
    </details>
  );
}

function LabelEdits(props: { label: string; others: string[]; disabled: boolean; run: (work: () => Promise<string>, then?: string[]) => Promise<void>; refuse: (message: string) => void }) {
  const { label, others, disabled, run, refuse } = props;
  const [newName, setNewName] = useState('');
  const [chosenMerge, setMergeInto] = useState('');
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const deleteFocus = useFocusReturn<HTMLButtonElement>(confirmingDelete);
  // A choice whose label was renamed or deleted meanwhile is no choice.
  const mergeInto = others.includes(chosenMerge) ? chosenMerge : '';
  const [confirmingRenameMerge, setConfirmingRenameMerge] = useState(false);
  const renameFocus = useFocusReturn<HTMLInputElement>(confirmingRenameMerge);
  const existingNamed = (name: string) => others.find((other) => other.toLowerCase() === collapseSpaces(name).toLowerCase());
  const rename = (to: string) => {
    let target: string;
    try {
      target = existingNamed(to) ?? normaliseLabel(to);
    } catch (e) {
      // A name Spotter refuses ("unknown", too long): say why, and leave focus in the field to fix it.
      return refuse(toErrorInfo(e).message);
    }
    void run(async () => `Renamed ${countOf((await ask({ type: 'rename-label', from: label, to })).moved, 'example')} to "${target}".`, [`${groupSelector(target)} h2`]);
  };
  return (
    <div class="label-edits">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          // Renaming onto another label merges the two: ask first.
          if (existingNamed(newName)) setConfirmingRenameMerge(true);
          else rename(newName);
        }}
      >
        <input aria-label={`New name for ${label}`} ref={renameFocus.opener} placeholder="New name" value={newName} onInput={(e) => setNewName(e.currentTarget.value)} />
        <button type="submit" disabled={disabled || !newName.trim()}>
          Rename
        </button>
      </form>
      {confirmingRenameMerge && (
        <InlineConfirm
          question={`"${existingNamed(newName) ?? newName}" already exists: merge "${label}" into it?`}
          confirmLabel="Merge"
          onConfirm={() => {
            setConfirmingRenameMerge(false);
            rename(newName);
          }}
          onCancel={() => {
            renameFocus.cancelled();
            setConfirmingRenameMerge(false);
          }}
        />
      )}
      {others.length > 0 && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void run(async () => `Moved ${countOf((await ask({ type: 'rename-label', from: label, to: mergeInto })).moved, 'example')} into "${mergeInto}".`);
          }}
        >
          <select aria-label={`Merge ${label} into`} value={mergeInto} onChange={(e) => setMergeInto(e.currentTarget.value)}>
            <option value="">Merge into…</option>
            {others.map((other) => (
              <option key={other} value={other}>
                {other}
              </option>
            ))}
          </select>
          <button type="submit" disabled={disabled || !mergeInto}>
            Merge
          </button>
        </form>
      )}
      {confirmingDelete ? (
        <InlineConfirm
          question={`Delete "${label}" and all its examples?`}
          confirmLabel="Delete"
          onConfirm={() => {
            setConfirmingDelete(false);
            void run(async () => `Deleted ${countOf((await ask({ type: 'delete-label', label })).deleted, 'example')}.`, ['.label-group h2']);
          }}
          onCancel={() => {
            deleteFocus.cancelled();
            setConfirmingDelete(false);
          }}
        />
      ) : (
        <button type="button" class="danger" ref={deleteFocus.opener} disabled={disabled} onClick={() => setConfirmingDelete(true)}>
          Delete label
        </button>
      )}
    </div>
  );
}

async function exportModel(): Promise<string> {
  const files = await ask({ type: 'export-head' });
  download('spotter-model.json', new Blob([files.modelJson], { type: 'application/json' }));
  download('weights.bin', new Blob([Uint8Array.from(atob(files.weightsBase64), (c) => c.charCodeAt(0))], { type: 'application/octet-stream' }));
  download('spotter-labels.json', new Blob([files.labelsJson], { type: 'application/json' }));
  return 'Model exported: spotter-model.json + weights.bin (load with tf.loadLayersModel) and spotter-labels.json.';
}

async function exportDataset(): Promise<string> {
  // Read straight from the extension's database (the popup shares its origin): a runtime message
  // is capped at 64 MB in Chrome, about 1000 examples with their distorted copies.
  const { examples, missing } = await examplesWithFeatures();
  const head = await loadHead();
  // What cannot be read is left out, so that one damaged record does not stop the export or its import.
  const { text, leftOut } = exportableDataset(examples, head);
  download(`spotter-dataset-${new Date().toISOString().slice(0, 10)}.json`, new Blob([text], { type: 'application/json' }));
  const unreadable = leftOut.examples + missing;
  const notes = [
    ...(unreadable > 0 ? [`${countOf(unreadable, 'stored example')} could not be read and ${unreadable === 1 ? 'was' : 'were'} left out.`] : []),
    ...(leftOut.model ? ['The trained model could not be read and was left out.'] : []),
  ];
  if (notes.length === 0) return 'Everything exported to one file: examples and the trained model.';
  return ['Exported what Spotter could read to one file.', ...notes].join(' ');
}

async function importDataset(file: File): Promise<string> {
  // Checked before anything is read: a multi-gigabyte file picked by mistake must not reach the engine.
  if (file.size > MAX_IMPORT_BYTES) {
    throw new Error(`${file.name} is too large to import (${(file.size / 1024 / 1024).toFixed(0)} MB; Spotter can import up to ${MAX_IMPORT_BYTES / 1024 / 1024} MB). Nothing was changed.`);
  }
  // The file goes to the engine through the shared database, not in the message (64 MB at most).
  await stageImport(file);
  const summary = await ask({ type: 'import-dataset' });
  return `Imported ${countOf(summary.examples, 'example')} in ${countOf(summary.labels, 'label')}${summary.head ? ' and the trained model' : ''}.`;
}
