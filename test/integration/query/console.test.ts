/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { repoRoot } from '../../../scripts/stack/paths.ts';
import type { Sql } from '../../../src/infra/postgres.ts';
import type { ProductEnvelope } from '../../../src/projections/record.ts';
import { launchBrowser } from '../../support/browser.ts';
import { type CommandService, startCommandService, stopAll } from '../../support/command-service.ts';
import { eventually } from '../../support/env.ts';
import { StreamBuilder } from '../../unit/projections/stream-builder.ts';
import { QueryBed } from './support/bed.ts';
import { catalogEvents } from './support/catalog.ts';
import { privateEventStore } from './support/event-store.ts';
import { recordOf, storeEvents } from './support/events.ts';
import { ADMIN_TOKEN, freePort, getJson, type QueryService, startQueryService } from './support/service.ts';

/**
 * The operations console in a real browser (Debian Chromium through puppeteer-core) against a query
 * service, a command service taking writes, Kafka and FerretDB: lag moving live, a poison event in the
 * dead-letter table, its re-drive, a rebuild's progress, and the stream surviving a restart.
 */

const bed = new QueryBed('console', 3);
const screenshots = join(repoRoot, 'test-results', 'console');
let store: { sql: Sql; url: string; drop: () => Promise<void> };
let command: CommandService;
let query: QueryService;
let port: number;
let browser: { browser: Browser; close: () => Promise<void> } | undefined;
let page: Page;
const requested: string[] = [];

const startQuery = () => startQueryService({ ...bed.service, port, env: { DATABASE_URL: store.url } });

/** Appends to the event store and publishes to the topic, as the command side and its relay do. */
async function append(events: ProductEnvelope[]): Promise<void> {
  await storeEvents(store.sql, events);
  await bed.publish(events);
}

/** Writes through the command API, four at a time, until `stop()`. */
function writeLoad(): { stop: () => Promise<number> } {
  let running = true;
  let acknowledged = 0;
  const ids: string[] = [];
  const writer = async () => {
    while (running) {
      const id = ids.length < 20 || Math.random() < 0.3 ? randomUUID() : ids[Math.floor(Math.random() * ids.length)];
      const reply =
        id && ids.includes(id)
          ? await command.request('PUT', `/products/${id}/price`, {
              amount: 100 + Math.floor(Math.random() * 10_000),
              currency: 'EUR',
            })
          : await command.request(
              'POST',
              '/products',
              { id, sku: `CONSOLE-${id}`, name: 'Console mug', price: { amount: 1200, currency: 'EUR' } },
              { 'idempotency-key': randomUUID() },
            );
      if (reply.status < 300) {
        acknowledged += 1;
        if (id && !ids.includes(id)) ids.push(id);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const writers = Array.from({ length: 4 }, writer);
  return {
    stop: async () => {
      running = false;
      await Promise.all(writers);
      return acknowledged;
    },
  };
}

const text = (selector: string) => page.$eval(selector, (node) => node.textContent ?? '');

async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: join(screenshots, `${name}.png`) as `${string}.png`, fullPage: true });
}

before(async () => {
  mkdirSync(screenshots, { recursive: true });
  await bed.open();
  store = await privateEventStore();
  await append(catalogEvents(60, 4));
  port = await freePort();
  [command, query] = await Promise.all([
    startCommandService({ env: { KAFKA_TOPIC: bed.topic, DATABASE_URL: store.url, OUTBOX_POLL_MS: '200' } }),
    startQuery(),
  ]);
  browser = await launchBrowser();
  page = await browser.browser.newPage();
  await page.setViewport({ width: 1280, height: 1000 });
  page.on('request', (request) => {
    requested.push(request.url());
  });
});

after(async () => {
  await browser?.close();
  await query?.stop();
  await stopAll();
  await bed.close();
  await store?.drop();
});

