/**
 * The engine as the extension hosts it: the engine's worker (engine-worker.ts), which Chrome's
 * offscreen document and Firefox's event page both start, creates exactly this and hands it every
 * validated request. It owns the model, the
 * user's head and training; it knows where the bundled assets are, but not which browser it is in.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { SpotterError } from '../shared/errors';
import { ExampleSummarySchema, HeadSummarySchema, parseMessage, type BackgroundRequest, type ClassifyResult, type Dataset, type ImageSource, type RequestOf, type RequestType, type ResultOf, type ScreenSource, type TrainingState, type UserPrediction } from '../shared/protocol';
import { MODELS, modelJsonPath, type ModelId } from '../shared/models';
import { storedBackendChoice } from '../storage/backend-choice';
import { MODEL_OF_OLD_RECORDS, type ExampleMeta, type ExampleRecord } from '../storage/database';
import { addExample, allExamples, deleteEverything, deleteExample, deleteLabel, embeddingOrigins, exampleList, examplePicture, renameLabel, replaceEverything, replaceFeatures } from '../storage/dataset';
import { parseDataset } from '../storage/dataset-file';
import { toBase64 } from '../shared/base64';
import { deleteHead, loadHead, saveHead } from '../storage/head-store';
import { chosenModel, saveModelChoice } from '../storage/model-choice';
import { takeStagedImport } from '../storage/import-staging';
import { distortionSeedOf } from './distort';
import { SpotterEngine, type EngineStatus } from './engine';
import { weightValuesProblem } from './head-weights';
import { DEFAULT_TRAIN_OPTIONS, trainabilityProblem, trainHead, UserHead, type HeadPrediction, type TrainingExample, type TrainOptions } from './head';
import { isCutShort } from './image-completeness';
import { decodeImage } from './image-decode';
import { fetchImageBlob } from './image-fetch';
import { pictureOf, thumbnailOf } from './thumbnail';

export const WASM_DIR = 'wasm/';

/** Said with a classification when the stored model cannot be used: the rest of the answer stands. */
const DAMAGED_HEAD_NOTICE = `Your trained model is damaged, so only ImageNet's labels are shown. Retrain it, or forget it under "Your labels" in Spotter's popup.`;

/** Browsers show the part of a cut-off file that arrived, and Spotter reads it the same way. */
const CUT_SHORT_NOTICE = 'Only part of this image file arrived: these labels are for the part shown.';

/** What one look at an image gives: ImageNet's labels, the embedding, a thumbnail, and a notice if the file was incomplete. */
type SeenImage = Pick<ClassifyResult, 'imagenet' | 'inferMs' | 'thumbnail' | 'notice'> & { embedding: Float32Array };

const IDLE_TRAINING: TrainingState = { phase: 'idle', epochs: [], maxEpochs: 0, report: null, error: null, startedAt: null, rereading: null };

export class BrowserEngineHost {
  /** The engine of the chosen backbone, once the choice has been read (see engine()). */
  private current: SpotterEngine | null = null;
  private choosing: Promise<SpotterEngine> | null = null;
  private head: UserHead | null = null;
  private headLoading: Promise<void> | null = null;
  /** Why the stored head could not be loaded (it is then skipped), until a new head or Forget replaces it. */
  private headProblem: string | null = null;
  private training: TrainingState = IDLE_TRAINING;
  /** Counts training runs and imports, so a run that was overtaken cannot write its result. */
  private trainingRun = 0;
  private importing = false;
  /** Progress of embedding the examples again for the backbone in use (after a model change or an import). */
  private rereading: TrainingState['rereading'] = null;
  private rereadRun: { counted: Promise<void>; done: Promise<void> } | null = null;

  /** @param assetUrl maps a bundled file's path to its URL (runtime.getURL). */
  constructor(private readonly assetUrl: (path: string) => string) {
    // Serve the .wasm binaries from the extension: nothing is fetched from a CDN.
    setWasmPaths(assetUrl(WASM_DIR));
  }

  /** The engine of the backbone the user chose (read from storage once; set-model replaces it). */
  engine(): Promise<SpotterEngine> {
    if (this.current) return Promise.resolve(this.current);
    this.choosing ??= chosenModel()
      .catch(() => MODEL_OF_OLD_RECORDS)
      .then((model) => (this.current ??= this.engineFor(model)));
    return this.choosing;
  }

