/**
 * The engine as an extension page hosts it: Chrome's offscreen document and Firefox's event
 * page both create exactly this, and hand it every validated request. It owns the model, the
 * user's head and training; it knows where the bundled assets are, but not which browser it is in.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { SpotterError } from '../shared/errors';
import type { BackgroundRequest, ClassifyResult, Dataset, ImageSource, RequestOf, RequestType, ResultOf, ScreenSource, TrainingState, UserPrediction } from '../shared/protocol';
import { storedBackendChoice } from '../storage/backend-choice';
import type { ExampleMeta, ExampleRecord } from '../storage/database';
import { addExample, allExamples, deleteExample, deleteLabel, exampleList, renameLabel, replaceEverything } from '../storage/dataset';
import { parseDataset } from '../storage/dataset-file';
import { toBase64 } from '../shared/base64';
import { deleteHead, loadHead, saveHead } from '../storage/head-store';
import { takeStagedImport } from '../storage/import-staging';
import { distortionSeedOf } from './distort';
import { SpotterEngine } from './engine';
import { DEFAULT_TRAIN_OPTIONS, trainabilityProblem, trainHead, UserHead, type HeadPrediction, type TrainingExample, type TrainOptions } from './head';
import { isCutShort } from './image-completeness';
import { decodeImage } from './image-decode';
import { fetchImageBlob } from './image-fetch';
import { thumbnailOf } from './thumbnail';

export const MODEL_PATH = 'models/mobilenet_v2/model.json';
export const WASM_DIR = 'wasm/';

/** Browsers show the part of a cut-off file that arrived, and Spotter reads it the same way. */
const CUT_SHORT_NOTICE = 'Only part of this image file arrived: these labels are for the part shown.';

/** What one look at an image gives: ImageNet's labels, the embedding, a thumbnail, and a notice if the file was incomplete. */
type SeenImage = Pick<ClassifyResult, 'imagenet' | 'inferMs' | 'thumbnail' | 'notice'> & { embedding: Float32Array };

const IDLE_TRAINING: TrainingState = { phase: 'idle', epochs: [], maxEpochs: 0, report: null, error: null, startedAt: null };

export class BrowserEngineHost {
  readonly engine: SpotterEngine;
  private head: UserHead | null = null;
  private headLoading: Promise<void> | null = null;
  private training: TrainingState = IDLE_TRAINING;
  /** Counts training runs and imports, so a run that was overtaken cannot write its result. */
  private trainingRun = 0;
  private importing = false;

  /** @param assetUrl maps a bundled file's path to its URL (runtime.getURL). */
  constructor(assetUrl: (path: string) => string) {
    // Serve the .wasm binaries from the extension: nothing is fetched from a CDN.
    setWasmPaths(assetUrl(WASM_DIR));
    this.engine = new SpotterEngine({ model: assetUrl(MODEL_PATH), memory: storedBackendChoice });
  }

  handle<T extends RequestType>(request: RequestOf<T>): Promise<ResultOf<T>>;
  async handle(request: BackgroundRequest): Promise<unknown> {
    switch (request.type) {
      case 'classify-image':
        return this.classify(readable(request.source));
      case 'get-status':
        if (request.warmUp) await this.engine.ready().catch(() => undefined);
        return this.engine.status;
      case 'add-example':
        return summary(await this.addExample(readable(request.source), request.label, request.pageUrl));
      case 'list-dataset':
        return this.dataset();
      case 'delete-example':
        await deleteExample(request.id);
        return { deleted: 1 };
      case 'rename-label':
        return { moved: await renameLabel(request.from, request.to) };
      case 'delete-label':
        return { deleted: await deleteLabel(request.label) };
      case 'train':
        return this.startTraining(request.options);
      case 'training-status':
        return this.training;
      case 'export-head':
        return this.exportHead();
      case 'forget-model':
        return this.forgetModel();
      case 'import-dataset':
        return this.importDataset();
      case 'read-from-screen':
        // The background captures the screen and hands the engine a picture; it never forwards this.
        throw new SpotterError('bad-message', 'Only the background reads the screen.');
    }
  }

  async classify(source: ImageSource): Promise<ClassifyResult> {
    const start = performance.now();
    const seen = await this.see(source);
    await this.loadHeadOnce();
    const backend = this.engine.status.backend;
    if (!backend) throw new Error('no backend after load');
    // One head for the whole answer, even if a retrain swaps it meanwhile.
    const head = this.head;
    return {
      user: head ? userPrediction(await head.classify(seen.embedding)) : null,
      imagenet: seen.imagenet,
      thumbnail: seen.thumbnail,
      inferMs: seen.inferMs,
      backend,
      totalMs: performance.now() - start,
      ...(seen.notice && { notice: seen.notice }),
    };
  }

