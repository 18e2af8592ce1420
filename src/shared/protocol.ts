/**
 * Spotter's one message protocol. Every receiver parses what it gets with these schemas
 * (valibot) and rejects anything else; senders are checked separately (see senders.ts).
 */
import * as v from 'valibot';
import { ERROR_CODES } from './errors';
import { TRAIN_OPTION_LIMITS } from '../engine/train-options';
import { BACKEND_NAMES } from './backends';
import { MODEL_IDS } from './models';

/** Largest image we accept, in bytes (also bounds data: URLs sent between contexts). */
export const MAX_IMAGE_BYTES = 32 * 1024 * 1024;
/** A data: URL of MAX_IMAGE_BYTES in base64, and some. */
export const MAX_IMAGE_URL_LENGTH = Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 1024;

const ImageUrl = v.pipe(
  v.string(),
  v.maxLength(MAX_IMAGE_URL_LENGTH, 'The image is too large to send (over 32 MB).'),
  v.check((url) => /^(https?:|file:|data:image\/)/i.test(url), 'Only http(s), file and data:image URLs can be classified.'),
);

/**
 * The page that shows the image (its tab's address). It decides whether the user's cookies go
 * with the download (same site only) and whether a file: URL may be read (only for file: pages).
 * The background sets it from the browser-stamped sender for content scripts; the popup, from
 * the tab it shows.
 */
const PageUrl = v.optional(v.pipe(v.string(), v.maxLength(8192)));

/** An image to classify, resolved by the content script into something any extension page can read. */
export const ImageSourceSchema = v.object({
  url: ImageUrl,
  pageUrl: PageUrl,
});
export type ImageSource = v.InferOutput<typeof ImageSourceSchema>;

const Coordinate = v.pipe(v.number(), v.finite());
const Extent = v.pipe(v.number(), v.finite(), v.minValue(1));
const FrameToken = v.pipe(v.string(), v.regex(/^[a-z0-9]{24}$/));
/** Names one screen read of the background's (crypto.randomUUID). */
const ScreenReadId = v.pipe(v.string(), v.uuid());
const Size = v.pipe(v.number(), v.finite(), v.minValue(0));
/** A box in CSS px of some frame's viewport. */
const FrameAreaSchema = v.object({ left: Coordinate, top: Coordinate, width: Size, height: Size });

/** A box in CSS px of the top frame's viewport, with that viewport's width (the capture's scale). */
export const ScreenAreaSchema = v.object({ left: Coordinate, top: Coordinate, width: Extent, height: Extent, viewportWidth: Extent });
export type ScreenArea = v.InferOutput<typeof ScreenAreaSchema>;

/**
 * What the screen shows in an area of the tab: for a canvas or video whose pixels the page lets
 * no one copy (WebGL, another site's picture drawn on a canvas, another site's video). Only a
 * content script sends it, after a menu click; the background reads the screen and hands the
 * engine an ImageSource, so the engine never sees this.
 */
export const ScreenSourceSchema = v.object({
  screen: ScreenAreaSchema,
  pageUrl: PageUrl,
  /**
   * Set by a frame inside another site's page: its screen area is then in its own viewport, and
   * the top frame knows where the frame sits under this token (content/frame-placement.ts).
   */
  frameToken: v.optional(FrameToken),
});
export type ScreenSource = v.InferOutput<typeof ScreenSourceSchema>;
const RequestImageSourceSchema = v.union([ImageSourceSchema, ScreenSourceSchema]);

const ImagenetLabelSchema = v.object({
  label: v.string(),
  fullName: v.string(),
  probability: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
});


const Probability = v.pipe(v.number(), v.minValue(0), v.maxValue(1));
const LabelScoreSchema = v.object({ label: v.string(), probability: Probability });

