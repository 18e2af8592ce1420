/** Downloading images: limits, timeouts and errors, against a real local HTTP server (Node's fetch). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchImageBlob } from '../../src/engine/image-fetch';

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
    const blob = await fetchImageBlob(`${origin}/ok.png`);
    expect(blob.size).toBe(2000);
    expect(blob.type).toBe('image/png');
  });

  it('reads data: URLs', async () => {
    const blob = await fetchImageBlob('data:image/gif;base64,R0lGODlhAQABAAAAACw=');
    expect(blob.type).toBe('image/gif');
    expect(blob.size).toBeGreaterThan(0);
  });

  it('says which HTTP error the server gave', async () => {
    await expect(fetchImageBlob(`${origin}/missing.png`)).rejects.toMatchObject({ code: 'http', message: 'The image could not be downloaded (HTTP 404 Not Found).' });
  });

  it('refuses a declared size over the limit without reading the body', async () => {
    await expect(fetchImageBlob(`${origin}/declared-huge.png`, 1024 * 1024)).rejects.toMatchObject({ code: 'too-large', message: 'The image is too large (50.0 MB; the limit is 1.0 MB).' });
  });

  it('stops an undeclared stream as soon as it passes the limit', async () => {
    await expect(fetchImageBlob(`${origin}/chunked-endless`, 1024 * 1024, 20_000)).rejects.toMatchObject({ code: 'too-large', message: 'The image is too large (more than 1.0 MB; the limit is 1.0 MB).' });
  });

  it('gives up on a download that stalls', async () => {
    const start = performance.now();
    await expect(fetchImageBlob(`${origin}/stalled.png`, 1024 * 1024, 300)).rejects.toMatchObject({ code: 'network', message: 'The image took more than 300 ms to download, so Spotter gave up.' });
    expect(performance.now() - start).toBeLessThan(5000);
  });
});
