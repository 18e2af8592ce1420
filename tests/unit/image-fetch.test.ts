/** Downloading images: limits, timeouts and errors, against a real local HTTP server (Node's fetch). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsFor, fetchImageBlob, mayReadFor, siteOf } from '../../src/engine/image-fetch';

let server: Server;
let origin = '';

beforeAll(async () => {
  server = createServer((request, response) => {
    switch (request.url) {
      case '/ok.png':
        response.writeHead(200, { 'content-type': 'image/png' });
        response.end(Buffer.alloc(2000, 7));
        return;
      case '/missing.png':
        response.writeHead(404, 'Not Found');
        response.end('nope');
        return;
      case '/declared-huge.png':
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': String(50 * 1024 * 1024) });
        response.write(Buffer.alloc(10));
        return; // never finishes
      case '/chunked-endless':
        // No Content-Length: only counting the bytes as they come can stop this.
        response.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame' });
        {
          const timer = setInterval(() => response.write(Buffer.alloc(64 * 1024, 1)), 1);
          response.on('close', () => clearInterval(timer));
        }
        return;
      case '/stalled.png':
        response.writeHead(200, { 'content-type': 'image/png' });
        response.write(Buffer.alloc(10));
        return; // never finishes, sends nothing more
      default:
        response.writeHead(500);
        response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('fetchImageBlob', () => {
  it('returns the bytes with their type', async () => {
    const blob = await fetchImageBlob({ url: `${origin}/ok.png` });
    expect(blob.size).toBe(2000);
    expect(blob.type).toBe('image/png');
  });

  it('reads data: URLs', async () => {
    const base64 = 'R0lGODlhAQABAAAAACw=';
    const blob = await fetchImageBlob({ url: `data:image/gif;base64,${base64}` });
    expect(blob.type).toBe('image/gif');
    expect(Buffer.from(await blob.arrayBuffer())).toEqual(Buffer.from(base64, 'base64'));
  });

  it('says which HTTP error the server gave', async () => {
    await expect(fetchImageBlob({ url: `${origin}/missing.png` })).rejects.toMatchObject({ code: 'http', message: 'The image could not be downloaded (HTTP 404 Not Found).' });
  });

  it('refuses a declared size over the limit without reading the body', async () => {
    await expect(fetchImageBlob({ url: `${origin}/declared-huge.png` }, { maxBytes: 1024 * 1024 })).rejects.toMatchObject({ code: 'too-large', message: 'The image is too large (50.0 MB; the limit is 1.0 MB).' });
  });

  it('stops an undeclared stream as soon as it passes the limit', async () => {
    await expect(fetchImageBlob({ url: `${origin}/chunked-endless` }, { maxBytes: 1024 * 1024, timeoutMs: 20_000 })).rejects.toMatchObject({ code: 'too-large', message: 'The image is too large (more than 1.0 MB; the limit is 1.0 MB).' });
  });

  it('gives up on a download that stalls', async () => {
    await expect(fetchImageBlob({ url: `${origin}/stalled.png` }, { maxBytes: 1024 * 1024, timeoutMs: 300 })).rejects.toMatchObject({ code: 'network', message: 'The image took more than 300 ms to download, so Spotter gave up.' });
  });

  it('reads a file: URL only for a page that is a local file itself', async () => {
    expect(mayReadFor('https://example.com/', 'https://cdn.example/a.jpg')).toBe(true);
    expect(mayReadFor('https://example.com/', 'data:image/png;base64,AAAA')).toBe(true);
    expect(mayReadFor('https://example.com/', 'file:///home/me/secret.png')).toBe(false);
    expect(mayReadFor('https://example.com/', 'FILE:///home/me/secret.png')).toBe(false);
    expect(mayReadFor('file:///home/me/album.html', 'file:///home/me/a.jpg')).toBe(true);
    for (const pageUrl of ['https://example.com/', undefined]) {
      await expect(fetchImageBlob({ url: 'file:///etc/passwd', pageUrl })).rejects.toMatchObject({ code: 'unreadable', message: 'Spotter reads local files only for pages that are local files themselves.' });
    }
  });
});

describe('whose cookies go with a download', () => {
  it('names sites by scheme and registrable domain, public suffixes included', () => {
    expect(siteOf('https://photos.example.co.uk/a.jpg')).toBe('https://example.co.uk');
    expect(siteOf('https://a.github.io/x.png')).toBe('https://a.github.io');
    expect(siteOf('http://127.0.0.1:8080/x.png')).toBe('http://127.0.0.1');
    expect(siteOf('http://localhost:3000/')).toBe('http://localhost');
    expect(siteOf('data:image/png;base64,AAAA')).toBeNull();
    expect(siteOf(undefined)).toBeNull();
  });

  it("sends them only to the site of the page showing the image", () => {
    expect(credentialsFor('https://cdn.example.com/a.jpg', 'https://www.example.com/album')).toBe('include');
    // Third parties: another site, a sibling under a public suffix, the same host over the other scheme, a private address.
    expect(credentialsFor('https://tracker.example.net/p.gif', 'https://www.example.com/')).toBe('omit');
    expect(credentialsFor('https://b.github.io/x.png', 'https://a.github.io/')).toBe('omit');
    expect(credentialsFor('http://www.example.com/a.jpg', 'https://www.example.com/')).toBe('omit');
    expect(credentialsFor('http://192.168.1.1/cgi?reboot=1', 'https://www.example.com/')).toBe('omit');
    // No page known (the popup's own files, tests): no cookies.
    expect(credentialsFor('https://www.example.com/a.jpg', undefined)).toBe('omit');
  });
});
