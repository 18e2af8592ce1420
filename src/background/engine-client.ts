import type { Response } from '../shared/respond';
import type { RequestOf, RequestType, ResultOf } from '../shared/protocol';

/**
 * How the background reaches the engine. Chrome: messages to the offscreen document.
 * Firefox (no offscreen API): the engine runs in the event page itself.
 */
export interface EngineClient {
  request<T extends RequestType>(request: RequestOf<T>): Promise<Response<ResultOf<T>>>;
}
