import { describe, expect, it } from 'vitest';
import {
  BackgroundRequestSchema,
  ClassifyResponseSchema,
  ContentCommandSchema,
  EngineRequestSchema,
  isAddressedToEngine,
  MAX_IMAGE_BYTES,
  parseMessage,
} from '../../src/shared/protocol';

describe('background requests', () => {
  it('accepts a well-formed classify request for each readable URL kind', () => {
    for (const url of ['https://example.com/a.jpg', 'http://127.0.0.1:8080/b.png', 'file:///tmp/c.jpg', 'data:image/png;base64,AAAA']) {
      const parsed = parseMessage(BackgroundRequestSchema, { type: 'classify-image', source: { url } });
      expect(parsed, url).toEqual({ ok: true, value: { type: 'classify-image', source: { url } } });
    }
  });

  it('accepts an area of the screen to classify or label (a canvas or video that cannot be copied)', () => {
    const screen = { left: -20, top: 10.5, width: 300, height: 200, viewportWidth: 1280 };
    expect(parseMessage(BackgroundRequestSchema, { type: 'classify-image', source: { screen } })).toEqual({ ok: true, value: { type: 'classify-image', source: { screen } } });
    expect(parseMessage(BackgroundRequestSchema, { type: 'add-example', source: { screen }, label: 'cat', pageUrl: 'https://a/' }).ok).toBe(true);
    // From a frame inside another site's page: the area is in the frame's viewport, the token names the frame.
    const frameToken = 'a1b2c3d4e5f6g7h8i9j0k1l2';
    expect(parseMessage(BackgroundRequestSchema, { type: 'classify-image', source: { screen, frameToken } })).toEqual({ ok: true, value: { type: 'classify-image', source: { screen, frameToken } } });
  });

  it('accepts a status request', () => {
    expect(parseMessage(BackgroundRequestSchema, { type: 'get-status', warmUp: false }).ok).toBe(true);
  });

  it.each([
    ['not an object', 'classify-image'],
    ['null', null],
    ['unknown type', { type: 'delete-everything' }],
    ['missing source', { type: 'classify-image' }],
    ['source url not a string', { type: 'classify-image', source: { url: 42 } }],
    ['javascript: URL', { type: 'classify-image', source: { url: 'javascript:alert(1)' } }],
    ['chrome: URL', { type: 'classify-image', source: { url: 'chrome://settings' } }],
    ['data: that is not an image', { type: 'classify-image', source: { url: 'data:text/html,<script>x</script>' } }],
    ['status without warmUp', { type: 'get-status' }],
    ['screen area of no width', { type: 'classify-image', source: { screen: { left: 0, top: 0, width: 0, height: 10, viewportWidth: 100 } } }],
    ['screen area at infinity', { type: 'classify-image', source: { screen: { left: Infinity, top: 0, width: 10, height: 10, viewportWidth: 100 } } }],
    ['screen area without its viewport', { type: 'classify-image', source: { screen: { left: 0, top: 0, width: 10, height: 10 } } }],
    ['a frame token of the wrong form', { type: 'classify-image', source: { screen: { left: 0, top: 0, width: 10, height: 10, viewportWidth: 100 }, frameToken: 'not a token' } }],
    ['engine request sent to the background', { type: 'engine/classify', source: { url: 'https://a/b.jpg' } }],
  ])('rejects %s with a reason', (_name, message) => {
    const parsed = parseMessage(BackgroundRequestSchema, message);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason.length).toBeGreaterThan(3);
  });

  it('rejects a data: URL larger than the image limit', () => {
    const huge = `data:image/png;base64,${'A'.repeat(Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 2048)}`;
    const parsed = parseMessage(BackgroundRequestSchema, { type: 'classify-image', source: { url: huge } });
    expect(parsed).toMatchObject({ ok: false, reason: expect.stringContaining('too large') });
  });

  it('drops fields it does not know instead of passing them on', () => {
    const parsed = parseMessage(BackgroundRequestSchema, { type: 'get-status', warmUp: true, evil: 'x' });
    expect(parsed).toEqual({ ok: true, value: { type: 'get-status', warmUp: true } });
  });
});

describe('engine requests', () => {
  it('are told apart by their envelope', () => {
    expect(isAddressedToEngine({ type: 'engine/request', request: { type: 'get-status', warmUp: true } })).toBe(true);
    expect(isAddressedToEngine({ type: 'classify-image' })).toBe(false);
    expect(isAddressedToEngine('engine/request')).toBe(false);
    expect(isAddressedToEngine(null)).toBe(false);
  });

  it('validate the wrapped request', () => {
    expect(parseMessage(EngineRequestSchema, { type: 'engine/request', request: { type: 'get-status', warmUp: true } }).ok).toBe(true);
    expect(parseMessage(EngineRequestSchema, { type: 'engine/request', request: { type: 'classify-image', source: { url: 'ftp://x/y.jpg' } } }).ok).toBe(false);
    expect(parseMessage(EngineRequestSchema, { type: 'engine/request', request: { type: 'format-disk' } }).ok).toBe(false);
  });
});

