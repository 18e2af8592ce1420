/**
 * The engine's worker: the model, the user's head, downloads, decoding and training run here, on
 * a thread of their own. A job stuck for good (a bug, a decoder that never returns) then stops only
 * this thread, which the document that started it can end and start again (worker-engine.ts);
 * with the engine on the document's own thread, the document could not (and in Firefox, where that
 * document is the event page, the menus stopped with it). What needs a DOM, drawing through an
 * <img>, is asked of the document.
 */
import * as v from 'valibot';
import { SpotterError, type ErrorInfo } from '../shared/errors';
import { ToEngineWorkerSchema, type BackgroundRequest, type FromEngineWorker } from '../shared/protocol';
import { respond } from '../shared/respond';
import { BrowserEngineHost } from './browser-host';
import { drawImageElementsWith, type ImageElementSizing } from './image-decode';

/** What the worker's global scope offers here (the DOM typings describe a window). */
interface WorkerScope {
  location: { href: string };
  postMessage(message: FromEngineWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<unknown>) => void): void;
}
const scope = globalThis as unknown as WorkerScope;
const post = (message: FromEngineWorker) => scope.postMessage(message);

// The extension's files are beside this script: the root is the worker's own origin.
const root = new URL('/', scope.location.href).href;
const host = new BrowserEngineHost((path) => new URL(path, root).href);

/** Drawings asked of the document, by id. */
const drawings = new Map<number, { resolve(bitmap: ImageBitmap): void; reject(error: unknown): void }>();
let nextDrawing = 0;
drawImageElementsWith(
  (blob: Blob, sizing: ImageElementSizing) =>
    new Promise<ImageBitmap>((resolve, reject) => {
      const id = nextDrawing++;
      drawings.set(id, { resolve, reject });
      post({ type: 'draw', id, blob, sizing });
    }),
);

/** Armed by 'stall-engine-for-test': the memory the next image job takes before it never returns. */
let stallNextImage: number | null = null;

scope.addEventListener('message', (event) => {
  const parsed = v.safeParse(ToEngineWorkerSchema, event.data);
  // Only the document that started this worker can post to it; what it sends was checked there.
  if (!parsed.success) return;
  const message = parsed.output;
  switch (message.type) {
    case 'ping':
      post({ type: 'pong' });
      return;
    case 'drawn':
    case 'not-drawn': {
      const waiting = drawings.get(message.id);
      drawings.delete(message.id);
      if (message.type === 'drawn') waiting?.resolve(message.bitmap);
      else waiting?.reject(drawingError(message.error, message.userFacing));
      return;
    }
    case 'request':
      void answer(message.id, message.request);
  }
});

async function answer(id: number, request: BackgroundRequest): Promise<void> {
  if (request.type === 'stall-engine-for-test') {
    stallNextImage = request.allocateMB;
    post({ type: 'reply', id, response: { ok: true, result: { armed: true } } });
    return;
  }
  if ((request.type === 'classify-image' || request.type === 'add-example') && stallNextImage !== null) {
    stall(stallNextImage);
  }
  post({ type: 'reply', id, response: await respond(() => host.handle(request)) });
}

/** A job that never returns, holding memory as a runaway one would (touched, so that it is really taken). */
function stall(megabytes: number): never {
  const held: Uint8Array[] = [];
  // In 4 MB blocks: large enough that freeing them returns the memory to the system at once.
  for (let i = 0; i < megabytes; i += 4) held.push(new Uint8Array(4 * 1024 * 1024).fill(1));
  Object.assign(globalThis, { spotterStalledMemory: held });
  for (;;) {
    // Never yields: no message, ping included, is answered again.
  }
}

/** The document's reason, as the decoder would have thrown it: its own messages for the user as they are. */
function drawingError(error: ErrorInfo, userFacing: boolean): Error {
  return userFacing ? new SpotterError(error.code, error.message) : new Error(error.message);
}

// Reachable from DevTools and `npm run bench` (only extension pages can see this worker).
Object.assign(globalThis, { spotterHost: host });
