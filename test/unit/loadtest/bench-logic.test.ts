import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { END_OFFSET_FIELDS, exhaustionCheck, LAG_FIELDS, noOversellCheck, sumFields } from '../../../bench/checks.ts';
import { pacedLoop } from '../../../bench/generator.ts';
import { loadScenarioFile } from '../../../bench/scenarios.ts';
import { Recorder, summarizeLatencies } from '../../../bench/stats.ts';
import {
  classify,
  operations,
  Population,
  problemCode,
  type RequestSpec,
  serviceOf,
} from '../../../bench/workloads.ts';

const reserve: RequestSpec = {
  op: 'reserve',
  service: 'command',
  method: 'POST',
  path: '/products/x/stock/reservations',
};
const problem = (code: string) => JSON.stringify({ type: `https://example.test/problems/${code}`, status: 409 });

describe('summarizeLatencies', () => {
  test('nearest-rank percentiles', () => {
    const samples = Float64Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.deepEqual(summarizeLatencies(samples), { p50: 50, p90: 90, p99: 99, max: 100 });
  });

  test('uses only the first count samples, and nothing for none', () => {
    assert.deepEqual(summarizeLatencies(Float64Array.from([5, 1, 1000]), 2), { p50: 1, p90: 5, p99: 5, max: 5 });
    assert.equal(summarizeLatencies(new Float64Array(8), 0), null);
  });
});

test('Recorder counts answers, errors and grows past its first buffer', () => {
  const recorder = new Recorder();
  for (let i = 1; i <= 5000; i++) recorder.latency(i);
  recorder.outcome('ok', false);
  recorder.outcome('status 500', true);
  recorder.outcome('status 500', true);
  const summary = recorder.summary();
  assert.equal(summary.requests, 5000);
  assert.equal(summary.latencyMs?.max, 5000);
  assert.equal(summary.latencyMs?.p99, 4950);
  assert.equal(recorder.errors, 2);
  assert.deepEqual(recorder.outcomes(), { ok: 1, 'status 500': 2 });
});

describe('classify', () => {
  test('success is the status the contract names for the operation', () => {
    assert.deepEqual(classify(reserve, 201, '{}'), { key: 'ok', ok: true, expectedRejection: false });
    assert.equal(classify(reserve, 200, '{}').ok, false);
  });

  test('a sold-out reservation is an expected refusal, other 409s are not', () => {
    assert.deepEqual(classify(reserve, 409, problem('insufficient-stock')), {
      key: '409 insufficient-stock',
      ok: false,
      expectedRejection: true,
    });
    assert.equal(classify(reserve, 409, problem('product-discontinued')).expectedRejection, false);
    const price: RequestSpec = { ...reserve, op: 'changePrice' };
    assert.equal(classify(price, 409, problem('insufficient-stock')).expectedRejection, false);
  });

  test('a failure below HTTP is told apart by the client error', () => {
    assert.equal(classify(reserve, 0, 'read ECONNRESET').key, 'status 0 (read ECONNRESET)');
    assert.equal(classify(reserve, 0, 'timed out after 15000 ms').ok, false);
  });

  test('the trivial endpoint only has to answer 2xx', () => {
    assert.equal(classify(reserve, 200, '{"ok":true}', true).ok, true);
    assert.equal(classify(reserve, 503, '', true).ok, false);
  });

  test('problemCode reads the last segment of the type', () => {
    assert.equal(problemCode(problem('sku-taken')), 'sku-taken');
    assert.equal(problemCode('<html>'), undefined);
  });
});

describe('operations', () => {
  const payloads = loadScenarioFile().payloads;

  test('build requests of the contract from the payload shapes', () => {
    const population = new Population();
    population.add('11111111-1111-4111-8111-111111111111');
    const create = operations.create?.build({ payloads, population });
    assert.equal(create?.method, 'POST');
    assert.equal(create?.path, '/products');
    const body = JSON.parse(create?.body ?? '{}');
    assert.equal(body.id, create?.productId);
    assert.equal(body.sku, `${payloads.create.skuPrefix}-${body.id}`);
    assert.ok(body.price.amount >= payloads.create.price.min && body.price.amount <= payloads.create.price.max);
    const price = operations.changePrice?.build({ payloads, population });
    assert.equal(price?.path, '/products/11111111-1111-4111-8111-111111111111/price');
    assert.equal(price?.method, 'PUT');
    const reserveSpec = operations.reserve?.build({ payloads, population, hotProductId: 'hot' });
    assert.equal(JSON.parse(reserveSpec?.body ?? '{}').quantity, payloads.reserve.quantity);
    assert.match(operations.list?.build({ payloads, population }).path ?? '', /^\/products\?limit=/);
  });

  test('spread limits which products are addressed', () => {
    const population = new Population();
    for (let i = 0; i < 100; i++) population.add(`id-${i}`);
    for (let i = 0; i < 200; i++) assert.match(population.pick(3), /^id-[012]$/);
  });

  test('an empty population is an error, not a request to undefined', () => {
    assert.throws(() => new Population().pick(), /no products/);
  });

  test('serviceOf tells single-service mixes from mixed ones', () => {
    assert.equal(serviceOf({ getById: 1, list: 2 }), 'query');
    assert.equal(serviceOf({ getById: 1, changePrice: 1 }), undefined);
    assert.throws(() => serviceOf({ teleport: 1 }), /unknown operation/);
  });
});

