/**
 * Two local origins for the end-to-end tests. The page origin serves the fixture page and the
 * shared photos; the second origin serves photos WITHOUT CORS headers, as most image CDNs do.
 * Both log every request, so tests can assert nothing unexpected was fetched.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PHOTOS_DIR, RETRAIN_DIR } from '../../support/photos';

export interface FixtureServer {
  origin: string;
  /** Every request's path, in order. */
  requests: string[];
  /** Every request's path with its Cookie and Sec-Fetch-Dest headers ('image' for the page's own <img> loads, 'empty' for fetch()). */
  visits: { path: string; cookie: string | undefined; dest: string | undefined }[];
  close(): Promise<void>;
}

/**
 * delayMs: the answer starts only after this long (a stalled server); the headers too. `request.dest`
 * is the Sec-Fetch-Dest header, by which a server can tell Spotter's download from the page's <img>.
 */
export type Route = (url: URL, request: { dest: string | undefined }) => { status: number; type: string; body: string | Buffer; headers?: Record<string, string>; delayMs?: number } | undefined;

/**
 * Serves /photos/<file> from the shared test photos, plus whatever `extra` answers. `host` picks
 * the loopback address: 127.0.0.1 and 127.0.0.2 are different sites to the browser.
 */
export async function startServer(extra: Route = () => undefined, host = '127.0.0.1'): Promise<FixtureServer> {
  const requests: string[] = [];
  const visits: FixtureServer['visits'] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', `http://${host}`);
    requests.push(url.pathname);
    const dest = request.headers['sec-fetch-dest'] as string | undefined;
    visits.push({ path: url.pathname, cookie: request.headers.cookie, dest });
    const answer: ReturnType<Route> = extra(url, { dest }) ?? photo(url);
    if (!answer) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const send = () => response.writeHead(answer.status, { 'content-type': answer.type, 'cache-control': 'no-store', ...answer.headers }).end(answer.body);
    if (!answer.delayMs) return send();
    const timer = setTimeout(send, answer.delayMs);
    response.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    requests,
    visits,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // A stalled answer still pending must not hold the close up.
        server.closeAllConnections();
      }),
  };
}

/** /photos/<file> from the shared test photos; /retrain/<set>/<class>/<file> from the retraining sets. */
function photo(url: URL) {
  const match = /^\/photos\/([\w.-]+\.jpg)$/.exec(url.pathname) ?? /^\/retrain\/((?:flower_photos|hymenoptera)\/\w+\/[\w.-]+\.jpg)$/.exec(url.pathname);
  if (!match) return undefined;
  try {
    const file = url.pathname.startsWith('/photos/') ? path.join(PHOTOS_DIR, match[1]!) : path.join(RETRAIN_DIR, match[1]!);
    return { status: 200, type: 'image/jpeg', body: readFileSync(file) };
  } catch {
    return undefined;
  }
}

export function photoDataUrl(file: string): string {
  return `data:image/jpeg;base64,${readFileSync(path.join(PHOTOS_DIR, file)).toString('base64')}`;
}