test('the console shows lag live, a poison event, its re-drive and a rebuild, and reconnects after a restart', async () => {
  const markup = '<img src=x onerror="window.__injected=1">Mug <b>bold</b>';
  const poison = new StreamBuilder().created({ name: markup });
  const load = writeLoad();
  try {
    await page.goto(`${query.url}/console`);
    await page.waitForSelector('#connection[data-state="live"]', { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelectorAll('#partitions tbody tr').length === 3, {
      timeout: 30_000,
    });

    // Lag: a burst of events appears on the page as lag, then drains, without the page asking again.
    const seen: number[] = [];
    const watch = setInterval(() => {
      text('#total-lag')
        .then((value) => {
          const lag = Number(value.replaceAll(',', ''));
          if (Number.isFinite(lag)) seen.push(lag);
        })
        .catch(() => {});
    }, 100);
    try {
      await append(catalogEvents(2000, 4));
      await eventually(async () => seen.some((lag) => lag >= 100), { timeoutMs: 60_000, what: 'lag on the page' });
      const peak = Math.max(...seen);
      await eventually(async () => (seen.at(-1) ?? peak) < peak / 2, {
        timeoutMs: 120_000,
        what: 'the lag on the page to drain',
      });
    } finally {
      clearInterval(watch);
    }
    assert.ok(new Set(seen).size >= 3, `the lag took several values on the page: ${[...new Set(seen)].join(', ')}`);
    const sparkline = await page.$eval('#partitions tbody tr .spark polyline', (node) => node.getAttribute('points'));
    assert.ok((sparkline ?? '').split(' ').length > 2, 'each partition has a lag line');

    // A poison event: a valid ProductCreated under another product's key. Its name is markup.
    await bed.producer.send({
      topic: bed.topic,
      acks: -1,
      messages: [{ ...recordOf(poison), key: randomUUID() }],
    });
    await page.waitForFunction(
      (id) =>
        Array.from(document.querySelectorAll('#dead-letters tbody tr')).some((tr) => tr.textContent?.includes(id)),
      { timeout: 60_000 },
      poison.aggregateId,
    );
    const shown = await page.evaluate((id) => {
      const tr = Array.from(document.querySelectorAll<HTMLElement>('#dead-letters tbody tr')).find((row) =>
        row.textContent?.includes(id),
      );
      return {
        coordinates: tr?.dataset.dlq,
        reason: tr?.querySelector('.reason')?.firstChild?.textContent,
        record: tr?.querySelector('pre')?.textContent,
        images: tr?.querySelectorAll('img, b').length,
      };
    }, poison.aggregateId);
    assert.equal(shown.reason, 'key-mismatch');
    assert.ok(shown.record?.includes(markup.replaceAll('"', '\\"')), 'the record is shown as text, markup included');
    assert.equal(shown.images, 0, 'no markup from the record became an element');
    assert.equal(await page.evaluate(() => (window as unknown as { __injected?: number }).__injected), undefined);
    await page.$eval(`#dead-letters tr[data-dlq="${shown.coordinates}"] details`, (node) => {
      (node as HTMLDetailsElement).open = true;
    });
    await shoot('dead-letter');

    // Re-drive it with the admin token, entered once for the session: keyed by its product id now,
    // it reaches that product's partition and is applied.
    assert.equal((await getJson(`${query.url}/products/${poison.aggregateId}`)).status, 404);
    await page.type('#token', ADMIN_TOKEN);
    await page.click('#token-form button[type="submit"]');
    await page.click(`#dead-letters tr[data-dlq="${shown.coordinates}"] button`);
    await page.waitForFunction(() => document.querySelector('#redrive-result')?.textContent?.startsWith('Re-drove 1'), {
      timeout: 30_000,
    });
    const product = await getJson<{ name: string; version: number }>(
      `${query.url}/products/${poison.aggregateId}?minVersion=1&maxWaitMs=10000`,
    );
    assert.equal(product.status, 200);
    assert.equal(product.body.name, markup);
    await page.waitForFunction(
      (coordinates) => document.querySelector(`#dead-letters tr[data-dlq="${coordinates}"] .action small`) !== null,
      { timeout: 30_000 },
      shown.coordinates,
    );
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cqrs-catalog.admin-token')), ADMIN_TOKEN);

    // A re-drive no longer needed changes nothing: the version guard drops it as a duplicate.
    const duplicates = async () => {
      const metrics = await (await fetch(`${query.url}/metrics`)).text();
      return Number(/projection_events_total\{[^}]*outcome="duplicate"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
    };
    const before = await duplicates();
    const [partition, offset] = (shown.coordinates ?? '').split(':');
    const again = await fetch(`${query.url}/admin/dead-letters/${partition}/${offset}/redrive`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(again.status, 200);
    await eventually(async () => (await duplicates()) > before, { timeoutMs: 30_000, what: 'the duplicate' });
    const unchanged = await getJson<{ version: number }>(`${query.url}/products/${poison.aggregateId}`);
    assert.equal(unchanged.body.version, 1);
    const metrics = await (await fetch(`${query.url}/metrics`)).text();
    assert.match(metrics, /projection_dead_letter_redrives_total\{[^}]*reason="key-mismatch"[^}]*\} 2/);

    // A gap: version 3 of a product whose version 2 is missing waits, shown with its age, until 2 arrives.
    const gap = new StreamBuilder();
    const [created, second, third] = [gap.created(), gap.priceChanged(2000), gap.priceChanged(2100)];
    await append([created]);
    await bed.publish([third]);
    // Functions run in the page, so each finds the row itself.
    await page.waitForFunction(
      (id) => Array.from(document.querySelectorAll('#parked tbody tr')).some((tr) => tr.textContent?.includes(id)),
      { timeout: 60_000 },
      gap.id,
    );
    const parked = await page.evaluate((id) => {
      const row = Array.from(document.querySelectorAll('#parked tbody tr')).find((tr) => tr.textContent?.includes(id));
      return Array.from(row?.querySelectorAll('td') ?? []).map((td) => td.textContent);
    }, gap.id);
    assert.equal(parked[2], '3', 'the parked version');
    assert.match(parked[4] ?? '', /\d+ s$/, 'how long it has waited');
    assert.match(await text('#parked-summary'), /wait for a missing version/);
    await storeEvents(store.sql, [second, third]);
    await bed.publish([second]);
    await page.waitForFunction(
      (id) => !Array.from(document.querySelectorAll('#parked tbody tr')).some((tr) => tr.textContent?.includes(id)),
      { timeout: 60_000 },
      gap.id,
    );

    // A rebuild started from the page, followed on the page until the switch.
    await page.click('#start-rebuild');
    await page.waitForFunction(() => document.querySelector('#rebuild-result')?.textContent?.includes('started'), {
      timeout: 30_000,
    });
    const phases = new Set<string>();
    let percentSeen = 0;
    await eventually(
      async () => {
        const phase = await text('#rebuild-phase');
        phases.add(phase);
        percentSeen = Math.max(
          percentSeen,
          await page.$eval('#rebuild-progress', (node) => (node as HTMLProgressElement).value),
        );
        assert.notEqual(phase, 'failed', await text('#rebuild-summary'));
        return phase === 'done';
      },
      { timeoutMs: 240_000, intervalMs: 200, what: 'the rebuild to finish on the page' },
    );
    assert.equal(percentSeen, 100);
    assert.match(await text('#rebuild-events'), /^[\d,]+ of [\d,]+$/);
    assert.match(await text('#rebuild-rate'), /^[\d,]+ events\/s$/);
    console.log(`# rebuild phases seen on the page: ${[...phases].join(', ')}`);
    await page.waitForFunction(() => document.querySelector('#generation')?.textContent === '2', { timeout: 60_000 });
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('#partitions tbody tr td:nth-of-type(1)')).every(
          (cell) => cell.textContent === 'running',
        ),
      { timeout: 60_000 },
    );
    await shoot('console');
  } finally {
    console.log(`# ${await load.stop()} writes acknowledged while the console was open`);
  }

  // No polling: the page opened one stream and never asked for the status as JSON.
  const pathOf = (url: string) => new URL(url).pathname;
  assert.equal(requested.filter((url) => pathOf(url) === '/projections').length, 0);
  assert.equal(requested.filter((url) => pathOf(url) === '/projections/stream').length, 1);
  assert.ok(
    requested.every((url) => !url.includes(ADMIN_TOKEN)),
    'the token never travels in a URL',
  );

  // A restart of the service: the browser reconnects by itself and shows the new process's data.
  const startedBefore = await text('#service-started');
  await query.stop();
  await page.waitForSelector('#connection[data-state="reconnecting"]', { timeout: 30_000 });
  query = await startQuery();
  await page.waitForFunction(
    (previous) =>
      document.querySelector('#connection')?.getAttribute('data-state') === 'live' &&
      document.querySelector('#service-started')?.textContent !== previous,
    { timeout: 60_000 },
    startedBefore,
  );
  assert.match(await text('#connection'), /restarted/);
  // The new process reads the dead-letter topic from its latest records back: the letter is there again.
  await page.waitForFunction(
    (id) => Array.from(document.querySelectorAll('#dead-letters tbody tr')).some((tr) => tr.textContent?.includes(id)),
    { timeout: 60_000 },
    poison.aggregateId,
  );
  await shoot('reconnected');
});
