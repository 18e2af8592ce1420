/**
 * The popup: the page's images with their labels, the user's labels, and training.
 * `popup.html?tabId=N` opens the same view as a normal tab for tab N (tests, power users, and
 * file pickers, which close a real popup in some browsers).
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import browser, { type Runtime } from 'webextension-polyfill';
import { ChangeNoticeSchema, parseMessage } from '../shared/protocol';
import { isOwnExtensionPage } from '../shared/senders';
import { LabelsView } from './labels-view';
import { PageView } from './page-view';
import { StatusLine } from './status-line';
import { TrainView } from './train-view';
import './popup.css';

type Tab = 'page' | 'labels' | 'train';
const TABS: { id: Tab; title: string }[] = [
  { id: 'page', title: 'This page' },
  { id: 'labels', title: 'Your labels' },
  { id: 'train', title: 'Train' },
];

async function targetTabId(): Promise<number | null> {
  const params = new URLSearchParams(location.search);
  if (params.has('tabId')) {
    const fromUrl = Number(params.get('tabId'));
    return Number.isInteger(fromUrl) && fromUrl > 0 ? fromUrl : null;
  }
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  return tab?.id ?? null;
}

/** The ARIA tabs pattern: arrow keys (and Home/End) move between tabs; Tab moves into the panel. */
function moveTab(event: KeyboardEvent, current: Tab, select: (tab: Tab) => void): void {
  const index = TABS.findIndex((t) => t.id === current);
  const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 }[event.key];
  if (next === undefined) return;
  event.preventDefault();
  const target = TABS[(next + TABS.length) % TABS.length]!.id;
  select(target);
  document.getElementById(`tab-${target}`)?.focus();
}

function App() {
  const [tab, setTab] = useState<Tab>('page');
  const [tabId, setTabId] = useState<number | null | undefined>(undefined);
  // Bumped whenever labels change, so every view re-reads them.
  const [labelsVersion, setLabelsVersion] = useState(0);
  const labelsChanged = () => setLabelsVersion((n) => n + 1);
  // Bumped when the model in use changes (a retrain finished, an import, Forget): the page's images are classified again.
  const [modelVersion, setModelVersion] = useState(0);
  const modelChanged = () => setModelVersion((n) => n + 1);
  // Bumped when a training starts elsewhere, so the Train view follows it.
  const [trainingVersion, setTrainingVersion] = useState(0);
  useEffect(() => {
    void targetTabId().then(setTabId);
  }, []);
  useEffect(() => {
    const self = { id: browser.runtime.id, baseUrl: browser.runtime.getURL('') };
    const onNotice = (message: unknown, sender: Runtime.MessageSender): undefined => {
      if (!isOwnExtensionPage(sender, self)) return undefined;
      const parsed = parseMessage(ChangeNoticeSchema, message);
      if (!parsed.ok) return undefined; // requests to the background pass by here too
      if (parsed.value.what === 'labels') labelsChanged();
      else if (parsed.value.what === 'model') modelChanged();
      else setTrainingVersion((n) => n + 1);
      return undefined;
    };
    browser.runtime.onMessage.addListener(onNotice);
    return () => browser.runtime.onMessage.removeListener(onNotice);
  }, []);
  const inTab = new URLSearchParams(location.search).has('tabId');

  return (
    <>
      <header class="top">
        <h1>Spotter</h1>
        <StatusLine />
        <button type="button" class="link options-link" onClick={() => void browser.runtime.openOptionsPage()}>
          Options
        </button>
        {!inTab && tabId && (
          <a class="open-tab" href={`popup.html?tabId=${tabId}`} target="_blank" rel="noreferrer" title="Open this view in a tab">
            Open in tab ↗
          </a>
        )}
      </header>
      <nav role="tablist" aria-label="Spotter views" onKeyDown={(event) => moveTab(event, tab, setTab)}>
        {TABS.map(({ id, title }) => (
          <button key={id} role="tab" id={`tab-${id}`} aria-selected={tab === id} aria-controls={`panel-${id}`} tabIndex={tab === id ? 0 : -1} onClick={() => setTab(id)} type="button">
            {title}
          </button>
        ))}
      </nav>
      {/* Views stay mounted so work in progress (page classification) survives switching tabs. */}
      <section role="tabpanel" id="panel-page" aria-labelledby="tab-page" hidden={tab !== 'page'}>
        {tabId === undefined ? <p>Finding the page…</p> : tabId === null ? <p class="error">No page to look at.</p> : <PageView tabId={tabId} labelsVersion={labelsVersion} modelVersion={modelVersion} onLabelsChanged={labelsChanged} />}
      </section>
      <section role="tabpanel" id="panel-labels" aria-labelledby="tab-labels" hidden={tab !== 'labels'}>
        <LabelsView labelsVersion={labelsVersion} modelVersion={modelVersion} onLabelsChanged={labelsChanged} onModelChanged={modelChanged} />
      </section>
      <section role="tabpanel" id="panel-train" aria-labelledby="tab-train" hidden={tab !== 'train'}>
        <TrainView labelsVersion={labelsVersion} modelVersion={modelVersion} trainingVersion={trainingVersion} visible={tab === 'train'} onModelChanged={modelChanged} />
      </section>
    </>
  );
}

document.documentElement.classList.toggle('in-tab', new URLSearchParams(location.search).has('tabId'));
render(<App />, document.getElementById('app')!);
