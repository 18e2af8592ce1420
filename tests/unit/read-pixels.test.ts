/** What the content script sends for a clicked image: refusals it can word itself, before any request. */
import { describe, expect, it } from 'vitest';
import { toImageSource } from '../../src/content/read-pixels';
import type { ImageTarget } from '../../src/content/find-image';
import { MAX_IMAGE_URL_LENGTH } from '../../src/shared/protocol';

// Only url-kind targets: they need no DOM, and the element is never touched.
const img = (url: string): ImageTarget => ({ kind: 'img', element: {} as Element, url });

describe('toImageSource for an <img>', () => {
  it('passes http(s) and data:image URLs on as they are', async () => {
    expect(await toImageSource(img('https://example.com/a.jpg'))).toEqual({ url: 'https://example.com/a.jpg' });
    expect(await toImageSource(img('data:image/png;base64,AAAA'))).toEqual({ url: 'data:image/png;base64,AAAA' });
  });

  it('says a data: URL over the size limit is too large, rather than send a request that would be refused as malformed', async () => {
    const huge = `data:image/png;base64,${'A'.repeat(MAX_IMAGE_URL_LENGTH)}`;
    await expect(toImageSource(img(huge))).rejects.toMatchObject({ code: 'too-large', message: 'The image is too large (over 32 MB).' });
  });

  it('says which addresses it cannot read', async () => {
    await expect(toImageSource(img('data:text/html,<p>hi'))).rejects.toMatchObject({ code: 'not-image' });
    await expect(toImageSource(img('ftp://example.com/a.jpg'))).rejects.toMatchObject({ message: 'Spotter cannot read images from ftp: addresses.' });
  });
});
