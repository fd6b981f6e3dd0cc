import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { services } from './lib/expectations.ts';
import { configValueViolations, envViolations } from './lib/invariants.ts';
import { loadManifests } from './lib/manifests.ts';

const { manifests } = loadManifests();

// Relative to the real files' result, so these hold whatever state config.ts and kube/ are in.
const assertOneMore = (actual: string[], baseline: string[], added: string) =>
  assert.deepEqual([...actual].sort(), [...baseline, added].sort());

describe('service environment (src/infra/config.ts against kube/)', () => {
  for (const service of services) {
    test(`${service.deployment}: sets every variable the service reads, and nothing else`, () => {
      assert.ok(Object.keys(service.settings).length > 0, 'config.ts exports no settings');
      assert.deepEqual(envViolations(manifests, [service]), []);
    });

    test(`${service.deployment}: the values pass the service's own configuration validation`, () => {
      assert.deepEqual(configValueViolations(manifests, [service]), []);
    });
  }

  test('a variable added to config.ts and missing from kube/ is reported', () => {
    const [command] = services;
    assert.ok(command);
    const anySetting = Object.values(command.settings)[0];
    assert.ok(anySetting);
    const grown = { ...command, settings: { ...command.settings, NEW_SETTING: anySetting } };
    assertOneMore(
      envViolations(manifests, [grown]),
      envViolations(manifests, [command]),
      'kube/30-command.yaml Deployment/command: NEW_SETTING is read by the service but not set',
    );
  });

  test('a variable removed from config.ts and still set in kube/ is reported', () => {
    const [, query] = services;
    assert.ok(query);
    const removed = Object.keys(query.settings).at(-1) as string;
    const settings = Object.fromEntries(Object.entries(query.settings).filter(([name]) => name !== removed));
    assertOneMore(
      envViolations(manifests, [{ ...query, settings }]),
      envViolations(manifests, [query]),
      `kube/31-query.yaml Deployment/query: ${removed} is set but the service does not read it`,
    );
  });
});
