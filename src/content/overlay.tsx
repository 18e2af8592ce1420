/**
 * The result overlay: a closed shadow root on an element of our own, appended to <html>.
 * Page CSS cannot reach inside it, page scripts cannot read it, and the page's own nodes
 * are never moved, wrapped or rewritten. It follows its image on scroll and resize.
 */
import { render } from 'preact';
import type { ClassifyResult } from '../shared/protocol';
import { formatMs, formatPercent } from '../shared/format';
import type { Box } from './find-image';
import css from './overlay.css?inline';
import { panelPosition } from './panel-position';
import { ownShadowHosts } from './shadow-roots';

export type OverlayState =
  | { phase: 'loading' }
  | { phase: 'done'; result: ClassifyResult }
  | { phase: 'error'; message: string }
  | { phase: 'saved'; label: string }
  /** Just the frame, for a moment: "this is the image you clicked in the popup". */
  | { phase: 'highlight' };

const HIGHLIGHT_MS = 2000;

/** Said when the page took the picture away (and put none like it in its place) before the answer came. */
export const PICTURE_GONE_NOTICE = 'The page removed this picture while Spotter looked at it: this answer is for the picture you clicked, which was here.';

function OverlayView(props: { state: OverlayState; frame: Box; panel: { left: number; top: number } | null; gone: boolean; onClose: () => void }) {
  const { state, frame, panel, gone, onClose } = props;
  const frameStyle = { left: `${frame.left}px`, top: `${frame.top}px`, width: `${frame.width}px`, height: `${frame.height}px` };
  if (state.phase === 'highlight') return <div class="frame highlight" style={frameStyle} hidden={!panel} />;
  return (
    <>
      <div class="frame" style={frameStyle} hidden={!panel || gone} />
      <section
        class="panel"
        data-state={state.phase}
        role="dialog"
        aria-label="Spotter result"
        hidden={!panel}
        style={panel ? { left: `${panel.left}px`, top: `${panel.top}px` } : undefined}
      >
        <header>
          <span class="brand">Spotter</span>
          <button class="close" type="button" aria-label="Close (Esc)" title="Close (Esc)" onClick={onClose}>
            <span aria-hidden="true">×</span>
          </button>
        </header>
        <div aria-live="polite">
          {gone && state.phase !== 'loading' && <p class="notice">{PICTURE_GONE_NOTICE}</p>}
          {state.phase === 'loading' && (
            <div class="busy">
              <span class="spinner" aria-hidden="true" />
              Looking at the image…
            </div>
          )}
          {state.phase === 'error' && (
            <p class="error" role="alert">
              {state.message}
            </p>
          )}
          {state.phase === 'saved' && (
            <p class="saved">
              Saved as <b>{state.label}</b>. Retrain in the popup to teach it.
            </p>
          )}
          {state.phase === 'done' && <Result result={state.result} />}
        </div>
      </section>
    </>
  );
}

function Result({ result }: { result: ClassifyResult }) {
  const user = result.user;
  return (
    <>
      {result.notice && <p class="notice">{result.notice}</p>}
      {user && (
        <>
          <h2>Your labels</h2>
          <ol>
            {user.unknown && <Row kind="user" label="unknown" probability={null} title="Unlike your examples of every label" />}
            {user.labels.map((entry, i) => (
              <Row key={entry.label} kind="user" label={entry.label} probability={entry.probability} title={user.unknown && i === 0 ? 'best guess' : entry.label} />
            ))}
          </ol>
          <h2>ImageNet</h2>
        </>
      )}
      <ol>
        {result.imagenet.map((entry) => (
          <Row key={entry.fullName} kind="imagenet" label={entry.label} probability={entry.probability} title={entry.fullName} />
        ))}
      </ol>
      <div class="meta">
        {result.backend} · {formatMs(result.totalMs)}
      </div>
    </>
  );
}

function Row(props: { kind: 'user' | 'imagenet'; label: string; probability: number | null; title: string }) {
  const { kind, label, probability, title } = props;
  return (
    <li data-kind={kind} data-label={label} data-probability={probability === null ? '' : probability.toFixed(4)}>
      {probability !== null && <span class="bar" style={{ width: `${Math.round(probability * 100)}%` }} />}
      <span class="name" title={title}>
        {label}
      </span>
      <span class="pct">{probability === null ? '' : formatPercent(probability)}</span>
    </li>
  );
}

/**
 * Finds the element that took the place of the picture after the page re-rendered it (same
 * picture, same place), or null. `box`: where the picture last was.
 */
export type Relocate = (lost: Element, box: Box, root: Document | ShadowRoot) => Element | null;

export class ImageOverlay {
  private readonly host: HTMLElement;
  private readonly view: Window;
  private readonly root: ShadowRoot;
  private state: OverlayState = { phase: 'loading' };
  private readonly resizeObserver: ResizeObserver;
  private readonly poll: number;
  private frameRequest = 0;
  private closed = false;
  /** Last measured height of the panel, for keeping it on screen. */
  private panelHeight = 120;
  /** The picture followed: the one clicked, or what the page replaced it with. */
  private current: Element;
  /** Where the picture was last seen, and the document or shadow root it was in. */
  private lastBox: Box;
  private readonly pictureRoot: Document | ShadowRoot;
  /** Whether the answer has been drawn over its picture (not only where the picture was). */
  private answerSeen = false;

