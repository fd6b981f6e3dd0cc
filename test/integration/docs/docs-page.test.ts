import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'puppeteer-core';
import { launchBrowser } from '../../support/browser.ts';
import { type CommandService, startCommandService, stopAll } from '../../support/command-service.ts';
import { repoRoot } from '../../unit/deploy/lib/manifests.ts';

/**
 * /docs in headless Chromium: Scalar's reference renders the command service's OpenAPI document from
 * the service's own assets alone (no request leaves the service's origin), and its client sends a
 * create that the service answers with 201. The screenshot goes to test-results/ (not tracked);
 * docs/api-reference.png, which README shows, is a copy of one.
 */

const SCREENSHOT = join(repoRoot, 'test-results', 'docs', 'api-reference.png');

let command: CommandService;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

before(async () => {
  command = await startCommandService();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopAll();
});

/** The first `tag` element whose text contains `text`. */
async function byText(page: Page, tag: string, text: string) {
  const found = await page.waitForSelector(`xpath/.//${tag}[contains(., ${JSON.stringify(text)})]`, {
    timeout: 30_000,
  });
  assert.ok(found, `no ${tag} with ${text}`);
  return found;
}

test('/docs renders from the service alone and sends a create from the page', async () => {
  const page = await browser.browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  const origin = new URL(command.url).origin;
  const elsewhere: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(origin) && !request.url().startsWith('data:')) elsewhere.push(request.url());
  });

  await page.goto(`${command.url}/docs`, { waitUntil: 'networkidle0', timeout: 60_000 });
  await byText(page, 'h1', 'cqrs-catalog command API');

  await (await byText(page, 'button', 'Test Request')).click();
  const tokenInput = await page.waitForSelector('input[placeholder="Token"]', { timeout: 30_000 });
  assert.ok(tokenInput);
  await tokenInput.type(command.token);

  // The body is the document's example (npm test empties the tests' database at each run, and no
  // other test uses its SKU). Typing into the client's body editor changed the editor, not the request.
  const answered = page.waitForResponse(
    (r) => r.url() === `${command.url}/products` && r.request().method() === 'POST',
  );
  await (await byText(page, 'button', 'Send')).click();
  const response = await answered;
  assert.equal(response.status(), 201, await response.text());
  const created = (await response.json()) as { id: string; version: number };
  assert.equal(created.version, 1);
  await byText(page, 'body', '201');

  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
  assert.deepEqual(elsewhere, [], 'the page reached beyond the service');

  const events = await command.request('GET', `/products/${created.id}/events`);
  assert.equal(events.status, 200);
  // The product the page created is the document's example.
  const openapi = (await (await fetch(`${command.url}/openapi.json`)).json()) as {
    paths: {
      '/products': { post: { requestBody: { content: { 'application/json': { example: { sku: string } } } } } };
    };
  };
  const example = openapi.paths['/products'].post.requestBody.content['application/json'].example;
  assert.equal((events.body as { items: { data: { sku: string } }[] }).items[0]?.data.sku, example.sku);
});
