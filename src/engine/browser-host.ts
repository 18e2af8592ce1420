/**
 * The engine as an extension page hosts it: Chrome's offscreen document and Firefox's event
 * page both create exactly this. It knows where the bundled assets are, but nothing about
 * which browser it is in.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { ClassifyResult, EngineStatusMessage, ImageSource } from '../shared/protocol';
import { storedBackendChoice } from '../storage/backend-choice';
import { SpotterEngine } from './engine';
import { decodeImage } from './image-decode';
import { fetchImageBlob } from './image-fetch';

export const MODEL_PATH = 'models/mobilenet_v2/model.json';
export const WASM_DIR = 'wasm/';

export class BrowserEngineHost {
  readonly engine: SpotterEngine;

  /** @param assetUrl maps a bundled file's path to its URL (runtime.getURL). */
  constructor(assetUrl: (path: string) => string) {
    // Serve the .wasm binaries from the extension: nothing is fetched from a CDN.
    setWasmPaths(assetUrl(WASM_DIR));
    this.engine = new SpotterEngine({ model: assetUrl(MODEL_PATH), memory: storedBackendChoice });
  }

  async classify(source: ImageSource): Promise<ClassifyResult> {
    const start = performance.now();
    // Start loading the model while the image downloads; classify() awaits it anyway.
    const modelReady = this.engine.ready();
    modelReady.catch(() => undefined); // reported below when awaited; avoid an unhandled rejection if the fetch fails first
    const bitmap = await decodeImage(await fetchImageBlob(source.url));
    try {
      await modelReady;
      const { imagenet, inferMs } = await this.engine.classify(bitmap);
      const backend = this.engine.status.backend;
      if (!backend) throw new Error('no backend after load');
      return { imagenet, inferMs, backend, totalMs: performance.now() - start };
    } finally {
      bitmap.close();
    }
  }

  async status(warmUp: boolean): Promise<EngineStatusMessage> {
    if (warmUp) await this.engine.ready().catch(() => undefined);
    return this.engine.status;
  }
}