/** Predictions of the user's own head, when one is trained. */
const UserPredictionSchema = v.object({
  labels: v.array(LabelScoreSchema),
  /** True when the image is none of the user's labels (engine/head.ts, UserHead.classify): shown as "unknown", the best guess beside it. */
  unknown: v.boolean(),
});
export type UserPrediction = v.InferOutput<typeof UserPredictionSchema>;

export const ClassifyResultSchema = v.object({
  user: v.nullable(UserPredictionSchema),
  imagenet: v.array(ImagenetLabelSchema),
  /** A small JPEG data: URL of what the model saw (popup grid; no second download). */
  thumbnail: v.string(),
  backend: v.picklist(BACKEND_NAMES),
  /** Time in the model only. */
  inferMs: v.number(),
  /** Time in the engine host: fetching, decoding and inference. */
  totalMs: v.number(),
  /** Something the user should know about what was seen (a file that was cut short), in their words. */
  notice: v.optional(v.string()),
});
export type ClassifyResult = v.InferOutput<typeof ClassifyResultSchema>;

const BackendTimingSchema = v.object({ backend: v.picklist(BACKEND_NAMES), ms: v.nullable(v.number()), error: v.optional(v.string()) });

export const EngineStatusSchema = v.object({
  state: v.picklist(['idle', 'loading', 'ready', 'failed']),
  /** The backbone in use (options page: Model). */
  model: v.picklist(MODEL_IDS),
  backend: v.nullable(v.picklist(BACKEND_NAMES)),
  probe: v.nullable(v.array(BackendTimingSchema)),
  loadMs: v.nullable(v.number()),
  error: v.nullable(v.string()),
});
export type EngineStatusMessage = v.InferOutput<typeof EngineStatusSchema>;

const ErrorInfoSchema = v.object({ code: v.picklist(ERROR_CODES), message: v.string() });

/** Every answer is `{ ok: true, result }` or `{ ok: false, error }`. */
export function responseSchema<T extends v.GenericSchema>(result: T) {
  return v.variant('ok', [v.object({ ok: v.literal(true), result }), v.object({ ok: v.literal(false), error: ErrorInfoSchema })]);
}
export const ClassifyResponseSchema = responseSchema(ClassifyResultSchema);

// ── The user's dataset and head ───────────────────────────────────────────────────
/**
 * A number that means something (a date, an accuracy, a count). Infinity and NaN are refused
 * here in every browser: Chrome's messaging sends them as null, Firefox's as they are.
 */
const Finite = v.pipe(v.number(), v.finite());

const LabelName = v.pipe(v.string(), v.trim(), v.minLength(1, 'A label needs at least one letter.'), v.maxLength(60, 'Labels are at most 60 characters.'));

/** One example as lists show it. The engine leaves out of its answers any stored example that does not fit this. */
export const ExampleSummarySchema = v.object({
  id: Finite,
  label: v.string(),
  thumbnail: v.string(),
  imageUrl: v.string(),
  pageUrl: v.string(),
  createdAt: Finite,
});
export type ExampleSummary = v.InferOutput<typeof ExampleSummarySchema>;

const LIMITS = TRAIN_OPTION_LIMITS;
const TrainOptionsSchema = v.object({
  epochs: v.pipe(v.number(), v.integer(), v.minValue(LIMITS.epochs.min), v.maxValue(LIMITS.epochs.max)),
  learningRate: v.pipe(v.number(), v.minValue(LIMITS.learningRate.min), v.maxValue(LIMITS.learningRate.max)),
  batchSize: v.pipe(v.number(), v.integer(), v.minValue(LIMITS.batchSize.min), v.maxValue(LIMITS.batchSize.max)),
  hiddenUnits: v.pipe(v.number(), v.integer(), v.minValue(LIMITS.hiddenUnits.min), v.maxValue(LIMITS.hiddenUnits.max)),
  dropoutRate: v.pipe(v.number(), v.minValue(0), v.maxValue(0.9)),
  l2: v.pipe(v.number(), v.minValue(0), v.maxValue(100)),
  patience: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(500)),
  seed: v.pipe(v.number(), v.integer()),
});