  private engineFor(model: ModelId): SpotterEngine {
    const descriptor = MODELS[model];
    return new SpotterEngine({ descriptor, model: this.assetUrl(modelJsonPath(descriptor)), memory: storedBackendChoice });
  }

  private async status(warmUp: boolean): Promise<EngineStatus> {
    const engine = await this.engine();
    if (warmUp) {
      await engine.ready().catch(() => undefined);
      // Picks up a re-reading that a closed browser cut short (and, after a model switch, starts it).
      const reread = this.reread();
      reread.done.catch(() => undefined);
      await reread.counted;
    }
    return engine.status;
  }

  /**
   * Embeds again, with the backbone in use, every example whose picture is kept and whose
   * embeddings another backbone made. Each example is written as it is done, so a browser closed
   * half-way resumes with the rest (status warm-up, Retrain). Retrain waits for it; a model
   * switch meanwhile starts it over for the new backbone.
   */
  private rereadExamples(): Promise<void> {
    return this.reread().done;
  }

  /** The running re-reading, or a new one. `counted` settles once its progress shows (the answer to a model switch waits for that, so that the Train view sees it at once). */
  private reread(): { counted: Promise<void>; done: Promise<void> } {
    if (!this.rereadRun) {
      let counted = () => {};
      const countedOnce = new Promise<void>((resolve) => (counted = resolve));
      const done = this.rereadAll(counted).finally(() => {
        counted();
        this.rereadRun = null;
        this.rereading = null;
      });
      this.rereadRun = { counted: countedOnce, done };
    }
    return this.rereadRun;
  }

  private async rereadAll(counted: () => void): Promise<void> {
    for (;;) {
      const engine = await this.engine();
      const model = engine.descriptor.id;
      const pending = (await embeddingOrigins()).filter((origin) => origin.model !== model && origin.hasPicture);
      if (pending.length === 0) return;
      this.rereading = { model, done: 0, total: pending.length };
      counted();
      for (const { id } of pending) {
        if (this.current !== engine) break;
        await this.rereadOne(engine, id).catch((error: unknown) => {
          // It keeps the embeddings it has (Your labels counts it among those that cannot move).
          console.warn(`Spotter: example ${id} could not be read again for ${engine.descriptor.title}.`, error);
        });
        this.rereading = { model, done: this.rereading.done + 1, total: pending.length };
      }
      if (this.current === engine) return this.retrainForNewModel(model);
    }
  }

  private async rereadOne(engine: SpotterEngine, id: number): Promise<void> {
    const picture = await examplePicture(id);
    if (!picture) return;
    const bitmap = await createImageBitmap(await (await fetch(picture)).blob());
    try {
      const { embedding } = await engine.classify(bitmap);
      const distortions = await engine.distortedEmbeddings(bitmap, distortionSeedOf(embedding));
      await replaceFeatures(id, engine.descriptor.id, { embedding, distortions });
    } finally {
      bitmap.close();
    }
  }

  /** After a re-reading: the user had a model for another backbone, so they get one for this one, with the same options. */
  private async retrainForNewModel(model: ModelId): Promise<void> {
    const stored = await loadHead();
    if (!stored || (stored.model ?? MODEL_OF_OLD_RECORDS) === model || this.training.phase === 'running') return;
    await this.startTraining(stored.report.options).catch(() => undefined);
  }

  handle<T extends RequestType>(request: RequestOf<T>): Promise<ResultOf<T>>;
  async handle(request: BackgroundRequest): Promise<unknown> {
    switch (request.type) {
      case 'classify-image':
        return this.classify(readable(request.source));
      case 'get-status':
        return this.status(request.warmUp);
      case 'set-model':
        return this.setModel(request.model);
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
        return { ...this.training, rereading: this.rereading };
      case 'export-head':
        return this.exportHead();
      case 'forget-model':
        return this.forgetModel();
      case 'delete-all':
        return this.deleteAll();
      case 'import-dataset':
        return this.importDataset();
      case 'read-from-screen':
        // The background captures the screen and hands the engine a picture; it never forwards this.
        throw new SpotterError('bad-message', 'Only the background reads the screen.');
      case 'stall-engine-for-test':
        // The engine's worker takes this one itself (engine-worker.ts).
        throw new SpotterError('bad-message', 'Only the engine worker stalls, for tests.');
    }
  }

