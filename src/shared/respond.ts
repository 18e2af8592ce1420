import { SpotterError, toErrorInfo, type ErrorInfo } from './errors';

export type Response<T> = { ok: true; result: T } | { ok: false; error: ErrorInfo };

/** Runs a request handler and turns its outcome, success or any error, into a protocol response. */
export async function respond<T>(work: () => Promise<T>): Promise<Response<T>> {
  try {
    return { ok: true, result: await work() };
  } catch (error) {
    return { ok: false, error: toErrorInfo(error) };
  }
}

export function rejection(message: string): { ok: false; error: ErrorInfo } {
  return { ok: false, error: new SpotterError('bad-message', message).toInfo() };
}
