/**
 * The result overlay: a closed shadow root on an element of our own, appended to <html>.
 * Page CSS cannot reach inside it, page scripts cannot read it, and the page's own nodes
 * are never moved, wrapped or rewritten. It follows its image on scroll and resize.
 */
import { render } from 'preact';
import type { ClassifyResult } from '../shared/protocol';
import { formatMs, formatPercent } from '../shared/format';
import css from './overlay.css?inline';

export type OverlayState = { phase: 'loading' } | { phase: 'done'; result: ClassifyResult } | { phase: 'error'; message: string };

const HOST_TAG = 'spotter-overlay';
const PANEL_WIDTH = 240;
const MARGIN = 8;

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

function OverlayView(props: { state: OverlayState; frame: Box; panel: { left: number; top: number } | null; onClose: () => void }) {
  const { state, frame, panel, onClose } = props;
  return (
    <>
      <div class="frame" style={{ left: `${frame.left}px`, top: `${frame.top}px`, width: `${frame.width}px`, height: `${frame.height}px` }} hidden={!panel} />
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
            ×
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
          {state.phase === 'done' && (
            <>
              <ol>
                {state.result.imagenet.map((entry) => (
                  <li key={entry.fullName} data-label={entry.label} data-probability={entry.probability.toFixed(4)}>
                    <span class="bar" style={{ width: `${Math.round(entry.probability * 100)}%` }} />
                    <span class="name" title={entry.fullName}>
                      {entry.label}
                    </span>
                    <span class="pct">{formatPercent(entry.probability)}</span>
                  </li>
                ))}
              </ol>
              <div class="meta">
                ImageNet · {state.result.backend} · {formatMs(state.result.totalMs)}
              </div>
            </>
          )}
        </div>
      </section>
    </>
  );
}

export class ImageOverlay {
  private readonly host: HTMLElement;
  private readonly root: ShadowRoot;
  private state: OverlayState = { phase: 'loading' };
  private readonly resizeObserver: ResizeObserver;
  private readonly poll: number;
  private frameRequest = 0;
  private closed = false;

  constructor(
    readonly target: Element,
    private readonly onClosed: (overlay: ImageOverlay) => void,
  ) {
    this.host = document.createElement(HOST_TAG);
    // Inline !important beats any page rule that targets our host element.
    this.host.setAttribute('style', 'all: initial !important; position: fixed !important; inset: 0 auto auto 0 !important; width: 0 !important; height: 0 !important; z-index: 2147483647 !important; display: block !important;');
    this.root = this.host.attachShadow({ mode: 'closed' });
    const style = document.createElement('style');
    style.textContent = css;
    this.root.append(style);
    document.documentElement.append(this.host);

    window.addEventListener('scroll', this.schedule, { capture: true, passive: true });
    window.addEventListener('resize', this.schedule, { passive: true });
    this.resizeObserver = new ResizeObserver(this.schedule);
    this.resizeObserver.observe(target);
    // Pages also move images without scrolling (carousels, layout shifts): a slow poll catches those.
    this.poll = window.setInterval(this.schedule, 250);
    this.draw();
  }

  show(state: OverlayState): void {
    this.state = state;
    this.draw();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    window.removeEventListener('scroll', this.schedule, { capture: true });
    window.removeEventListener('resize', this.schedule);
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
    render(<OverlayView state={this.state} frame={frame} panel={panelPosition(rect)} onClose={() => this.close()} />, this.root);
  }
}

/** Top-left inside the image, kept on screen; null when the image has scrolled out of view. */
function panelPosition(rect: DOMRect): { left: number; top: number } | null {
  const visible = rect.bottom > 0 && rect.right > 0 && rect.top < innerHeight && rect.left < innerWidth;
  if (!visible) return null;
  const left = Math.min(Math.max(rect.left + MARGIN, MARGIN), Math.max(MARGIN, innerWidth - PANEL_WIDTH - MARGIN));
  const top = Math.min(Math.max(rect.top + MARGIN, MARGIN), Math.max(MARGIN, innerHeight - 120));
  return { left, top };
}
