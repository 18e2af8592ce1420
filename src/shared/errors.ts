/**
 * Errors the user may see. Each has a stable code (for tests and logic) and a short,
 * plain message that says what went wrong and, where possible, what to do.
 */
export const ERROR_CODES = [
  'http', // the image URL answered with an HTTP error
  'network', // the image could not be downloaded at all
  'not-image', // the bytes are not a decodable image
  'too-large', // over the byte or pixel limit
  'too-small', // too few pixels to recognise anything in (a tracking pixel, a 1-px strip)
  'blank', // one flat colour: nothing to recognise
  'unreadable', // canvas/video pixels the page does not let us read
  'uncopyable', // a picture the page lets no one copy, which only the screen shows
  'no-image', // nothing image-like where the user pointed (under the cursor, among the chosen files)
  'timeout', // a job exceeded its time budget
  'engine', // the model or backend failed
  'storage-full', // a write to Spotter's database found no room (full disk, used-up quota); that write changed nothing
  'bad-message', // a message failed validation or came from the wrong sender
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export class SpotterError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SpotterError';
  }

  toInfo(): ErrorInfo {
    return { code: this.code, message: this.message };
  }
}

/** Normalises anything thrown into something safe to show and to send in a message. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof SpotterError) return error.toInfo();
  const detail = error instanceof Error ? error.message : String(error);
  return { code: 'engine', message: `Spotter hit an internal error: ${detail}` };
}
