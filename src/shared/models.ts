/**
 * The backbones Spotter ships, as data: the engine loads whichever descriptor it is given, and the
 * options page lists them. No TF.js here (the options page and the protocol import it).
 * Why these two and their settings: docs/decisions/backbone.md and docs/decisions/fit-mode-and-resampling.md.
 */

export const MODEL_IDS = ['mobilenet-edgetpu', 'mobilenet-v2'] as const;
export type ModelId = (typeof MODEL_IDS)[number];

/** How an image of any shape becomes the model's square input: the whole image stretched, or its centred square. */
export type FitMode = 'squash' | 'center-crop';

export interface ModelDescriptor {
  id: ModelId;
  /** What the options page calls it. */
  title: string;
  /** One line on what choosing it means, for the options page. */
  tradeOff: string;
  /** The folder in the extension (and in .provisioned/) that holds model.json and its weights. */
  folder: string;
  /** Input side in pixels (square, RGB, NHWC). */
  inputSize: number;
  /** The model's input is (pixel - offset) / scale, from pixels in 0..255. */
  normalisation: { offset: number; scale: number };
  embeddingNode: string;
  logitsNode: string;
  /** Length of the pooled embedding the user's head trains on. */
  embeddingSize: number;
  /** Index of ImageNet's first class among the logits: 1 where logit 0 is "background". */
  firstClassLogit: number;
  /** How the image fills the input, chosen per model by measurement (docs/decisions/fit-mode-and-resampling.md). */
  fitMode: FitMode;
}

export const MODELS: Readonly<Record<ModelId, ModelDescriptor>> = {
  'mobilenet-edgetpu': {
    id: 'mobilenet-edgetpu',
    title: 'MobileNet-EdgeTPU (more accurate)',
    tradeOff: 'ImageNet top-1 75.6 %; about 2.4x the time per image of MobileNet v2 on WASM.',
    folder: 'models/mobilenet-edgetpu',
    inputSize: 224,
    // The TFLite input quantization: real = (q - 128) / 127 (the model's NOTICE.txt).
    normalisation: { offset: 128, scale: 127 },
    embeddingNode: 'embedding',
    logitsNode: 'logits',
    embeddingSize: 1280,
    firstClassLogit: 1,
    fitMode: 'center-crop',
  },
  'mobilenet-v2': {
    id: 'mobilenet-v2',
    title: 'MobileNet v2 (about twice as fast)',
    tradeOff: 'ImageNet top-1 70.8 %; about 2.4x faster than MobileNet-EdgeTPU on WASM.',
    folder: 'models/mobilenet-v2',
    inputSize: 224,
    // Scale 1/127.5 around 127.5 maps 0..255 to [-1, 1], as mobilenet.js feeds this graph.
    normalisation: { offset: 127.5, scale: 127.5 },
    embeddingNode: 'module_apply_default/MobilenetV2/Logits/AvgPool',
    logitsNode: 'module_apply_default/MobilenetV2/Logits/output',
    embeddingSize: 1280,
    firstClassLogit: 1,
    fitMode: 'center-crop',
  },
};

export const DEFAULT_MODEL_ID: ModelId = 'mobilenet-edgetpu';

export function isModelId(value: unknown): value is ModelId {
  return typeof value === 'string' && (MODEL_IDS as readonly string[]).includes(value);
}

/** The descriptor's model.json, as a path inside the extension. */
export function modelJsonPath(model: ModelDescriptor): string {
  return `${model.folder}/model.json`;
}