const EpochLogSchema = v.object({
  epoch: Finite,
  loss: v.nullable(Finite),
  accuracy: Finite,
  valLoss: v.nullable(Finite),
  valAccuracy: v.nullable(Finite),
});
export type EpochLogMessage = v.InferOutput<typeof EpochLogSchema>;

export const TrainingReportSchema = v.object({
  labels: v.array(v.string()),
  /** Labels left out for having too few examples, with their counts. */
  ignoredLabels: v.record(v.string(), Finite),
  accuracy: Finite,
  epochs: v.array(EpochLogSchema),
  bestEpoch: Finite,
  // 'validation' and 'training': reports saved before cross-validation (one held-out share).
  evaluatedOn: v.picklist(['cross-validation', 'validation', 'training']),
  folds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(2))),
  foldAccuracies: v.optional(v.array(v.pipe(v.number(), v.minValue(0), v.maxValue(1)))),
  perLabelAccuracy: v.record(v.string(), Finite),
  confusion: v.array(v.array(Finite)),
  trainCount: Finite,
  validationCount: Finite,
  durationMs: Finite,
  options: TrainOptionsSchema,
});
export type TrainingReportMessage = v.InferOutput<typeof TrainingReportSchema>;

export const TrainingStateSchema = v.object({
  phase: v.picklist(['idle', 'running', 'done', 'failed']),
  epochs: v.array(EpochLogSchema),
  maxEpochs: v.number(),
  report: v.nullable(TrainingReportSchema),
  error: v.nullable(v.string()),
  startedAt: v.nullable(v.number()),
  /** Examples being embedded again for the backbone in use (after a model change or an import); Retrain waits for it. */
  rereading: v.nullable(v.object({ model: v.picklist(MODEL_IDS), done: Finite, total: Finite })),
});
export type TrainingState = v.InferOutput<typeof TrainingStateSchema>;

/** The trained model as views show it. The engine answers null for a stored model that does not fit this. */
export const HeadSummarySchema = v.object({ labels: v.array(v.string()), trainedAt: Finite, report: TrainingReportSchema, model: v.picklist(MODEL_IDS) });

const DatasetSchema = v.object({
  labels: v.array(v.object({ label: v.string(), count: Finite, examples: v.array(ExampleSummarySchema) })),
  head: v.nullable(HeadSummarySchema),
  /**
   * What is stored but could not be read (left out above): examples, and whether there is a model.
   * Views say so and offer the ways out: Export what is readable, Forget the model, Delete everything.
   */
  unreadable: v.object({ examples: Finite, model: v.boolean() }),
  /** The backbone in use: examples train with it only if it made their embeddings. */
  model: v.picklist(MODEL_IDS),
  /** Examples another backbone made: `withPicture` of them are read again for this one, the rest cannot move (kept from before Spotter kept pictures). */
  otherModels: v.array(v.object({ model: v.picklist(MODEL_IDS), count: Finite, withPicture: Finite })),
});
export type Dataset = v.InferOutput<typeof DatasetSchema>;