  private see(source: ImageSource): Promise<SeenImage> {
    return this.withBitmap(source, async (bitmap, notice) => ({ ...(await this.seeBitmap(bitmap)), ...(notice && { notice }) }));
  }

  private async seeBitmap(bitmap: ImageBitmap): Promise<SeenImage> {
    const thumbnail = thumbnailOf(bitmap);
    const { imagenet, embedding, inferMs } = await this.engine.classify(bitmap);
    return { imagenet, embedding, inferMs, thumbnail };
  }

  /** Downloads and decodes an image (while the model loads) and hands it to `use`, with a notice for the user if the file is incomplete. */
  private async withBitmap<T>(source: ImageSource, use: (bitmap: ImageBitmap, notice: string | undefined) => Promise<T>): Promise<T> {
    // Start loading the model while the image downloads; the engine awaits it anyway.
    const modelReady = this.engine.ready();
    modelReady.catch(() => undefined); // reported below when awaited; avoid an unhandled rejection if the fetch fails first
    const blob = await fetchImageBlob(source);
    // Checked while the image decodes; a file it cannot read is simply not called incomplete.
    const cutShort = isCutShort(blob).catch(() => false);
    const bitmap = await decodeImage(blob, source.url);
    try {
      const notice = (await cutShort) ? CUT_SHORT_NOTICE : undefined;
      await modelReady;
      return await use(bitmap, notice);
    } finally {
      bitmap.close();
    }
  }

  private async addExample(source: ImageSource, label: string, pageUrl: string): Promise<ExampleRecord> {
    // The pixels are needed for the distorted copies, so the image is fetched again (the browser's
    // cache usually serves it) rather than reusing the embedding of an earlier classification.
    const { seen, distortions } = await this.withBitmap(source, async (bitmap) => {
      const seen = await this.seeBitmap(bitmap);
      return { seen, distortions: await this.engine.distortedEmbeddings(bitmap, distortionSeedOf(seen.embedding)) };
    });
    return addExample({ label, embedding: seen.embedding, distortions, thumbnail: seen.thumbnail, imageUrl: storedUrl(source.url), pageUrl: storedUrl(pageUrl), createdAt: Date.now() });
  }

