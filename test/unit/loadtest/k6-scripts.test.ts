import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { loadScenarioFile } from '../../../bench/scenarios.ts';

/**
 * k6 itself cannot run on the project's machines, so its scripts are checked statically: they parse
 * as ES modules, import nothing k6 cannot resolve, and take their scenario from the shared file.
 */

const k6Dir = resolve(import.meta.dirname, '..', '..', '..', 'loadtest', 'k6');
const scripts = readdirSync(k6Dir)
  .filter((name) => name.endsWith('.js'))
  .sort();
const file = loadScenarioFile();

/** Syntax-checks `source` as an ES module with Node's own parser, without running it. */
function moduleSyntaxError(source: string): string | undefined {
  const result = spawnSync(process.execPath, ['--input-type=module', '--check'], { input: source, encoding: 'utf8' });
  return result.status === 0 ? undefined : result.stderr || `exit ${result.status}`;
}

/** Every import (static, side-effect or dynamic) that is not `k6` or `k6/...`. */
function nonK6Imports(source: string): string[] {
  return ts
    .preProcessFile(source, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((name) => name !== 'k6' && !name.startsWith('k6/'));
}

const opsOf = (mixes: Record<string, number>[]) => [...new Set(mixes.flatMap((mix) => Object.keys(mix)))];

describe('the checkers themselves', () => {
  test('a syntax error is reported', () => {
    assert.match(moduleSyntaxError("import http from 'k6/http';\nexport default function ( {") ?? '', /SyntaxError/);
  });

  test('module syntax is required (a top-level export parses only as a module)', () => {
    assert.equal(moduleSyntaxError("import http from 'k6/http';\nexport const options = {};"), undefined);
  });

  test('npm packages, relative files and remote modules are all flagged', () => {
    const source = [
      "import _ from 'lodash';",
      "import './helpers.js';",
      "import { uuidv4 } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js';",
      "import http from 'k6/http';",
      "const later = import('fs');",
    ].join('\n');
    assert.deepEqual(nonK6Imports(source).sort(), [
      './helpers.js',
      'fs',
      'https://jslib.k6.io/k6-utils/1.4.0/index.js',
      'lodash',
    ]);
  });
});

describe('k6 scripts', () => {
  test('there is one script per scenario of loadtest/scenarios.json, and no other', () => {
    assert.deepEqual(
      scripts,
      Object.keys(file.scenarios)
        .map((name) => `${name}.js`)
        .sort(),
    );
  });

  for (const name of scripts) {
    const source = readFileSync(join(k6Dir, name), 'utf8');
    const scenarioName = name.replace(/\.js$/, '');

    describe(name, () => {
      test('parses as a JavaScript module', () => {
        assert.equal(moduleSyntaxError(source), undefined);
      });

      test('imports only k6 modules', () => {
        assert.deepEqual(nonK6Imports(source), []);
        assert.ok(ts.preProcessFile(source, true, true).importedFiles.length > 0, 'expected k6 imports');
      });

      test('reads its scenario from loadtest/scenarios.json', () => {
        assert.match(source, /JSON\.parse\(open\('\.\.\/scenarios\.json'\)\)/);
        assert.match(source, new RegExp(`const NAME = '${scenarioName}';`));
        assert.match(source, /FILE\.scenarios\[NAME\]/);
      });

      test("implements every operation of its scenario's mix and parts", () => {
        const scenario = file.scenarios[scenarioName];
        assert.ok(scenario);
        for (const op of opsOf([scenario.mix, ...Object.values(scenario.parts ?? {})])) {
          assert.match(source, new RegExp(`case '${op}':`), `${name} does not handle ${op}`);
        }
      });

      test('sets thresholds from the file and checks responses', () => {
        assert.match(source, /thresholds: \{/);
        assert.match(source, /SCENARIO\.thresholds\.p99Ms/);
        assert.match(source, /SCENARIO\.thresholds\.errorRate/);
        assert.match(source, /check\(/);
      });

      test('documents its scenario, thresholds and how to run it', () => {
        const header = /^\/\*[\s\S]*?\*\//.exec(source)?.[0] ?? '';
        assert.match(header, new RegExp(`k6 scenario "${scenarioName}"`));
        assert.match(header, /Thresholds/);
        assert.match(header, /local stack/);
        assert.match(header, /Minikube/);
        assert.match(header, new RegExp(`k6 run .*loadtest/k6/${name}`));
      });
    });
  }

  test('hot-product verifies no oversell in teardown', () => {
    const source = readFileSync(join(k6Dir, 'hot-product.js'), 'utf8');
    assert.match(source, /export function teardown\(/);
    assert.match(source, /\\\/insufficient-stock\$/);
    assert.match(source, /reservations_succeeded: \[`count==\$\{EXPECTED_SUCCESSES\}`\]/);
  });
});