  constructor(
    target: Element,
    private readonly onClosed: (overlay: ImageOverlay) => void,
    private readonly relocate: Relocate = () => null,
  ) {
    this.current = target;
    this.lastBox = boxOf(target.getBoundingClientRect());
    const rootNode = target.getRootNode();
    this.pictureRoot = rootNode instanceof ShadowRoot ? rootNode : target.ownerDocument;
    const doc = target.ownerDocument;
    this.view = doc.defaultView ?? window;
    // A plain <div>, not a custom element: a page could define a custom element's class first and reach into its shadow root.
    this.host = doc.createElement('div');
    // Inline !important beats any page rule that targets our host element.
    this.host.setAttribute('style', 'all: initial !important; position: fixed !important; inset: 0 auto auto 0 !important; width: 0 !important; height: 0 !important; z-index: 2147483647 !important; display: block !important;');
    this.root = this.host.attachShadow({ mode: 'closed' });
    ownShadowHosts.add(this.host);
    const style = doc.createElement('style');
    style.textContent = css;
    this.root.append(style);
    doc.documentElement.append(this.host);
    // In the top layer, above full-screen videos, modal dialogs and popovers, which no z-index beats.
    if (typeof this.host.showPopover === 'function') {
      this.host.popover = 'manual';
      this.host.showPopover();
    }

    this.view.addEventListener('scroll', this.schedule, { capture: true, passive: true });
    this.view.addEventListener('resize', this.schedule, { passive: true });
    this.resizeObserver = new ResizeObserver(this.schedule);
    this.resizeObserver.observe(target);
    // Pages also move images without scrolling (carousels, layout shifts): a slow poll catches those.
    this.poll = window.setInterval(this.schedule, 250);
    this.draw();
  }

  /** The picture it is over (which changes if the page replaces it with the same picture). */
  get target(): Element {
    return this.current;
  }

  show(state: OverlayState): void {
    this.state = state;
    this.draw();
    if (state.phase === 'highlight') setTimeout(() => this.close(), HIGHLIGHT_MS);
  }

  /** Kept out of the picture while the background reads the screen under it (screen-capture.ts). */
  setHidden(hidden: boolean): void {
    this.host.style.setProperty('visibility', hidden ? 'hidden' : 'visible', 'important');
  }

  /** What this overlay shows, as a person would read it. */
  describe(): { state: string; labels: { kind: string; label: string; probability: number; text: string }[]; error: string | null; text: string; frameStyle: string | null } {
    const panel = this.root.querySelector('section');
    const squash = (text: string | null | undefined) => (text ?? '').replace(/\s+/g, ' ').trim();
    return {
      state: panel?.getAttribute('data-state') ?? this.state.phase,
      labels: [...this.root.querySelectorAll('li')].map((li) => ({
        kind: li.getAttribute('data-kind') ?? '',
        label: li.getAttribute('data-label') ?? '',
        probability: Number(li.getAttribute('data-probability')),
        text: squash([...li.children].map((child) => child.textContent).filter(Boolean).join(' ')),
      })),
      error: panel?.querySelector('.error') ? squash(panel.querySelector('.error')?.textContent) : null,
      text: squash(panel?.textContent),
      frameStyle: this.root.querySelector('.frame')?.getAttribute('style') ?? null,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.view.removeEventListener('scroll', this.schedule, { capture: true });
    this.view.removeEventListener('resize', this.schedule);
    this.resizeObserver.disconnect();
    clearInterval(this.poll);
    cancelAnimationFrame(this.frameRequest);
    render(null, this.root);
    this.host.remove();
    this.onClosed(this);
  }

  /** The page replaced the picture (same picture, same place): the overlay moves to the new element. */
  private followReplacement(): boolean {
    const replacement = this.relocate(this.current, this.lastBox, this.pictureRoot);
    if (!replacement) return false;
    this.resizeObserver.unobserve(this.current);
    this.resizeObserver.observe(replacement);
    this.current = replacement;
    return true;
  }

  private readonly schedule = () => {
    if (this.frameRequest || this.closed) return;
    this.frameRequest = requestAnimationFrame(() => {
      this.frameRequest = 0;
      this.draw();
    });
  };

  private draw(): void {
    if (this.closed) return;
    if (!this.current.isConnected && !this.followReplacement()) {
      // Nothing like it in its place. An answer the user has seen goes with its picture, as before;
      // one still coming (or come since) stays, and says where the picture was.
      if (this.state.phase === 'highlight' || this.answerSeen) {
        this.close();
        return;
      }
    }
    // The page may take Spotter's own host out of the document (a framework rendering <html>).
    if (!this.host.isConnected) {
      this.current.ownerDocument.documentElement.append(this.host);
      if (typeof this.host.showPopover === 'function') this.host.showPopover();
    }
    const gone = !this.current.isConnected;
    const rect = gone ? this.lastBox : boxOf(this.current.getBoundingClientRect());
    if (!gone) this.lastBox = rect;
    if (!gone && this.state.phase !== 'loading') this.answerSeen = true;
    const frame = { left: rect.left, top: rect.top, width: rect.width, height: rect.height };
    render(
      <OverlayView state={this.state} frame={frame} gone={gone} panel={panelPosition({ ...rect, right: rect.left + rect.width, bottom: rect.top + rect.height }, { width: this.view.innerWidth, height: this.view.innerHeight }, this.panelHeight)} onClose={() => this.close()} />,
      this.root,
    );
    // The panel grows with the user's labels: place it by its real height, measured after drawing.
    const height = this.root.querySelector('section')?.getBoundingClientRect().height ?? 0;
    if (height > 0 && Math.abs(height - this.panelHeight) > 1) {
      this.panelHeight = height;
      this.schedule();
    }
  }
}

const boxOf = (rect: DOMRect): Box => ({ left: rect.left, top: rect.top, width: rect.width, height: rect.height });