  private async dataset(): Promise<Dataset> {
    const examples = await exampleList();
    const byLabel = new Map<string, ExampleMeta[]>();
    for (const example of examples) byLabel.set(example.label, [...(byLabel.get(example.label) ?? []), example]);
    const head = await loadHead();
    return {
      labels: [...byLabel]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([label, list]) => ({ label, count: list.length, examples: list.map(summary) })),
      head: head ? { labels: head.head.labels, trainedAt: head.trainedAt, report: head.report } : null,
    };
  }

  /**
   * Settles once the engine has chosen its backend (loading the model). Tensors made before that
   * live on TF.js's default backend, which the choice may remove, and them with it. Training and
   * import need no model, so a model that cannot load does not stop them.
   */
  private backendChosen(): Promise<unknown> {
    return this.engine.ready().catch(() => undefined);
  }

  private async startTraining(overrides: Partial<TrainOptions>): Promise<TrainingState> {
    if (this.training.phase === 'running') return this.training;
    if (this.importing) throw new SpotterError('bad-message', 'Spotter is importing a file right now. Retrain when it has finished.');
    const options = { ...DEFAULT_TRAIN_OPTIONS, ...overrides };
    const before = this.training;
    // Marked running before the first await, so a second Retrain (a double click, another popup) joins this run.
    const run = ++this.trainingRun;
    // Taken before the examples are read: an example added later is newer than the model (the Train view says so).
    const readAt = Date.now();
    this.training = { phase: 'running', epochs: [], maxEpochs: options.epochs, report: null, error: null, startedAt: readAt };
    let examples: TrainingExample[];
    try {
      await this.backendChosen();
      examples = (await allExamples()).map(({ embedding, distortions, label }) => ({ embedding, distortions, label }));
      const problem = trainabilityProblem(examples);
      if (problem) throw new SpotterError('bad-message', problem);
    } catch (error) {
      if (this.trainingRun === run) this.training = before;
      throw error;
    }
    const current = () => this.trainingRun === run;
    // Runs on in this document whether or not the popup stays open; the popup polls for progress.
    void trainHead(examples, options, (log) => {
      if (current()) this.training = { ...this.training, epochs: [...this.training.epochs, log] };
    })
      .then(async ({ head, report }) => {
        // An import replaced everything while this ran: its result is for data that is gone.
        if (!current()) return head.dispose();
        try {
          await saveHead({ head: await head.serialize(), report, trainedAt: readAt });
        } catch (error) {
          head.dispose();
          throw error;
        }
        this.replaceHead(head);
        if (current()) this.training = { ...this.training, phase: 'done', report };
      })
      .catch((error: unknown) => {
        if (current()) this.training = { ...this.training, phase: 'failed', error: error instanceof Error ? error.message : String(error) };
      });
    return this.training;
  }

  /** Swaps the head in memory (storage is written by the caller), disposing the one it replaces. */
  private replaceHead(head: UserHead | null): void {
    if (this.head !== head) this.head?.dispose();
    this.head = head;
    // A head set here wins over one still being read from storage.
    this.headLoading = Promise.resolve();
  }

  private async exportHead(): Promise<ResultOf<'export-head'>> {
    await this.loadHeadOnce();
    if (!this.head) throw new SpotterError('bad-message', 'There is no trained model yet: label some images and press Retrain first.');
    const files = await this.head.exportFiles();
    return { modelJson: files.modelJson, weightsBase64: toBase64(files.weights), labelsJson: files.labelsJson };
  }

  /** Replacing the model under a running training would leave its result nowhere to go. */
  private refuseWhileTraining(advice: string): void {
    if (this.training.phase === 'running') throw new SpotterError('bad-message', `Spotter is training a model right now. ${advice}`);
  }

  private async forgetModel(): Promise<ResultOf<'forget-model'>> {
    this.refuseWhileTraining('Try again when it has finished.');
    const forgotten = await deleteHead();
    this.replaceHead(null);
    this.training = IDLE_TRAINING;
    return { forgotten };
  }

  private async importDataset(): Promise<ResultOf<'import-dataset'>> {
    // Taken (and so removed) first, so that a refused import leaves no file behind.
    const file = await takeStagedImport();
    this.refuseWhileTraining('Import when it has finished; nothing was changed.');
    if (!file) throw new SpotterError('bad-message', 'There is no file to import: choose it again.');
    // A Retrain started while this runs would save a head for the data being replaced, over the imported one.
    this.importing = true;
    try {
      return await this.replaceWithFile(file);
    } finally {
      this.importing = false;
    }
  }

  private async replaceWithFile(file: Blob): Promise<ResultOf<'import-dataset'>> {
    const parsed = parseDataset(await file.text());
    await this.backendChosen();
    // Build the head before writing anything: a head that cannot load must not replace a good one.
    const head = parsed.head ? await UserHead.deserialize(parsed.head.head).catch((error: unknown) => {
      throw new SpotterError('bad-message', `The model in this file cannot be loaded (${error instanceof Error ? error.message : String(error)}). Nothing was changed.`);
    }) : null;
    try {
      await replaceEverything(parsed.examples, parsed.head);
    } catch (error) {
      head?.dispose();
      throw error;
    }
    this.replaceHead(head);
    this.trainingRun++;
    this.training = IDLE_TRAINING;
    return { examples: parsed.examples.length, labels: new Set(parsed.examples.map((e) => e.label)).size, head: head !== null };
  }

  /** The head persists in IndexedDB; load it at the first classification after start-up. */
  private loadHeadOnce(): Promise<void> {
    if (this.headLoading) return this.headLoading;
    const loading: Promise<void> = loadHead()
      .then(async (record) => {
        if (record) await this.backendChosen();
        const head = record ? await UserHead.deserialize(record.head) : null;
        // A training or an import may have set a newer head while this one was read.
        if (this.headLoading === loading && !this.head) this.head = head;
        else head?.dispose();
      })
      .catch((error: unknown) => {
        console.warn('Spotter: the saved head could not be loaded; retrain to replace it.', error);
      });
    this.headLoading = loading;
    return loading;
  }
}

/**
 * Where an example came from, as kept (and exported): the address without its query and fragment,
 * which often carry session tokens or signatures; data: URLs (megabytes) just as "data: URL", since
 * the thumbnail shows the picture. Anything that is not a URL ("file: tulips/a.jpg" from Add images)
 * stays as it is.
 */
export function storedUrl(address: string): string {
  if (/^data:/i.test(address)) return 'data: URL';
  if (!/^(https?|file):\/\//i.test(address)) return address;
  try {
    const url = new URL(address);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return address;
  }
}

/** The user's top 3, and whether the image is none of their labels (the best guess still comes first). */
export function userPrediction(prediction: HeadPrediction): UserPrediction {
  return { labels: prediction.scores.slice(0, 3).map(({ label, probability }) => ({ label, probability })), unknown: prediction.unknown };
}

function summary(example: ExampleMeta): ResultOf<'add-example'> {
  return { id: example.id!, label: example.label, thumbnail: example.thumbnail, imageUrl: example.imageUrl, pageUrl: example.pageUrl, createdAt: example.createdAt };
}

/** The background turns screen areas into pictures before they come here (background/screen-capture.ts). */
function readable(source: ImageSource | ScreenSource): ImageSource {
  if ('url' in source) return source;
  throw new SpotterError('bad-message', 'The engine cannot read the screen: screen areas go through the background.');
}
