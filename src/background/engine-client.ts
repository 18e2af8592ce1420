import type { ClassifyResponse, ImageSource, StatusResponse } from '../shared/protocol';

/**
 * How the background reaches the engine. Chrome: messages to the offscreen document.
 * Firefox (no offscreen API): the engine runs in the event page itself.
 */
export interface EngineClient {
  classify(source: ImageSource): Promise<ClassifyResponse>;
  status(warmUp: boolean): Promise<StatusResponse>;
}
