/**
 * The docs stay usable: README.md short enough to read in a few minutes, and every relative link
 * (markdown links and images) in README.md, CONTRIBUTING.md, CHANGELOG.md and docs/ pointing at a
 * file that exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/paths';

const README_MAX_LINES = 200;

function markdownFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) return markdownFiles(full);
    return entry.name.endsWith('.md') ? [full] : [];
  });
}

const DOCS = [...['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md'].map((name) => path.join(ROOT, name)), ...markdownFiles(path.join(ROOT, 'docs'))];

/** Link targets of inline links and images, `[text](target)` / `![alt](target "title")`, outside code. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]!);
}

/** The relative targets of a file that point at nothing (anchors stripped; web and mail links skipped). */
function brokenLinks(file: string, markdown: string): string[] {
  return linkTargets(markdown).filter((target) => {
    if (/^(https?:|mailto:)/i.test(target) || target.startsWith('#')) return false;
    const pathPart = decodeURIComponent(target.split('#')[0]!.split('?')[0]!);
    return !existsSync(path.resolve(path.dirname(file), pathPart));
  });
}

describe('the docs', () => {
  it(`README.md has at most ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync(path.join(ROOT, 'README.md'), 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    expect(lines.length).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('finds the files it checks, and their links', () => {
    expect(DOCS.map((file) => path.relative(ROOT, file))).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', 'docs/architecture.md']));
    expect(linkTargets(readFileSync(path.join(ROOT, 'README.md'), 'utf8'))).toContain('docs/screenshots/chrome-overlay.png');
  });

  it('tells a broken link from a good one', () => {
    const file = path.join(ROOT, 'README.md');
    const sample = '[ok](docs/architecture.md#the-message-protocol) ![img](docs/screenshots/chrome-overlay.png) [web](https://example.com/x) [mail](mailto:a@b.c) [here](#install) [gone](docs/nowhere.md) `[code](not/a/link.md)`';
    expect(brokenLinks(file, sample)).toEqual(['docs/nowhere.md']);
  });

  it.each(DOCS.map((file) => [path.relative(ROOT, file), file]))('every relative link in %s points at a file that exists', (_name, file) => {
    expect(brokenLinks(file, readFileSync(file, 'utf8'))).toEqual([]);
  });
});
