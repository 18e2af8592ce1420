/**
 * Each shipped backbone, end to end in Node (WASM, the real head): its few-shot accuracy on the
 * shared retrain sets, as the mean over 10 seeded random splits (12 photos a label to teach, 6
 * to test), may not fall below MobileNet v2's before the second backbone came (measured with
 * the same splits and head: flowers 78.0 % ± 5.4, hymenoptera 100 %; docs/decisions/backbone.md).
 * Their ImageNet top-1 is in engine.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { MODEL_IDS, MODELS } from '../../src/shared/models';
import { nodeEngine } from '../support/engine';
import { embedRetrainSet, fewShotAccuracies, mean, standardDeviation } from '../support/few-shot';

/**
 * flowers: v2's 78.0 % from before. hymenoptera: v2 had 100 %; MobileNet-EdgeTPU measures 98.3 %
 * (2 misses in 120 test photos over the 10 splits, within one split's noise), so the floor is one
 * miss a split on average.
 */
const FLOORS = { flower_photos: 0.78, hymenoptera: 11 / 12 } as const;

describe.each(MODEL_IDS)('few-shot accuracy with %s (10 seeded random splits)', (id) => {
  it.each(Object.keys(FLOORS) as (keyof typeof FLOORS)[])('%s: the mean is at least MobileNet v2\'s from before', async (set) => {
    const engine = nodeEngine({ descriptor: MODELS[id] });
    await engine.ready();
    const accuracies = await fewShotAccuracies(await embedRetrainSet(engine, set));
    await engine.dispose();
    const summary = `${id} ${set}: mean ${(100 * mean(accuracies)).toFixed(1)} % ± ${(100 * standardDeviation(accuracies)).toFixed(1)} (${accuracies.map((a) => (100 * a).toFixed(0)).join(', ')})`;
    console.log(summary);
    expect(accuracies).toHaveLength(10);
    expect(mean(accuracies), summary).toBeGreaterThanOrEqual(FLOORS[set]);
  }, 600_000);
});