describe('dataset and training requests', () => {
  it('accept well-formed edits', () => {
    for (const message of [
      { type: 'add-example', source: { url: 'https://a/b.jpg' }, label: 'tulips', pageUrl: 'https://a/' },
      { type: 'rename-label', from: 'ants', to: 'bees' },
      { type: 'delete-label', label: 'ants' },
      { type: 'delete-example', id: 3 },
      { type: 'train', options: {} },
      { type: 'train', options: { epochs: 50, learningRate: 0.01 } },
      { type: 'training-status' },
      { type: 'import-dataset' },
      { type: 'read-from-screen', tabId: 7, imageId: 'k3x9a-12' },
    ]) {
      expect(parseMessage(BackgroundRequestSchema, message), JSON.stringify(message)).toMatchObject({ ok: true });
    }
  });

  it.each([
    ['an empty label', { type: 'add-example', source: { url: 'https://a/b.jpg' }, label: '   ', pageUrl: '' }],
    ['an overlong label', { type: 'rename-label', from: 'a', to: 'x'.repeat(61) }],
    ['zero epochs', { type: 'train', options: { epochs: 0 } }],
    ['a negative learning rate', { type: 'train', options: { learningRate: -1 } }],
    ['a fractional batch size', { type: 'train', options: { batchSize: 2.5 } }],
    ['an id that is not a number', { type: 'delete-example', id: '3' }],
    ['a screen read without a tab', { type: 'read-from-screen', imageId: 'k-1' }],
    ['a screen read of a fractional tab', { type: 'read-from-screen', tabId: 1.5, imageId: 'k-1' }],
  ])('reject %s', (_name, message) => {
    expect(parseMessage(BackgroundRequestSchema, message).ok).toBe(false);
  });

  it('trims labels', () => {
    expect(parseMessage(BackgroundRequestSchema, { type: 'rename-label', from: 'a', to: '  b  ' })).toEqual({ ok: true, value: { type: 'rename-label', from: 'a', to: 'b' } });
  });
});

describe('content commands', () => {
  it('accept the popup commands', () => {
    expect(parseMessage(ContentCommandSchema, { type: 'collect-images' }).ok).toBe(true);
    expect(parseMessage(ContentCommandSchema, { type: 'resolve-image', imageId: '4' }).ok).toBe(true);
    expect(parseMessage(ContentCommandSchema, { type: 'screen-area', imageId: '4' }).ok).toBe(true);
    expect(parseMessage(ContentCommandSchema, { type: 'screen-area' }).ok).toBe(false);
    expect(parseMessage(ContentCommandSchema, { type: 'frame-placement', token: 'a1b2c3d4e5f6g7h8i9j0k1l2' }).ok).toBe(true);
    expect(parseMessage(ContentCommandSchema, { type: 'frame-placement', token: '../../x' }).ok).toBe(false);
    expect(parseMessage(ContentCommandSchema, { type: 'highlight-image' }).ok).toBe(false);
    expect(parseMessage(ContentCommandSchema, { type: 'label-target', label: null }).ok).toBe(true);
    expect(parseMessage(ContentCommandSchema, { type: 'label-target' }).ok).toBe(false);
  });

  it('hide overlays for a screen read and show them again by its id', () => {
    const read = '0b6f1c2e-4d3a-4f5b-9c8d-7e6f5a4b3c2d';
    expect(parseMessage(ContentCommandSchema, { type: 'hide-for-screen-read', read }).ok).toBe(true);
    expect(parseMessage(ContentCommandSchema, { type: 'screen-read', read }).ok).toBe(true);
    expect(parseMessage(ContentCommandSchema, { type: 'screen-read' }).ok).toBe(false);
    expect(parseMessage(ContentCommandSchema, { type: 'hide-for-screen-read', read: 'x'.repeat(5000) }).ok).toBe(false);
  });

  it('accept the context-menu command with and without a src URL', () => {
    expect(parseMessage(ContentCommandSchema, { type: 'classify-target', srcUrl: 'https://a/b.jpg', mediaType: 'image' }).ok).toBe(true);
    expect(parseMessage(ContentCommandSchema, { type: 'classify-target' }).ok).toBe(true);
    expect(parseMessage(ContentCommandSchema, { type: 'classify-target', srcUrl: 7 }).ok).toBe(false);
  });
});

describe('classify responses', () => {
  const result = { user: null, imagenet: [{ label: 'zebra', fullName: 'zebra', probability: 0.99 }], thumbnail: 'data:image/jpeg;base64,AA', backend: 'wasm', inferMs: 20, totalMs: 30 };

  it('accept a result or an error', () => {
    expect(parseMessage(ClassifyResponseSchema, { ok: true, result }).ok).toBe(true);
    expect(parseMessage(ClassifyResponseSchema, { ok: false, error: { code: 'http', message: 'HTTP 404' } }).ok).toBe(true);
  });

  it('accept user predictions', () => {
    expect(parseMessage(ClassifyResponseSchema, { ok: true, result: { ...result, user: { labels: [{ label: 'tulips', probability: 0.94 }], unknown: false } } }).ok).toBe(true);
    expect(parseMessage(ClassifyResponseSchema, { ok: true, result: { ...result, user: { labels: [], unknown: 'yes' } } }).ok).toBe(false);
  });

  it('reject impossible probabilities, unknown backends and unknown error codes', () => {
    expect(parseMessage(ClassifyResponseSchema, { ok: true, result: { ...result, imagenet: [{ label: 'x', fullName: 'x', probability: 1.5 }] } }).ok).toBe(false);
    expect(parseMessage(ClassifyResponseSchema, { ok: true, result: { ...result, backend: 'webgpu-magic' } }).ok).toBe(false);
    expect(parseMessage(ClassifyResponseSchema, { ok: false, error: { code: 'oops', message: 'x' } }).ok).toBe(false);
  });
});
