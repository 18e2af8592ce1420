/**
 * Storage for a model change (fake-indexeddb, as storage.test.ts): which backbone runs, each
 * example's picture kept beside its embeddings, embeddings replaced in place, and the export file
 * carrying pictures and model ids (older files import as MobileNet v2's, without pictures).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { closeDatabaseForTests } from '../../src/storage/database';
import { addExample, allExamples, deleteExample, deleteLabel, embeddingOrigins, examplePicture, replaceEverything, replaceFeatures } from '../../src/storage/dataset';
import { parseDataset, serializeDataset } from '../../src/storage/dataset-file';
import { chosenModel, saveModelChoice } from '../../src/storage/model-choice';

afterEach(async () => {
  closeDatabaseForTests();
  await new Promise<void>((resolve) => {
    const request = indexedDB.deleteDatabase('spotter');
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
});

const PICTURE = 'data:image/jpeg;base64,/9j/4AAQ';
const vector = (value: number) => new Float32Array(1280).fill(value);
const example = (label: string, extra: Partial<Parameters<typeof addExample>[0]> = {}) => ({ label, embedding: vector(1), thumbnail: 'data:image/jpeg;base64,AAAA', imageUrl: `https://example.com/${label}.jpg`, pageUrl: 'https://example.com/', createdAt: 1, ...extra });

describe('the backbone in use', () => {
  it('is MobileNet-EdgeTPU on a fresh install, the stored choice once made', async () => {
    expect(await chosenModel()).toBe('mobilenet-edgetpu');
    await saveModelChoice('mobilenet-v2');
    expect(await chosenModel()).toBe('mobilenet-v2');
  });

  it('stays MobileNet v2 for examples kept before there was a choice, until the user chooses', async () => {
    await addExample(example('ants'));
    expect(await chosenModel()).toBe('mobilenet-v2');
    await saveModelChoice('mobilenet-edgetpu');
    expect(await chosenModel()).toBe('mobilenet-edgetpu');
  });
});

describe('pictures and embeddings per backbone', () => {
  it('keeps the picture with the example and drops it with the example or its label', async () => {
    const kept = await addExample(example('ants', { model: 'mobilenet-edgetpu', picture: PICTURE }));
    const bare = await addExample(example('bees'));
    expect(await examplePicture(kept.id!)).toBe(PICTURE);
    expect(await examplePicture(bare.id!)).toBeUndefined();
    expect(await embeddingOrigins()).toEqual([
      { id: kept.id, model: 'mobilenet-edgetpu', hasPicture: true },
      { id: bare.id, model: 'mobilenet-v2', hasPicture: false },
    ]);
    // Training reads no pictures; export does.
    expect((await allExamples()).map((e) => e.picture)).toEqual([undefined, undefined]);
    expect((await allExamples({ withPictures: true })).map((e) => e.picture)).toEqual([PICTURE, undefined]);
    await deleteExample(kept.id!);
    expect(await examplePicture(kept.id!)).toBeUndefined();
    const again = await addExample(example('bees', { picture: PICTURE }));
    await deleteLabel('bees');
    expect(await examplePicture(again.id!)).toBeUndefined();
  });

  it('replaces an example\'s embeddings in place, and not those of an example deleted meanwhile', async () => {
    const kept = await addExample(example('ants', { model: 'mobilenet-v2', picture: PICTURE }));
    expect(await replaceFeatures(kept.id!, 'mobilenet-edgetpu', { embedding: vector(2), distortions: [vector(3)] })).toBe(true);
    const [stored] = await allExamples();
    expect(stored).toMatchObject({ id: kept.id, label: 'ants', model: 'mobilenet-edgetpu' });
    expect(stored!.embedding[0]).toBe(2);
    expect(stored!.distortions![0]![0]).toBe(3);
    await deleteExample(kept.id!);
    expect(await replaceFeatures(kept.id!, 'mobilenet-edgetpu', { embedding: vector(2) })).toBe(false);
    expect(await embeddingOrigins()).toEqual([]);
  });
});

describe('the export file', () => {
  it('carries each example\'s picture and model, and the model\'s backbone, through export and import', async () => {
    await addExample(example('ants', { model: 'mobilenet-edgetpu', picture: PICTURE }));
    const text = serializeDataset(await allExamples({ withPictures: true }), undefined);
    const parsed = parseDataset(text);
    expect(parsed.examples[0]).toMatchObject({ label: 'ants', model: 'mobilenet-edgetpu', picture: PICTURE });
    await replaceEverything(parsed.examples, null);
    expect(await embeddingOrigins()).toEqual([{ id: expect.any(Number), model: 'mobilenet-edgetpu', hasPicture: true }]);
  });

  it('imports a file from before pictures and models as MobileNet v2 examples without pictures', () => {
    const old = JSON.parse(serializeDataset([{ id: 1, ...example('ants') }], undefined)) as { examples: Record<string, unknown>[] };
    expect(old.examples[0]).not.toHaveProperty('model');
    expect(old.examples[0]).not.toHaveProperty('picture');
    const parsed = parseDataset(JSON.stringify(old));
    expect(parsed.examples[0]!.model).toBeUndefined();
    expect(parsed.examples[0]!.picture).toBeUndefined();
  });

  it('refuses a picture that is not an image, or a model Spotter does not have, changing nothing', () => {
    const file = JSON.parse(serializeDataset([{ id: 1, ...example('ants', { model: 'mobilenet-v2', picture: PICTURE }) }], undefined)) as { examples: Record<string, unknown>[] };
    expect(() => parseDataset(JSON.stringify({ ...file, examples: [{ ...file.examples[0], picture: 'javascript:alert(1)' }] }))).toThrow(/damaged \(examples\.0\.picture/);
    expect(() => parseDataset(JSON.stringify({ ...file, examples: [{ ...file.examples[0], model: 'resnet-152' }] }))).toThrow(/damaged \(examples\.0\.model/);
  });
});