describe('noOversellCheck', () => {
  test('passes when every success took its own unit', () => {
    assert.equal(noOversellCheck('x', 10, 1, [9, 7, 8, 6]).passed, true);
  });

  test('fails on two reservations reporting the same stock', () => {
    assert.equal(noOversellCheck('x', 10, 1, [9, 8, 8, 7]).passed, false);
  });

  test('fails when the stock went below zero', () => {
    assert.equal(noOversellCheck('x', 2, 1, [1, 0, -1]).passed, false);
  });

  test('allows as many unanswered reservations as the run had connections, and no more', () => {
    assert.equal(noOversellCheck('x', 10, 1, [9, 8, 6], 1).passed, true);
    assert.equal(noOversellCheck('x', 10, 1, [9, 8, 5], 1).passed, false);
    assert.equal(noOversellCheck('x', 10, 1, [9, 8, 6]).passed, false);
  });

  test('fails when fewer units are gone than the successes took', () => {
    assert.equal(noOversellCheck('x', 10, 1, [9, 9, 8], 4).passed, false);
    assert.equal(noOversellCheck('x', 10, 2, [9, 8], 4).passed, false);
  });
});

describe('exhaustionCheck', () => {
  const base = { initialStock: 300, quantity: 1, attempts: 900, successes: 300, insufficientStock: 600, errors: 0 };

  test('passes when exactly the stock sold and the rest were refused', () => {
    assert.equal(exhaustionCheck('x', base).passed, true);
  });

  test('fails on oversell, undersell or another answer', () => {
    assert.equal(exhaustionCheck('x', { ...base, successes: 301, insufficientStock: 599 }).passed, false);
    assert.equal(exhaustionCheck('x', { ...base, successes: 299, insufficientStock: 600, errors: 1 }).passed, false);
    assert.equal(exhaustionCheck('x', { ...base, insufficientStock: 599, errors: 1 }).passed, false);
  });
});

describe('sumFields', () => {
  test('sums lag wherever /projections puts it', () => {
    assert.equal(
      sumFields(
        [
          { partition: 0, lag: 3 },
          { partition: 1, lag: 4 },
        ],
        LAG_FIELDS,
      ),
      7,
    );
    assert.equal(sumFields({ partitions: [{ lag: '5' }, { Lag: 1 }] }, LAG_FIELDS), 6);
    assert.equal(sumFields({ group: 'g', consumers: { a: { partitions: [{ lag: 2 }] } } }, LAG_FIELDS), 2);
  });

  test('reads end offsets under their usual names, and nothing when absent', () => {
    assert.equal(sumFields([{ endOffset: '10' }, { highWatermark: 5 }], END_OFFSET_FIELDS), 15);
    assert.equal(sumFields({ partitions: [] }, LAG_FIELDS), undefined);
    assert.equal(sumFields({ lag: 'behind' }, LAG_FIELDS), undefined);
  });
});

describe('pacedLoop', () => {
  const options = (iteration: () => Promise<void>) => ({
    label: 'test',
    ratePerSecond: 200,
    durationMs: 100,
    maxInFlight: 4,
    progressEveryMs: 60_000,
    recorder: new Recorder(),
    iteration,
  });

  test('starts the scheduled iterations', async () => {
    let calls = 0;
    const paced = await pacedLoop(
      options(async () => {
        calls++;
      }),
    );
    assert.equal(paced.started + paced.skipped, 20);
    assert.equal(calls, paced.started);
  });

  test('an iteration that throws ends the run with its error, not an unhandled rejection', async () => {
    let calls = 0;
    await assert.rejects(
      pacedLoop(
        options(async () => {
          calls++;
          await new Promise((resolve) => setTimeout(resolve, 1));
          throw new Error('no products to address');
        }),
      ),
      /no products to address/,
    );
    assert.ok(calls < 20, `stopped scheduling after the failure (${calls} started)`);
  });
});
