/** The Train view's reading of the training's progress, kept apart from the view so that its retry rules can be tested in Node. */
import { toErrorInfo } from '../shared/errors';
import type { TrainingState } from '../shared/protocol';

export const POLL_MS = 300;
/** Quick retries of a failed read (300 ms doubling, ~9 s in all), then one every SLOW_RETRY_MS. */
export const QUICK_RETRIES = 5;
/** An engine restart can outlast the quick retries: the view keeps asking, slowly, rather than stay on "Training…". */
export const SLOW_RETRY_MS = 5000;

export interface PollHandlers {
  state: (state: TrainingState) => void;
  /** A read failed; the next try is already scheduled. */
  failure: (message: string) => void;
}

/** Reads the training state now and again every POLL_MS while it runs or examples are being read again; returns a function that stops it. */
export function pollTraining(read: () => Promise<TrainingState>, on: PollHandlers): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  const poll = async () => {
    try {
      const state = await read();
      if (stopped) return;
      failures = 0;
      on.state(state);
      if (state.phase === 'running' || state.rereading) timer = setTimeout(() => void poll(), POLL_MS);
    } catch (error) {
      if (stopped) return;
      failures++;
      const slow = failures >= QUICK_RETRIES;
      const reason = toErrorInfo(error).message;
      on.failure(slow ? `${reason} Spotter's engine may be restarting: trying again every ${SLOW_RETRY_MS / 1000} s…` : `${reason} Trying again…`);
      timer = setTimeout(() => void poll(), slow ? SLOW_RETRY_MS : POLL_MS * 2 ** failures);
    }
  };
  void poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