// ── Content script or popup → background (and, wrapped, background → engine host) ─
export const BackgroundRequestSchema = v.variant('type', [
  v.object({ type: v.literal('classify-image'), source: RequestImageSourceSchema }),
  v.object({ type: v.literal('get-status'), warmUp: v.boolean() }),
  /** The options page's Model choice: saved, and the engine switches backbone (Spotter's pages only). */
  v.object({ type: v.literal('set-model'), model: v.picklist(MODEL_IDS) }),
  v.object({ type: v.literal('add-example'), source: RequestImageSourceSchema, label: LabelName, pageUrl: v.string() }),
  v.object({ type: v.literal('list-dataset') }),
  v.object({ type: v.literal('delete-example'), id: v.number() }),
  v.object({ type: v.literal('rename-label'), from: v.string(), to: LabelName }),
  v.object({ type: v.literal('delete-label'), label: v.string() }),
  v.object({ type: v.literal('train'), options: v.partial(TrainOptionsSchema) }),
  v.object({ type: v.literal('training-status') }),
  v.object({ type: v.literal('export-head') }),
  /** Drops the trained model (the examples stay): classifications show ImageNet's labels only. */
  v.object({ type: v.literal('forget-model') }),
  /** Deletes every example and the model: the way out when stored data cannot be read. */
  v.object({ type: v.literal('delete-all') }),
  // The file itself waits in IndexedDB (storage/import-staging.ts): messages are capped at 64 MB.
  v.object({ type: v.literal('import-dataset') }),
  /**
   * Spotter's pages only, answered by the background, not the engine: what the screen shows of a
   * listed picture that the page lets no one copy (the popup grid's canvases and videos).
   */
  v.object({ type: v.literal('read-from-screen'), tabId: v.pipe(v.number(), v.integer()), imageId: v.string() }),
  /**
   * Spotter's own pages only (the router refuses it from content scripts; web pages cannot message
   * Spotter at all), for the watchdog's tests: the engine's next image job takes this much memory
   * and never returns, as a job stuck in a bug would. Nothing is read or changed; the watchdog
   * restarts the engine within ENGINE_SILENT_LIMIT_MS. Whoever can send it could do worse anyway.
   */
  v.object({ type: v.literal('stall-engine-for-test'), allocateMB: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2048)) }),
]);
export type BackgroundRequest = v.InferOutput<typeof BackgroundRequestSchema>;
export type RequestType = BackgroundRequest['type'];
export type RequestOf<T extends RequestType> = Extract<BackgroundRequest, { type: T }>;

/**
 * The background tells every open Spotter page that the labels changed, a training started or the
 * model was replaced or dropped (import, Forget) elsewhere (the right-click menu, another popup), so
 * that views opened earlier do not go stale.
 */
export const ChangeNoticeSchema = v.object({ type: v.literal('spotter/changed'), what: v.picklist(['labels', 'training', 'model']) });
export type ChangeNotice = v.InferOutput<typeof ChangeNoticeSchema>;

/** Requests that change the user's labels (the "Label as" menu is rebuilt after them). */
export const LABEL_CHANGING_REQUESTS: readonly RequestType[] = ['add-example', 'delete-example', 'rename-label', 'delete-label', 'import-dataset', 'delete-all'];
/** Requests that replace or drop the model in use (a finished training is seen by polling instead). */
export const MODEL_CHANGING_REQUESTS: readonly RequestType[] = ['import-dataset', 'forget-model', 'delete-all', 'set-model'];

/** What each request answers with, when it succeeds. */
export const RESULT_SCHEMAS = {
  'classify-image': ClassifyResultSchema,
  'get-status': EngineStatusSchema,
  'set-model': EngineStatusSchema,
  'add-example': ExampleSummarySchema,
  'list-dataset': DatasetSchema,
  'delete-example': v.object({ deleted: v.number() }),
  'rename-label': v.object({ moved: v.number() }),
  'delete-label': v.object({ deleted: v.number() }),
  train: TrainingStateSchema,
  'training-status': TrainingStateSchema,
  'export-head': v.object({ modelJson: v.string(), weightsBase64: v.string(), labelsJson: v.string() }),
  'forget-model': v.object({ forgotten: v.boolean() }),
  'delete-all': v.object({ examples: v.number(), model: v.boolean() }),
  'import-dataset': v.object({ examples: v.number(), labels: v.number(), head: v.boolean() }),
  'read-from-screen': ImageSourceSchema,
  'stall-engine-for-test': v.object({ armed: v.boolean() }),
} satisfies Record<RequestType, v.GenericSchema>;
export type ResultOf<T extends RequestType> = v.InferOutput<(typeof RESULT_SCHEMAS)[T]>;

