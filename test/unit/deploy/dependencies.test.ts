import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { nodeMajorOf, parseDockerfile } from './lib/dockerfile.ts';
import { images } from './lib/expectations.ts';
import { repoRoot } from './lib/manifests.ts';

/**
 * The images install `npm ci --omit=dev` and run compiled JavaScript with plain `node`: the
 * production dependencies are exactly the packages src/ imports (tsx, a TypeScript loader, is a
 * tool of the scripts and tests), and package.json's engines admit the images' Node.
 */

interface PackageJson {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  engines: { node: string };
}
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;

/** Packages (not node: built-ins, not relative paths) that the files import. */
function importedPackages(sources: string[]): string[] {
  const names = new Set<string>();
  for (const source of sources) {
    // Imports, and files resolved from a package (`resolve('pkg/file')`, as the docs' script).
    for (const [, specifier] of source.matchAll(/(?:from|import|resolve)\s*\(?\s*'([^'.][^']*)'/g)) {
      if (!specifier || specifier.startsWith('node:')) continue;
      const parts = specifier.split('/');
      names.add(specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string));
    }
  }
  return [...names].sort();
}

function productionViolations(pkg: PackageJson, imported: string[]): string[] {
  const declared = Object.keys(pkg.dependencies).sort();
  return [
    ...imported.filter((name) => !declared.includes(name)).map((name) => `src/ imports ${name}, not a dependency`),
    ...declared.filter((name) => !imported.includes(name)).map((name) => `${name} is a dependency src/ never imports`),
  ];
}

/** Whether a range made of `>=X.Y[.Z]` terms joined by `||` admits version X.Y.Z. */
function admits(range: string, version: [number, number, number]): boolean {
  return range.split('||').some((term) => {
    const match = /^\s*>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(term);
    if (!match) throw new Error(`engines term "${term}" is not >=X.Y.Z`);
    const floor = [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
    for (let i = 0; i < 3; i++) {
      if ((version[i] as number) !== floor[i]) return (version[i] as number) > (floor[i] as number);
    }
    return true;
  });
}

const srcFiles = readdirSync(join(repoRoot, 'src'), { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts'))
  .map((file) => readFileSync(join(repoRoot, 'src', file), 'utf8'));

describe('dependencies and Node version of the images', () => {
  test('the production dependencies are exactly the packages src/ imports', () => {
    assert.deepEqual(productionViolations(packageJson, importedPackages(srcFiles)), []);
  });

  test('tsx or a missing import among the production dependencies is reported', () => {
    const withTsx = { ...packageJson, dependencies: { ...packageJson.dependencies, tsx: '^4.23.15' } };
    assert.deepEqual(productionViolations(withTsx, importedPackages(srcFiles)), [
      'tsx is a dependency src/ never imports',
    ]);
    assert.deepEqual(productionViolations(packageJson, [...importedPackages(srcFiles), 'left-pad']), [
      'src/ imports left-pad, not a dependency',
    ]);
  });

  for (const image of images) {
    test(`${image.dockerfile}: package.json engines (${packageJson.engines.node}) admit its Node`, () => {
      const base = parseDockerfile(readFileSync(join(repoRoot, image.dockerfile), 'utf8')).stages.at(-1)?.base ?? '';
      const major = nodeMajorOf(base);
      assert.ok(major, base);
      assert.ok(admits(packageJson.engines.node, [major, 0, 0]) || admits(packageJson.engines.node, [major, 99, 99]));
    });
  }

  test('engines that leave out a Node line are reported', () => {
    assert.equal(admits('>=20.19', [24, 0, 0]), true);
    assert.equal(admits('>=26', [24, 11, 0]), false);
    assert.equal(admits('>=20.19 || >=22.12', [20, 18, 0]), false);
  });
});
