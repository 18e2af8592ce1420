import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkFiles, modelSourceDir, ProvisionError, provisionModel, sha256 } from '../../scripts/provision';

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
    expect((error as Error).message).toMatch(/SPOTTER_MODEL_DIR=/);
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

  it('takes the model folder from SPOTTER_MODEL_DIR, else ../shared', () => {
    expect(modelSourceDir({ SPOTTER_MODEL_DIR: '/opt/models/x' })).toEqual({ dir: '/opt/models/x', from: '$SPOTTER_MODEL_DIR' });
    expect(modelSourceDir({}).dir).toMatch(/shared\/models\/mobilenet_v2_1\.0_224_quant_imagenet_tfjs$/);
  });

  it('the committed digests match the shared model', async () => {
    const { default: manifest } = await import('../../scripts/model-files.json');
    // Not an empty list, which would check nothing: the model's graph and its weights at least.
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(['model.json', expect.stringMatching(/\.bin$/)]));
    expect(await checkFiles(modelSourceDir({}).dir, manifest.files)).toEqual([]);
  });
});