// ── Background → engine host (Chrome's offscreen document) ────────────────────────
/**
 * runtime.sendMessage reaches every extension page, so the offscreen document also sees the
 * content script's requests. Engine requests are wrapped in this envelope: the engine host
 * answers only these, the background answers everything else.
 */
export const EngineRequestSchema = v.object({ type: v.literal('engine/request'), request: BackgroundRequestSchema });
export type EngineRequest = v.InferOutput<typeof EngineRequestSchema>;
/** The background's heartbeat while it waits on the engine's document: answered true, by a document whose thread still runs. */
export const EnginePingSchema = v.object({ type: v.literal('engine/ping') });
export type EnginePing = v.InferOutput<typeof EnginePingSchema>;
export type EngineMessage = EngineRequest | EnginePing;
export const EngineMessageSchema = v.variant('type', [EngineRequestSchema, EnginePingSchema]);

export function isAddressedToEngine(message: unknown): boolean {
  return typeof message === 'object' && message !== null && 'type' in message && (message.type === 'engine/request' || message.type === 'engine/ping');
}

// ── The engine's document ⇄ the worker that runs the engine (engine/worker-engine.ts) ───
/** A worker that sends no sign of life for this long, while it owes answers, is stopped and started again. */
export const ENGINE_SILENT_LIMIT_MS = 15_000;
export const ENGINE_STALLED_MESSAGE = `Spotter's engine stopped responding for ${ENGINE_SILENT_LIMIT_MS / 1000} s, so Spotter restarted it. Try again.`;

const ImageBitmapSchema = v.custom<ImageBitmap>((value) => typeof ImageBitmap !== 'undefined' && value instanceof ImageBitmap, 'not an ImageBitmap');
const ImageElementSizingSchema = v.variant('kind', [v.object({ kind: v.literal('svg'), aspect: v.nullable(v.number()) }), v.object({ kind: v.literal('raster') })]);
const MessageId = v.pipe(v.number(), v.integer(), v.minValue(0));

export const ToEngineWorkerSchema = v.variant('type', [
  v.object({ type: v.literal('request'), id: MessageId, request: BackgroundRequestSchema }),
  v.object({ type: v.literal('ping') }),
  /** What the document drew through an <img> for the worker (which has no DOM), or why it did not. */
  v.object({ type: v.literal('drawn'), id: MessageId, bitmap: ImageBitmapSchema }),
  v.object({ type: v.literal('not-drawn'), id: MessageId, error: ErrorInfoSchema, userFacing: v.boolean() }),
]);
export type ToEngineWorker = v.InferOutput<typeof ToEngineWorkerSchema>;

export const FromEngineWorkerSchema = v.variant('type', [
  /** The response is checked against RESULT_SCHEMAS by the document, which knows the request's type. */
  v.object({ type: v.literal('reply'), id: MessageId, response: v.unknown() }),
  v.object({ type: v.literal('pong') }),
  v.object({ type: v.literal('draw'), id: MessageId, blob: v.instance(Blob), sizing: ImageElementSizingSchema }),
]);
export type FromEngineWorker = v.InferOutput<typeof FromEngineWorkerSchema>;

// ── Background or popup → content script ──────────────────────────────────────────
export const CLASSIFY_MENU_ID = 'spotter-classify';
export const LABEL_MENU_ID = 'spotter-label';
export const NEW_LABEL_MENU_ID = 'spotter-label-new';
/** Child items of "Label as" are `${LABEL_MENU_ITEM_PREFIX}${label}`. */
export const LABEL_MENU_ITEM_PREFIX = 'spotter-label:';

const MenuTarget = {
  /** What the browser says was right-clicked; absent for canvases and CSS backgrounds. */
  srcUrl: v.optional(v.string()),
  mediaType: v.optional(v.string()),
};

export const PageImageSchema = v.object({
  imageId: v.string(),
  kind: v.picklist(['img', 'video', 'canvas', 'svg', 'background']),
  /** Where it comes from (for display and de-duplication); canvases and inline drawings get a synthetic key. */
  url: v.string(),
  width: v.number(),
  height: v.number(),
});
export type PageImage = v.InferOutput<typeof PageImageSchema>;

