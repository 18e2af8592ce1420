/**
 * The result overlay: a closed shadow root on an element of our own, appended to <html>.
 * Page CSS cannot reach inside it, page scripts cannot read it, and the page's own nodes
 * are never moved, wrapped or rewritten. It follows its image on scroll and resize.
 */
import { render } from 'preact';
import type { ClassifyResult } from '../shared/protocol';
import { formatMs, formatPercent } from '../shared/format';
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

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

function OverlayView(props: { state: OverlayState; frame: Box; panel: { left: number; top: number } | null; onClose: () => void }) {
  const { state, frame, panel, onClose } = props;
  const frameStyle = { left: `${frame.left}px`, top: `${frame.top}px`, width: `${frame.width}px`, height: `${frame.height}px` };
  if (state.phase === 'highlight') return <div class="frame highlight" style={frameStyle} hidden={!panel} />;
  return (
    <>
      <div class="frame" style={frameStyle} hidden={!panel} />
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

  constructor(
    readonly target: Element,
    private readonly onClosed: (overlay: ImageOverlay) => void,
  ) {
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

  private readonly schedule = () => {
    if (this.frameRequest || this.closed) return;
    this.frameRequest = requestAnimationFrame(() => {
      this.frameRequest = 0;
      this.draw();
    });
  };

  private draw(): void {
    if (this.closed) return;
    if (!this.target.isConnected) {
      this.close();
      return;
    }
    const rect = this.target.getBoundingClientRect();
    const frame = { left: rect.left, top: rect.top, width: rect.width, height: rect.height };
    render(<OverlayView state={this.state} frame={frame} panel={panelPosition(rect, { width: this.view.innerWidth, height: this.view.innerHeight }, this.panelHeight)} onClose={() => this.close()} />, this.root);
    // The panel grows with the user's labels: place it by its real height, measured after drawing.
    const height = this.root.querySelector('section')?.getBoundingClientRect().height ?? 0;
    if (height > 0 && Math.abs(height - this.panelHeight) > 1) {
      this.panelHeight = height;
      this.schedule();
    }
  }
}
