import { useEffect, useMemo, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { ask, tellTab } from '../shared/client';
import { SpotterError, toErrorInfo } from '../shared/errors';
import { formatPercent } from '../shared/format';
import type { ClassifyResult, ImageSource, PageImage } from '../shared/protocol';
import { labelNames } from '../storage/dataset';
import { finishedCount } from './page-grid';

type CardState =
  | { status: 'pending' }
  | { status: 'done'; result: ClassifyResult }
  | { status: 'error'; message: string };

/** How many images are in flight at once: the engine serialises them anyway; two hide the messaging gaps. */
const CONCURRENCY = 2;
const RECOLLECT_MS = 2000;

/** What a card without a thumbnail (still looking, or failed) says it is. */
const KIND_NAMES: Record<PageImage['kind'], string> = { img: 'image', background: 'background image', canvas: 'canvas', video: 'video', svg: 'drawing' };

function topLabel(result: ClassifyResult): { label: string; probability: number | null; from: 'user' | 'imagenet' } {
  const user = result.user;
  if (user) return user.unknown ? { label: 'unknown', probability: null, from: 'user' } : { label: user.labels[0]!.label, probability: user.labels[0]!.probability, from: 'user' };
  const best = result.imagenet[0]!;
  return { label: best.label, probability: best.probability, from: 'imagenet' };
}

/**
 * An image of the tab as the engine should read it. The page's address, which decides cookies and
 * file: access, comes from the browser's record of the tab, not from anything the page says.
 */
async function resolveOnPage(tabId: number, imageId: string): Promise<ImageSource> {
  const [resolved, tab] = await Promise.all([tellTab(tabId, { type: 'resolve-image', imageId }), browser.tabs.get(tabId)]);
  const source = 'onScreenOnly' in resolved ? await fromScreen(tabId, imageId, resolved.onScreenOnly) : resolved;
  return { url: source.url, ...(tab.url ? { pageUrl: tab.url } : {}) };
}

/**
 * A canvas or video the page lets no one copy, as the screen shows it (the background reads it);
 * where it cannot, both reasons are said.
 */
async function fromScreen(tabId: number, imageId: string, whyNotCopied: string): Promise<ImageSource> {
  try {
    return await ask({ type: 'read-from-screen', tabId, imageId });
  } catch (error) {
    throw new SpotterError('uncopyable', `${whyNotCopied} ${toErrorInfo(error).message}`);
  }
}

export function PageView(props: { tabId: number; labelsVersion: number; modelVersion: number; onLabelsChanged: () => void }) {
  const { tabId, labelsVersion, modelVersion, onLabelsChanged } = props;
  const [images, setImages] = useState<PageImage[] | null>(null);
  const [cards, setCards] = useState<Record<string, CardState>>({});
  const [saved, setSaved] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const [userLabels, setUserLabels] = useState<string[]>([]);
  const [round, setRound] = useState(0);

  useEffect(() => {
    // Only the names, for the correction box's suggestions: read from the label index, not the whole dataset.
    // Without them the box still takes any label typed, so a failed read costs nothing.
    labelNames().then((names) => setUserLabels(names.sort((a, b) => a.localeCompare(b))), () => undefined);
  }, [labelsVersion]);

  // A new model predicts differently (the user's labels first): look at every image again.
  useEffect(() => {
    if (modelVersion > 0) setRound((r) => r + 1);
  }, [modelVersion]);

  useEffect(() => {
    let cancelled = false;
    setImages(null);
    setCards({});
    setError(null);
    const knownUrls = new Set<string>();
    const queue: PageImage[] = [];
    let active = 0;
    /** Which document the grid shows, so that a navigation starts it over. */
    let shownDocument: string | null = null;
    /** Bumped when the grid starts over: answers for the page before must not land in the new grid. */
    let generation = 0;

    const classifyOne = async (image: PageImage) => {
      const asked = generation;
      let state: CardState;
      try {
        state = { status: 'done', result: await ask({ type: 'classify-image', source: await resolveOnPage(tabId, image.imageId) }) };
      } catch (e) {
        state = { status: 'error', message: toErrorInfo(e).message };
      }
      if (!cancelled && asked === generation) setCards((all) => ({ ...all, [image.imageId]: state }));
    };
    const pump = () => {
      while (!cancelled && active < CONCURRENCY && queue.length > 0) {
        active++;
        void classifyOne(queue.shift()!).finally(() => {
          active--;
          pump();
        });
      }
    };
    // Asked again every few seconds: lazy images join the grid once they have loaded.
    const collect = async () => {
      const { document: lookedAt, images: found } = await tellTab(tabId, { type: 'collect-images' });
      if (cancelled) return;
      setError(null);
      // Each document's content script has a key of its own: a navigation or reload shows up as a new one, with images or without.
      if (shownDocument !== null && lookedAt !== shownDocument) {
        // The tab went to another page: start the grid over rather than mix two pages' images.
        generation++;
        knownUrls.clear();
        queue.length = 0;
        setImages([]);
        setCards({});
        setSaved({});
      }
      shownDocument = lookedAt;
      const fresh = found.filter((image) => !knownUrls.has(image.url));
      fresh.forEach((image) => knownUrls.add(image.url));
      setImages((all) => [...(all ?? []), ...fresh]);
      queue.push(...fresh);
      pump();
    };
    // A failure shows until a later look succeeds (a page still loading, a tab that was reloaded).
    const collectOrSay = () => collect().catch((e: unknown) => !cancelled && setError(toErrorInfo(e).message));
    void collectOrSay();
    const timer = setInterval(() => void collectOrSay(), RECOLLECT_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [tabId, round]);

  const finished = finishedCount(images, cards);
  const visible = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    if (!images || !needle) return images ?? [];
    return images.filter((image) => {
      const card = cards[image.imageId];
      if (card?.status !== 'done') return false;
      const names = [...(card.result.user?.labels.map((l) => l.label) ?? []), ...card.result.imagenet.map((l) => l.fullName), saved[image.imageId] ?? ''];
      return names.some((name) => name.toLowerCase().includes(needle));
    });
  }, [images, cards, filter, saved]);

  if (error && !images?.length) return <p class="error" role="alert">{error}</p>;
  if (!images) return <p>Looking for images on the page…</p>;

  const save = async (image: PageImage, label: string) => {
    const source = await resolveOnPage(tabId, image.imageId);
    const example = await ask({ type: 'add-example', source, label, pageUrl: source.pageUrl ?? '' });
    setSaved((all) => ({ ...all, [image.imageId]: example.label }));
    onLabelsChanged();
  };

  return (
    <div class="page-view">
      <div class="toolbar">
        {images.length > 0 && (
          <>
            <progress max={images.length} value={finished} aria-label="Images classified" />
            <span class="count" data-testid="progress">
              {finished} / {images.length}
            </span>
            <input type="search" placeholder="Filter by label" aria-label="Filter by label" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
          </>
        )}
        <button type="button" onClick={() => setRound((r) => r + 1)} title="Start over: collect and classify the page's images again">
          Refresh
        </button>
      </div>
      {/* Over a grid too: the cards may be out of date (a page Spotter cannot see, a reload in progress). */}
      {error && (
        <p class="error" role="alert" data-testid="page-error">
          {error}
        </p>
      )}
      {images.length === 0 && <p data-testid="no-images">No images of at least 48 px on this page yet. Images that load later show up here by themselves.</p>}
      <datalist id="user-labels">
        {userLabels.map((label) => (
          <option key={label} value={label} />
        ))}
      </datalist>
      <ul class="grid">
        {visible.map((image) => (
          <Card key={image.imageId} image={image} state={cards[image.imageId] ?? { status: 'pending' }} saved={saved[image.imageId]} tabId={tabId} onSave={save} />
        ))}
      </ul>
    </div>
  );
}

function Card(props: { image: PageImage; state: CardState; saved: string | undefined; tabId: number; onSave: (image: PageImage, label: string) => Promise<void> }) {
  const { image, state, saved, tabId, onSave } = props;
  const [draft, setDraft] = useState('');
  const [saveError, setSaveError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const top = state.status === 'done' ? topLabel(state.result) : null;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!draft.trim() || busy) return;
    setBusy(true);
    setSaveError(null);
    try {
      await onSave(image, draft);
      setDraft('');
    } catch (e) {
      setSaveError(toErrorInfo(e).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li class="card" data-url={image.url} data-state={state.status} data-top-label={top?.label ?? ''} data-top-from={top?.from ?? ''}>
      <button type="button" class="thumb" title="Show it on the page" onClick={() => void tellTab(tabId, { type: 'highlight-image', imageId: image.imageId }).then(() => setSaveError(null), (e: unknown) => setSaveError(toErrorInfo(e).message))}>
        {state.status === 'done' ? <img src={state.result.thumbnail} alt="" /> : <span class="placeholder">{KIND_NAMES[image.kind]}</span>}
      </button>
      <div class="labels">
        {state.status === 'pending' && <span class="muted">Looking…</span>}
        {state.status === 'error' && <span class="error">{state.message}</span>}
        {top && (
          <span class="top" data-testid="top-label">
            {top.label} {top.probability !== null && <span class="pct">{formatPercent(top.probability)}</span>}
          </span>
        )}
        {state.status === 'done' && state.result.user && <span class="muted">{state.result.imagenet[0]!.label}</span>}
        {state.status === 'done' && state.result.notice && <span class="notice">{state.result.notice}</span>}
      </div>
      {/* While saving the input is read-only, not disabled: a disabled input would drop the keyboard focus. */}
      <form class="correct" onSubmit={submit}>
        <input list="user-labels" placeholder="Correct label…" aria-label={`Correct the label of ${image.url.slice(0, 80)}`} value={draft} onInput={(e) => setDraft(e.currentTarget.value)} readOnly={busy} aria-busy={busy} />
        <button type="submit" disabled={busy || !draft.trim()}>
          Save
        </button>
      </form>
      {saved && (
        <span class="saved" data-testid="saved">
          ✓ {saved}
        </span>
      )}
      {saveError && (
        <span class="error" role="alert">
          {saveError}
        </span>
      )}
    </li>
  );
}
