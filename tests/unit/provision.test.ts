import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkFiles, modelSourceDir, ProvisionError, provisionModel, sha256 } from '../../scripts/provision';
import { MODEL_IDS } from '../../src/shared/models';

let dir: string;
const source = () => ({ dir: path.join(dir, 'src'), from: 'test' });
const dest = () => path.join(dir, 'dest');

async function makeSource(files: Record<string, string>): Promise<Record<string, string>> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(source().dir, { recursive: true });
  const digests: Record<string, string> = {};
  for (const [name, content] of Object.entries(files)) {
    await writeFile(path.join(source().dir, name), content);
    digests[name] = await sha256(path.join(source().dir, name));
  }
  return digests;
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-provision-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('model provisioning', () => {
  it('copies and verifies intact files', async () => {
    const digests = await makeSource({ 'model.json': '{"a":1}', 'weights.bin': 'xyz' });
    expect(await provisionModel(source(), dest(), digests)).toBe('copied');
    expect(await readFile(path.join(dest(), 'weights.bin'), 'utf8')).toBe('xyz');
    expect(await checkFiles(dest(), digests)).toEqual([]);
  });

  it('stops on a missing file and says exactly what to do', async () => {
    const digests = await makeSource({ 'model.json': '{}' });
    const error = await provisionModel(source(), dest(), { ...digests, 'weights.bin': 'ab'.repeat(32) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect((error as Error).message).toMatch(/weights\.bin is missing/);
    expect((error as Error).message).toMatch(/SPOTTER_MODELS_DIR=/);
  });

  it('stops on an altered file', async () => {
    const digests = await makeSource({ 'model.json': '{}', 'weights.bin': 'good' });
    await writeFile(path.join(source().dir, 'weights.bin'), 'tampered');
    await expect(provisionModel(source(), dest(), digests)).rejects.toThrow(/weights\.bin has sha256 [0-9a-f]{64}, expected/);
  });

  it('keeps a verified copy when the source folder is gone', async () => {
    const digests = await makeSource({ 'model.json': '{}' });
    await provisionModel(source(), dest(), digests);
    await rm(source().dir, { recursive: true });
    expect(await provisionModel(source(), dest(), digests)).toBe('up-to-date');
  });

  it("takes each model's folder from SPOTTER_MODELS_DIR, else ../shared/models", () => {
    expect(modelSourceDir('mobilenet-v2', { SPOTTER_MODELS_DIR: '/opt/models' })).toEqual({ dir: '/opt/models/mobilenet_v2_1.0_224_quant_imagenet_tfjs', from: '$SPOTTER_MODELS_DIR' });
    expect(modelSourceDir('mobilenet-v2', {}).dir).toMatch(/shared\/models\/mobilenet_v2_1\.0_224_quant_imagenet_tfjs$/);
    expect(modelSourceDir('mobilenet-edgetpu', {}).dir).toMatch(/shared\/models\/mobilenet_edgetpu_1\.0_224_uint8_imagenet_tfjs$/);
  });

  it('the committed digests match the shared models, one entry per shipped backbone', async () => {
    const { default: manifest } = await import('../../scripts/model-files.json');
    expect(Object.keys(manifest.models).sort()).toEqual([...MODEL_IDS].sort());
    for (const id of MODEL_IDS) {
      const { files } = manifest.models[id];
      // Not an empty list, which would check nothing: the model's graph and its weights at least.
      expect(Object.keys(files)).toEqual(expect.arrayContaining(['model.json', expect.stringMatching(/\.bin$/)]));
      expect(await checkFiles(modelSourceDir(id, {}).dir, files), id).toEqual([]);
    }
  });
});
