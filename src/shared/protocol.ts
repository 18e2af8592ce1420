/**
 * Spotter's one message protocol. Every receiver parses what it gets with these schemas
 * (valibot) and rejects anything else; senders are checked separately (see senders.ts).
 */
import * as v from 'valibot';
import { ERROR_CODES } from './errors';
import { BACKEND_NAMES } from './backends';

/** Largest image we accept, in bytes (also bounds data: URLs sent between contexts). */
export const MAX_IMAGE_BYTES = 32 * 1024 * 1024;
const MAX_URL_LENGTH = Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 1024;

const ImageUrl = v.pipe(
  v.string(),
  v.maxLength(MAX_URL_LENGTH, 'The image is too large to send (over 32 MB).'),
  v.check((url) => /^(https?:|file:|data:image\/)/i.test(url), 'Only http(s), file and data:image URLs can be classified.'),
);

/** An image to classify, resolved by the content script into something any extension page can read. */
export const ImageSourceSchema = v.object({ url: ImageUrl });
export type ImageSource = v.InferOutput<typeof ImageSourceSchema>;

const ImagenetLabelSchema = v.object({
  label: v.string(),
  fullName: v.string(),
  probability: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
});

export const ClassifyResultSchema = v.object({
  imagenet: v.array(ImagenetLabelSchema),
  backend: v.picklist(BACKEND_NAMES),
  /** Time in the model only. */
  inferMs: v.number(),
  /** Time in the engine host: fetching, decoding and inference. */
  totalMs: v.number(),
});
export type ClassifyResult = v.InferOutput<typeof ClassifyResultSchema>;

const BackendTimingSchema = v.object({ backend: v.picklist(BACKEND_NAMES), ms: v.nullable(v.number()), error: v.optional(v.string()) });

export const EngineStatusSchema = v.object({
  state: v.picklist(['idle', 'loading', 'ready', 'failed']),
  backend: v.nullable(v.picklist(BACKEND_NAMES)),
  probe: v.nullable(v.array(BackendTimingSchema)),
  loadMs: v.nullable(v.number()),
  error: v.nullable(v.string()),
});
export type EngineStatusMessage = v.InferOutput<typeof EngineStatusSchema>;

const ErrorInfoSchema = v.object({ code: v.picklist(ERROR_CODES), message: v.string() });

function responseSchema<T extends v.GenericSchema>(result: T) {
  return v.variant('ok', [v.object({ ok: v.literal(true), result }), v.object({ ok: v.literal(false), error: ErrorInfoSchema })]);
}
export const ClassifyResponseSchema = responseSchema(ClassifyResultSchema);
export type ClassifyResponse = v.InferOutput<typeof ClassifyResponseSchema>;
export const StatusResponseSchema = responseSchema(EngineStatusSchema);
export type StatusResponse = v.InferOutput<typeof StatusResponseSchema>;

// ── Background → content script ────────────────────────────────────────────────────
export const CLASSIFY_MENU_ID = 'spotter-classify';

export const ContentCommandSchema = v.variant('type', [
  v.object({
    type: v.literal('classify-target'),
    /** What the browser says was right-clicked; absent for canvases and CSS backgrounds. */
    srcUrl: v.optional(v.string()),
    mediaType: v.optional(v.string()),
  }),
]);
export type ContentCommand = v.InferOutput<typeof ContentCommandSchema>;

// ── Content script or popup → background ──────────────────────────────────────────
export const BackgroundRequestSchema = v.variant('type', [
  v.object({ type: v.literal('classify-image'), source: ImageSourceSchema }),
  v.object({ type: v.literal('get-status'), warmUp: v.boolean() }),
]);
export type BackgroundRequest = v.InferOutput<typeof BackgroundRequestSchema>;

// ── Background → engine host (Chrome's offscreen document) ────────────────────────
/**
 * runtime.sendMessage reaches every extension page, so the offscreen document also sees the
 * content script's requests. Engine requests are told apart by this prefix: the engine host
 * answers only these, the background answers everything else.
 */
export const ENGINE_MESSAGE_PREFIX = 'engine/';
export function isAddressedToEngine(message: unknown): boolean {
  return typeof message === 'object' && message !== null && 'type' in message && typeof message.type === 'string' && message.type.startsWith(ENGINE_MESSAGE_PREFIX);
}

export const EngineRequestSchema = v.variant('type', [
  v.object({ type: v.literal('engine/classify'), source: ImageSourceSchema }),
  v.object({ type: v.literal('engine/status'), warmUp: v.boolean() }),
]);
export type EngineRequest = v.InferOutput<typeof EngineRequestSchema>;

/** Parses or returns a readable reason. Never throws. */
export function parseMessage<T extends v.GenericSchema>(schema: T, message: unknown): { ok: true; value: v.InferOutput<T> } | { ok: false; reason: string } {
  const result = v.safeParse(schema, message);
  if (result.success) return { ok: true, value: result.output };
  const issue = result.issues[0];
  const where = issue?.path?.map((p) => String(p.key)).join('.') ?? '';
  return { ok: false, reason: `${where ? `${where}: ` : ''}${issue?.message ?? 'invalid message'}` };
}