export const ContentCommandSchema = v.variant('type', [
  v.object({ type: v.literal('classify-target'), ...MenuTarget }),
  /** label null: ask the user for a new label. */
  v.object({ type: v.literal('label-target'), ...MenuTarget, label: v.nullable(v.string()) }),
  v.object({ type: v.literal('collect-images') }),
  v.object({ type: v.literal('resolve-image'), imageId: v.string() }),
  /**
   * Where a listed canvas or video that cannot be copied is on the screen, so that the background
   * can read it there for the popup.
   */
  v.object({ type: v.literal('screen-area'), imageId: v.string() }),
  v.object({ type: v.literal('highlight-image'), imageId: v.string() }),
  /** What the open overlays show, read from their closed shadow roots (for Spotter's pages and tests). */
  v.object({ type: v.literal('describe-overlays') }),
  /**
   * To every frame of the tab before the background reads the screen: hide Spotter's overlays for
   * this read, and answer once painted without them.
   */
  v.object({ type: v.literal('hide-for-screen-read'), read: ScreenReadId }),
  /** The screen was read (or could not be): overlays hidden for that read may show again. */
  v.object({ type: v.literal('screen-read'), read: ScreenReadId }),
  /** To the frame that asked for a screen read under this token, once it is armed everywhere: post the picture's area up. */
  v.object({ type: v.literal('post-frame-area'), token: FrameToken, area: FrameAreaSchema }),
  /** To the top frame: that area, placed in its viewport by the frames on the way. */
  v.object({ type: v.literal('frame-placement'), token: FrameToken }),
]);
export type ContentCommand = v.InferOutput<typeof ContentCommandSchema>;

export const CONTENT_RESULT_SCHEMAS = {
  'classify-target': v.boolean(),
  'label-target': v.boolean(),
  /** The page's pictures, and which document they are of: a reload or navigation is a new one, images or not. */
  'collect-images': v.object({ document: v.string(), images: v.array(PageImageSchema) }),
  /** The picture, or why it can be read only from the screen (a canvas or video the page lets no one copy). */
  'resolve-image': v.union([ImageSourceSchema, v.object({ onScreenOnly: v.string() })]),
  'screen-area': ScreenAreaSchema,
  'highlight-image': v.boolean(),
  'hide-for-screen-read': v.boolean(),
  'screen-read': v.boolean(),
  'post-frame-area': v.boolean(),
  /**
   * null: it did not arrive in time. Cut to the frames' boxes on the way: 0 wide or high where not
   * in view. `unplaceable`: why no area can say where it shows (a frame on the way is rotated).
   */
  'frame-placement': v.nullable(v.union([v.object({ ...FrameAreaSchema.entries, viewportWidth: Extent }), v.object({ unplaceable: v.pipe(v.string(), v.maxLength(300)) })])),
  'describe-overlays': v.array(
    v.object({
      state: v.string(),
      labels: v.array(v.object({ kind: v.string(), label: v.string(), probability: v.number(), text: v.string() })),
      error: v.nullable(v.string()),
      text: v.string(),
      frameStyle: v.nullable(v.string()),
    }),
  ),
} satisfies Record<ContentCommand['type'], v.GenericSchema>;

/** Parses or returns a readable reason. Never throws. */
export function parseMessage<T extends v.GenericSchema>(schema: T, message: unknown): { ok: true; value: v.InferOutput<T> } | { ok: false; reason: string } {
  const result = v.safeParse(schema, message);
  if (result.success) return { ok: true, value: result.output };
  const issue = result.issues[0];
  const where = issue?.path?.map((p) => String(p.key)).join('.') ?? '';
  return { ok: false, reason: `${where ? `${where}: ` : ''}${issue?.message ?? 'invalid message'}` };
}
