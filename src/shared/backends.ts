/** TF.js backends Spotter knows how to choose between (shared by the engine and the protocol). */
export const BACKEND_NAMES = ['webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