  async classify(source: ImageSource): Promise<ClassifyResult> {
    const start = performance.now();
    const seen = await this.see(source);
    await this.loadHeadOnce();
    const backend = (await this.engine()).status.backend;
    if (!backend) throw new Error('no backend after load');
    // One head for the whole answer, even if a retrain swaps it meanwhile.
    const { user, notice } = await userPredictionOf(this.head, this.headProblem, seen.embedding);
    const notices = [seen.notice, notice].filter(Boolean).join(' ');
    return {
      user,
      imagenet: seen.imagenet,
      thumbnail: seen.thumbnail,
      inferMs: seen.inferMs,
      backend,
      totalMs: performance.now() - start,
      ...(notices && { notice: notices }),
    };
  }

  private see(source: ImageSource): Promise<SeenImage> {
    return this.withBitmap(source, async (bitmap, notice) => ({ ...(await this.seeBitmap(bitmap)), ...(notice && { notice }) }));
  }

  private async seeBitmap(bitmap: ImageBitmap): Promise<SeenImage> {
    const thumbnail = await thumbnailOf(bitmap);
    const { imagenet, embedding, inferMs } = await (await this.engine()).classify(bitmap);
    return { imagenet, embedding, inferMs, thumbnail };
  }

  /** Downloads and decodes an image (while the model loads) and hands it to `use`, with a notice for the user if the file is incomplete. */
  private async withBitmap<T>(source: ImageSource, use: (bitmap: ImageBitmap, notice: string | undefined) => Promise<T>): Promise<T> {
    // Start loading the model while the image downloads; the engine awaits it anyway.
    const modelReady = this.engine().then((engine) => engine.ready());
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
    const engine = await this.engine();
    const { seen, distortions, picture } = await this.withBitmap(source, async (bitmap) => {
      const seen = await this.seeBitmap(bitmap);
      return { seen, distortions: await engine.distortedEmbeddings(bitmap, distortionSeedOf(seen.embedding)), picture: await pictureOf(bitmap) };
    });
    return addExample({
      label,
      model: engine.descriptor.id,
      embedding: seen.embedding,
      distortions,
      picture,
      thumbnail: seen.thumbnail,
      imageUrl: storedUrl(source.url),
      pageUrl: storedUrl(pageUrl),
      createdAt: Date.now(),
    });
  }

