/**
 * The engine's watchdog (engine/worker-engine.ts) on a stand-in worker and fake timers: a worker
 * that stops answering is ended and replaced, what it owed is answered with the message, the next
 * request goes to the new worker; a worker that is slow but alive is left alone.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WorkerEngine, type WorkerLike } from '../../src/engine/worker-engine';
import { SpotterError } from '../../src/shared/errors';
import { ENGINE_SILENT_LIMIT_MS, ENGINE_STALLED_MESSAGE, type FromEngineWorker, type ToEngineWorker } from '../../src/shared/protocol';

const STATUS = { state: 'ready', model: 'mobilenet-edgetpu', backend: 'wasm', probe: null, loadMs: 1, error: null } as const;

/** What a promise has settled to so far (undefined while pending): a test fails at once, not at its timeout. */
function settled<T>(promise: Promise<T>): () => T | undefined {
  let value: T | undefined;
  void promise.then((v) => (value = v));
  return () => value;
}

/** A worker that answers pings and requests as told; `stuck` stops it answering anything. */
class FakeWorker implements WorkerLike {
  onmessage: ((event: MessageEvent<unknown>) => void) | null = null;
  readonly received: ToEngineWorker[] = [];
  stuck = false;
  /** Requests answered only when the test says (a slow download). */
  holdRequests = false;
  terminated = false;

  postMessage(message: ToEngineWorker): void {
    this.received.push(message);
    if (this.stuck || this.terminated) return;
    if (message.type === 'ping') this.send({ type: 'pong' });
    if (message.type === 'request' && !this.holdRequests) this.answer(message.id);
  }

  answer(id: number): void {
    this.send({ type: 'reply', id, response: { ok: true, result: STATUS } });
  }

  terminate(): void {
    this.terminated = true;
  }

  send(message: FromEngineWorker): void {
    // Worker messages arrive as tasks of their own.
    queueMicrotask(() => this.onmessage?.({ data: message } as MessageEvent<unknown>));
  }
}

describe('WorkerEngine', () => {
  let workers: FakeWorker[];
  let engine: WorkerEngine;

  beforeEach(() => {
    vi.useFakeTimers();
    workers = [];
    engine = new WorkerEngine({
      start: () => {
        const worker = new FakeWorker();
        workers.push(worker);
        return worker;
      },
    });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('relays requests and their validated answers', async () => {
    await expect(engine.request({ type: 'get-status', warmUp: false })).resolves.toEqual({ ok: true, result: STATUS });
    expect(workers).toHaveLength(1);
  });

  it('ends a worker that leaves a ping unanswered past the limit, tells what it owed, and answers the next request with a new one', async () => {
    await engine.request({ type: 'get-status', warmUp: false });
    workers[0]!.stuck = true;
    const first = settled(engine.request({ type: 'get-status', warmUp: false }));
    // Not before the limit has passed.
    await vi.advanceTimersByTimeAsync(ENGINE_SILENT_LIMIT_MS);
    expect(workers[0]!.terminated).toBe(false);
    expect(first()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(first()).toEqual({ ok: false, error: { code: 'engine', message: ENGINE_STALLED_MESSAGE } });
    expect(ENGINE_STALLED_MESSAGE).toBe("Spotter's engine stopped responding for 15 s, so Spotter restarted it. Try again.");
    expect(workers[0]!.terminated).toBe(true);
    // A new worker, already loading the model for the next click.
    expect(workers).toHaveLength(2);
    expect(workers[1]!.received[0]).toMatchObject({ type: 'request', request: { type: 'get-status', warmUp: true } });
    await expect(engine.request({ type: 'get-status', warmUp: false })).resolves.toEqual({ ok: true, result: STATUS });
    expect(workers).toHaveLength(2);
  });

  it('leaves alone a worker that is slow to answer but answers its pings', async () => {
    const worker = () => workers[0]!;
    const slow = engine.request({ type: 'get-status', warmUp: false });
    worker().holdRequests = true;
    const held = engine.request({ type: 'get-status', warmUp: false });
    await vi.advanceTimersByTimeAsync(ENGINE_SILENT_LIMIT_MS * 4);
    expect(worker().terminated).toBe(false);
    expect(worker().received.filter((m) => m.type === 'ping').length).toBeGreaterThan(30);
    const pending = worker().received.filter((m): m is Extract<ToEngineWorker, { type: 'request' }> => m.type === 'request').at(-1)!;
    worker().answer(pending.id);
    await expect(held).resolves.toMatchObject({ ok: true });
    await expect(slow).resolves.toMatchObject({ ok: true });
  });

  it('does not ping an idle worker, and counts silence from the first unanswered ping', async () => {
    await engine.request({ type: 'get-status', warmUp: false });
    await vi.advanceTimersByTimeAsync(ENGINE_SILENT_LIMIT_MS * 3);
    expect(workers[0]!.received.filter((m) => m.type === 'ping')).toHaveLength(0);
    // Long idle, then a request that sticks: it is given the whole limit, not blamed for the idle time.
    workers[0]!.stuck = true;
    const stuck = settled(engine.request({ type: 'get-status', warmUp: false }));
    await vi.advanceTimersByTimeAsync(ENGINE_SILENT_LIMIT_MS - 1_000);
    expect(workers[0]!.terminated).toBe(false);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(stuck()).toMatchObject({ ok: false, error: { message: ENGINE_STALLED_MESSAGE } });
  });

  it('says so when the worker answers something that is not a valid answer', async () => {
    const request = engine.request({ type: 'list-dataset' });
    // list-dataset wants a dataset, not an engine status.
    await expect(request).resolves.toEqual({ ok: false, error: { code: 'engine', message: 'The Spotter engine gave no valid answer. Try again.' } });
  });

  it('draws what the worker asks for, and hands back the reason when it cannot', async () => {
    const drawn = { width: 4 } as unknown as ImageBitmap;
    const draw = vi.fn(async (blob: Blob) => {
      await Promise.resolve();
      if (blob.size > 3) throw new SpotterError('too-large', 'This SVG is too big.');
      return drawn;
    });
    const worker = new FakeWorker();
    const withDrawing = new WorkerEngine({ start: () => worker, draw });
    void withDrawing.request({ type: 'get-status', warmUp: false });
    worker.send({ type: 'draw', id: 7, blob: new Blob(['<s>']), sizing: { kind: 'svg', aspect: null } });
    worker.send({ type: 'draw', id: 8, blob: new Blob(['<svg>']), sizing: { kind: 'svg', aspect: 2 } });
    await vi.advanceTimersByTimeAsync(10);
    expect(worker.received).toContainEqual({ type: 'drawn', id: 7, bitmap: drawn });
    expect(worker.received).toContainEqual({ type: 'not-drawn', id: 8, error: { code: 'too-large', message: 'This SVG is too big.' }, userFacing: true });
  });
});
