/**
 * The document's side of the engine's worker (engine-worker.ts): Chrome's offscreen document and
 * Firefox's event page each keep one. It relays requests, draws through an <img> what the worker
 * asks, and watches the worker: while answers are owed it pings every second, and a worker that
 * leaves a ping unanswered for ENGINE_SILENT_LIMIT_MS is ended (Worker.terminate() stops even a loop
 * that never yields, and frees its memory) and a new one started; every request it owed gets a
 * message that says so, and the next request is answered by the new worker.
 */
import * as v from 'valibot';
import { SpotterError, toErrorInfo } from '../shared/errors';
import {
  ENGINE_SILENT_LIMIT_MS,
  ENGINE_STALLED_MESSAGE,
  FromEngineWorkerSchema,
  RESULT_SCHEMAS,
  responseSchema,
  type FromEngineWorker,
  type RequestOf,
  type RequestType,
  type ResultOf,
  type ToEngineWorker,
} from '../shared/protocol';
import type { Response } from '../shared/respond';
import { drawWithImageElement, type ImageElementSizing } from './image-decode';

/** The part of a Worker used here (unit tests pass a stand-in). */
export interface WorkerLike {
  postMessage(message: ToEngineWorker, transfer?: Transferable[]): void;
  terminate(): void;
  onmessage: ((event: MessageEvent<unknown>) => void) | null;
}

export interface WorkerEngineOptions {
  /** Starts a worker running engine-worker.ts. */
  start: () => WorkerLike;
  /** Draws what the worker cannot (it has no DOM); by default through an <img> in this document. */
  draw?: (blob: Blob, sizing: ImageElementSizing) => Promise<ImageBitmap>;
  pingEveryMs?: number;
  silentLimitMs?: number;
  now?: () => number;
}

interface Owed {
  type: RequestType;
  resolve(response: Response<unknown>): void;
}

export class WorkerEngine {
  private worker: WorkerLike | null = null;
  private readonly owed = new Map<number, Owed>();
  private nextId = 0;
  /**
   * When the oldest ping still unanswered was sent; null when the worker has been heard since.
   * Silence counts from a ping, not from the last message: if this document's own thread was busy
   * (drawing an SVG), no ping went, and the worker is not blamed for the wait.
   */
  private pingedAt: number | null = null;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private readonly now: () => number;
  private readonly silentLimitMs: number;

  constructor(private readonly options: WorkerEngineOptions) {
    this.now = options.now ?? Date.now;
    this.silentLimitMs = options.silentLimitMs ?? ENGINE_SILENT_LIMIT_MS;
  }

  request<T extends RequestType>(request: RequestOf<T>): Promise<Response<ResultOf<T>>> {
    const worker = this.running();
    const id = this.nextId++;
    const answer = new Promise<Response<unknown>>((resolve) => this.owed.set(id, { type: request.type, resolve }));
    worker.postMessage({ type: 'request', id, request });
    this.beat();
    return answer as Promise<Response<ResultOf<T>>>;
  }

  /**
   * Restarts a worker that has been silent too long while it owes answers. Runs every second while
   * answers are owed; Chrome's background also calls it with each ping (a hidden document's timers
   * may be slowed down).
   */
  check(): void {
    if (!this.worker || this.owed.size === 0) return;
    if (this.pingedAt === null) {
      this.pingedAt = this.now();
      this.worker.postMessage({ type: 'ping' });
    } else if (this.now() - this.pingedAt > this.silentLimitMs) this.restart();
  }

  private running(): WorkerLike {
    if (this.worker) return this.worker;
    const worker = this.options.start();
    worker.onmessage = (event) => this.heard(worker, event.data);
    this.worker = worker;
    return worker;
  }

  private beat(): void {
    if (this.heartbeat !== undefined) return;
    this.heartbeat = setInterval(() => {
      if (this.owed.size === 0) {
        clearInterval(this.heartbeat);
        this.heartbeat = undefined;
        return;
      }
      this.check();
    }, this.options.pingEveryMs ?? 1_000);
  }

  private heard(worker: WorkerLike, data: unknown): void {
    // A worker already given up on may still have had a message in flight.
    if (worker !== this.worker) return;
    this.pingedAt = null;
    const parsed = v.safeParse(FromEngineWorkerSchema, data);
    if (!parsed.success) return;
    const message: FromEngineWorker = parsed.output;
    if (message.type === 'reply') {
      const owed = this.owed.get(message.id);
      if (!owed) return;
      this.owed.delete(message.id);
      const response = v.safeParse(responseSchema(RESULT_SCHEMAS[owed.type] as v.GenericSchema), message.response);
      owed.resolve(response.success ? (response.output as Response<unknown>) : { ok: false, error: new SpotterError('engine', 'The Spotter engine gave no valid answer. Try again.').toInfo() });
    } else if (message.type === 'draw') {
      const draw = this.options.draw ?? drawWithImageElement;
      draw(message.blob, message.sizing).then(
        (bitmap) => worker.postMessage({ type: 'drawn', id: message.id, bitmap }, [bitmap]),
        (error: unknown) => worker.postMessage({ type: 'not-drawn', id: message.id, error: toErrorInfo(error), userFacing: error instanceof SpotterError }),
      );
    }
  }

  /** Ends the silent worker, answers what it owed, and starts a new one with the model loading. */
  private restart(): void {
    this.worker?.terminate();
    this.worker = null;
    this.pingedAt = null;
    const owed = [...this.owed.values()];
    this.owed.clear();
    for (const { resolve } of owed) resolve({ ok: false, error: new SpotterError('engine', ENGINE_STALLED_MESSAGE).toInfo() });
    console.warn(`Spotter: the engine's worker sent no sign of life for ${this.silentLimitMs} ms; it was restarted (${owed.length} requests answered with an error).`);
    // The next click should not wait for the model as well.
    void this.request({ type: 'get-status', warmUp: true });
  }
}