  /**
   * The dataset as views show it. A stored record that the answer's schema would refuse (a date of
   * Infinity from an older version's import, a damaged disk) is left out and counted rather than
   * failing the whole answer: the view then still offers Export, Forget, Delete and Import.
   */
  private async dataset(): Promise<Dataset> {
    const examples = await exampleList();
    const byLabel = new Map<string, ResultOf<'add-example'>[]>();
    let unreadableExamples = 0;
    for (const example of examples) {
      const listed = parseMessage(ExampleSummarySchema, summary(example));
      if (!listed.ok) {
        unreadableExamples++;
        continue;
      }
      byLabel.set(listed.value.label, [...(byLabel.get(listed.value.label) ?? []), listed.value]);
    }
    const record = await loadHead();
    // Shown as a model only if it can also classify: weights that are not numbers would fail every answer.
    const head = record && !weightValuesProblem(record.head?.weightSpecs, record.head?.weightData) ? parseMessage(HeadSummarySchema, { labels: record.head.labels, trainedAt: record.trainedAt, report: record.report, model: record.model ?? MODEL_OF_OLD_RECORDS }) : null;
    const model = (await this.engine()).descriptor.id;
    // Examples another backbone made: those with a picture wait to be read again, the others cannot move.
    const elsewhere = new Map<ModelId, { model: ModelId; count: number; withPicture: number }>();
    for (const origin of await embeddingOrigins()) {
      if (origin.model === model) continue;
      const entry = elsewhere.get(origin.model) ?? { model: origin.model, count: 0, withPicture: 0 };
      entry.count++;
      if (origin.hasPicture) entry.withPicture++;
      elsewhere.set(origin.model, entry);
    }
    return {
      labels: [...byLabel]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([label, list]) => ({ label, count: list.length, examples: list })),
      head: head?.ok ? head.value : null,
      unreadable: { examples: unreadableExamples, model: Boolean(record) && !head?.ok },
      model,
      otherModels: [...elsewhere.values()],
    };
  }

  /**
   * Settles once the engine has chosen its backend (loading the model). Tensors made before that
   * live on TF.js's default backend, which the choice may remove, and them with it. Training and
   * import need no model, so a model that cannot load does not stop them.
   */
  private backendChosen(): Promise<unknown> {
    return this.engine()
      .then((engine) => engine.ready())
      .catch(() => undefined);
  }

  /**
   * Switches the backbone: saved first, then a new engine replaces the old one (which frees its
   * model once its queued jobs ran). The head and the examples' embeddings belong to the model
   * that made them, so only those of the new model are used from here on.
   */
  private async setModel(model: ModelId): Promise<EngineStatus> {
    this.refuseWhileTraining('Change the model when it has finished.');
    if (this.importing) throw new SpotterError('bad-message', 'Spotter is importing a file right now. Change the model when it has finished.');
    const previous = await this.engine();
    await saveModelChoice(model);
    if (previous.descriptor.id !== model) {
      this.current = this.engineFor(model);
      void previous.dispose();
      // Read again from storage: the stored head is used only if it was trained for this model.
      this.head?.dispose();
      this.head = null;
      this.headProblem = null;
      this.headLoading = null;
      this.training = IDLE_TRAINING;
    }
    // status(true) loads the new model and starts re-reading the examples for it.
    return this.status(true);
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
    this.training = { phase: 'running', epochs: [], maxEpochs: options.epochs, report: null, error: null, startedAt: readAt, rereading: null };
    const reading = this.trainingExamples();
    const current = () => this.trainingRun === run;
    if (this.rereading) {
      // Examples are being read again for a new backbone: answer at once, and the run starts once they are (the Train view shows both).
      void reading
        .then(({ examples, model }) => this.train(examples, model, options, readAt, current))
        .catch((error: unknown) => {
          if (current()) this.training = { ...this.training, phase: 'failed', error: error instanceof Error ? error.message : String(error) };
        });
      return { ...this.training, rereading: this.rereading };
    }
    let read: { examples: TrainingExample[]; model: ModelId };
    try {
      read = await reading;
    } catch (error) {
      if (current()) this.training = before;
      throw error;
    }
    void this.train(read.examples, read.model, options, readAt, current);
    return this.training;
  }

  /** The examples of the backbone in use, once none is waiting to be read again for it; refuses too few. */
  private async trainingExamples(): Promise<{ examples: TrainingExample[]; model: ModelId }> {
    await this.backendChosen();
    await this.rereadExamples();
    const model = (await this.engine()).descriptor.id;
    // Embeddings of another backbone mean nothing to this one.
    const examples = (await allExamples()).filter((example) => (example.model ?? MODEL_OF_OLD_RECORDS) === model).map(({ embedding, distortions, label }) => ({ embedding, distortions, label }));
    const problem = trainabilityProblem(examples);
    if (problem) throw new SpotterError('bad-message', problem);
    return { examples, model };
  }

  /** Trains in this document whether or not the popup stays open (the popup polls for progress), and saves the head unless the run was overtaken. */
  private async train(examples: TrainingExample[], model: ModelId, options: TrainOptions, readAt: number, current: () => boolean): Promise<void> {
    try {
      const { head, report } = await trainHead(examples, options, (log) => {
        if (current()) this.training = { ...this.training, epochs: [...this.training.epochs, log] };
      });
      // An import replaced everything while this ran: its result is for data that is gone.
      if (!current()) return head.dispose();
      try {
        await saveHead({ model, head: await head.serialize(), report, trainedAt: readAt });
      } catch (error) {
        head.dispose();
        throw error;
      }
      this.replaceHead(head);
      if (current()) this.training = { ...this.training, phase: 'done', report };
    } catch (error) {
      if (current()) this.training = { ...this.training, phase: 'failed', error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Swaps the head in memory (storage is written by the caller), disposing the one it replaces. */
  private replaceHead(head: UserHead | null): void {
    if (this.head !== head) this.head?.dispose();
    this.head = head;
    this.headProblem = null;
    // A head set here wins over one still being read from storage.
    this.headLoading = Promise.resolve();
  }

  private async exportHead(): Promise<ResultOf<'export-head'>> {
    await this.loadHeadOnce();
    if (!this.head && this.headProblem) throw new SpotterError('bad-message', 'Your trained model is damaged and cannot be exported. Retrain it, or forget it under "Your labels".');
    if (!this.head) {
      const stored = await loadHead();
      const running = (await this.engine()).descriptor;
      if (stored) throw new SpotterError('bad-message', `Your trained model is for ${MODELS[stored.model ?? MODEL_OF_OLD_RECORDS].title}, not for ${running.title}, which runs now: press Retrain to make one for it.`);
      throw new SpotterError('bad-message', 'There is no trained model yet: label some images and press Retrain first.');
    }
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

  /** Every example and the model, gone: the way out when what is stored cannot be read. */
  private async deleteAll(): Promise<ResultOf<'delete-all'>> {
    this.refuseWhileTraining('Try again when it has finished; nothing was deleted.');
    if (this.importing) throw new SpotterError('bad-message', 'Spotter is importing a file right now. Try again when it has finished; nothing was deleted.');
    const deleted = await deleteEverything();
    this.replaceHead(null);
    // A run that started before would save a model for examples that are gone.
    this.trainingRun++;
    this.training = IDLE_TRAINING;
    return deleted;
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
      const reason = (error instanceof Error ? error.message : String(error)).replace(/^The saved head cannot be used: /, '').replace(/\.$/, '');
      throw new SpotterError('bad-message', `The model in this file cannot be loaded (${reason}). Nothing was changed.`);
    }) : null;
    try {
      await replaceEverything(parsed.examples, parsed.head);
    } catch (error) {
      head?.dispose();
      throw error;
    }
    const model = (await this.engine()).descriptor.id;
    // A model trained on another backbone's embeddings waits in storage: once the examples are read again, Spotter retrains for this one.
    if (head && (parsed.head?.model ?? MODEL_OF_OLD_RECORDS) !== model) {
      head.dispose();
      this.replaceHead(null);
    } else {
      this.replaceHead(head);
    }
    this.trainingRun++;
    this.training = IDLE_TRAINING;
    void this.rereadExamples().catch(() => undefined);
    return { examples: parsed.examples.length, labels: new Set(parsed.examples.map((e) => e.label)).size, head: head !== null };
  }

  /** The head persists in IndexedDB; load it at the first classification after start-up. */
  private loadHeadOnce(): Promise<void> {
    if (this.headLoading) return this.headLoading;
    const loading: Promise<void> = Promise.all([loadHead(), this.engine()])
      .then(async ([stored, engine]) => {
        // A head trained on another backbone's embeddings would give nonsense on this one's.
        const record = stored && (stored.model ?? MODEL_OF_OLD_RECORDS) === engine.descriptor.id ? stored : undefined;
        if (record) await this.backendChosen();
        const head = record ? await UserHead.deserialize(record.head) : null;
        // A training or an import may have set a newer head while this one was read.
        if (this.headLoading === loading && !this.head) this.head = head;
        else head?.dispose();
      })
      .catch((error: unknown) => {
        // Skipped, not fatal: classifications go on with ImageNet's labels and say why.
        if (this.headLoading === loading && !this.head) this.headProblem = error instanceof Error ? error.message : String(error);
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

/**
 * The user's part of a classification: their head's top 3, or none, with a note when there is a
 * head that could not be used (failed to load, or gave no probabilities for this image).
 */
export async function userPredictionOf(head: UserHead | null, headProblem: string | null, embedding: Float32Array): Promise<{ user: UserPrediction | null; notice?: string }> {
  if (!head) return headProblem ? { user: null, notice: DAMAGED_HEAD_NOTICE } : { user: null };
  const prediction = await head.classify(embedding);
  // Checked at load on test inputs, but an image can still push a borderline head past float range.
  if (!prediction.scores.every(({ probability }) => probability >= 0 && probability <= 1)) return { user: null, notice: DAMAGED_HEAD_NOTICE };
  return { user: userPrediction(prediction) };
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
