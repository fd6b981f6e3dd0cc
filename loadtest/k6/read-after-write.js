/*
 * k6 scenario "read-after-write": the time from a write's 2xx to the query service showing it.
 *
 * What it does
 *   setup()   creates `products` products (loadtest/scenarios.json: 1,000 full, 200 quick) and waits
 *             until the query service shows the last of them.
 *   default   at a constant arrival rate (the file's rate.perSecond, 200/s), changes one product's
 *             price, then asks GET /products/{id}?minVersion=<the write's version>&maxWaitMs=<maxWaitMs>.
 *             The query service holds that read until its view reaches the version, so the time from
 *             the write's answer to the read's 200 is the end-to-end lag (command service, outbox,
 *             Kafka, projection, view), recorded in the read_after_write_lag trend.
 *             `npm run bench` runs it at that rate and again at half the write rate it measured.
 *
 * Thresholds (from loadtest/scenarios.json)
 *   read_after_write_lag     p(99) < thresholds.p99Ms (250 ms)
 *   read_after_write_visible rate  > 1 - thresholds.errorRate (visible within maxWaitMs)
 *   http_req_failed          rate  < thresholds.errorRate
 *   dropped_iterations       count == 0 (raise VUS if the service is too slow for the rate)
 *
 * Environment
 *   COMMAND_URL, QUERY_URL  services (defaults http://127.0.0.1:8080 and :8081)
 *   TOKEN                   bearer token for the command API (required)
 *   RATE                    writes per second (default: the file's rate.perSecond)
 *   VUS                     pre-allocated virtual users, the most iterations in flight (default: the file's)
 *   DURATION, PRODUCTS      defaults: the file's
 *   QUICK=1                 the file's quick sizes
 *
 * Run against the local stack (npm run up -- --detach):
 *   k6 run -e TOKEN="$(head -1 .stack/api-token)" loadtest/k6/read-after-write.js
 * Run against Minikube (Ingress hosts mapped to `minikube ip` in /etc/hosts):
 *   k6 run -e COMMAND_URL=http://command.catalog.local -e QUERY_URL=http://query.catalog.local \
 *     -e TOKEN="$(kubectl -n cqrs-system get secret command-secrets -o jsonpath='{.data.COMMAND_API_TOKENS}' | base64 -d | cut -d, -f1)" \
 *     loadtest/k6/read-after-write.js
 */
import { check, fail } from 'k6';
import crypto from 'k6/crypto';
import http from 'k6/http';
import { Rate, Trend } from 'k6/metrics';

const FILE = JSON.parse(open('../scenarios.json'));
const NAME = 'read-after-write';
const SCENARIO = FILE.scenarios[NAME];
const SIZE = __ENV.QUICK === '1' ? 'quick' : 'full';
const COMMAND_URL = __ENV.COMMAND_URL || 'http://127.0.0.1:8080';
const QUERY_URL = __ENV.QUERY_URL || 'http://127.0.0.1:8081';
const TOKEN = __ENV.TOKEN || '';
const VUS = Number(__ENV.VUS || SCENARIO.vus);
const RATE = Number(__ENV.RATE || SCENARIO.rate.perSecond);
const DURATION = __ENV.DURATION || SCENARIO.duration[SIZE];
const PRODUCTS = Number(__ENV.PRODUCTS || SCENARIO.products[SIZE]);

if (!TOKEN) throw new Error('set TOKEN to a command API bearer token (local stack: head -1 .stack/api-token)');

const lag = new Trend('read_after_write_lag', true);
const visible = new Rate('read_after_write_visible');

export const options = {
  scenarios: {
    [NAME]: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: VUS,
    },
  },
  thresholds: {
    read_after_write_lag: [`p(99)<${SCENARIO.thresholds.p99Ms}`],
    read_after_write_visible: [`rate>${1 - SCENARIO.thresholds.errorRate}`],
    [`http_req_failed{scenario:${NAME}}`]: [`rate<${SCENARIO.thresholds.errorRate}`],
    dropped_iterations: ['count==0'],
  },
  setupTimeout: '10m',
};

function uuid() {
  const bytes = new Uint8Array(crypto.randomBytes(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => (b < 16 ? '0' : '') + b.toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const randomInt = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));

function pick(mix) {
  const entries = Object.entries(mix);
  let ticket = Math.random() * entries.reduce((sum, entry) => sum + entry[1], 0);
  for (const [name, weight] of entries) {
    ticket -= weight;
    if (ticket < 0) return name;
  }
  return entries[entries.length - 1][0];
}

function writeParams() {
  return {
    headers: {
      Authorization: `Bearer ${TOKEN}`,
      'Content-Type': 'application/json',
      'Idempotency-Key': uuid(),
    },
  };
}

function jsonOf(response) {
  try {
    return response.json();
  } catch (_) {
    return null;
  }
}

function waitForVersion(id, version) {
  return http.get(`${QUERY_URL}/products/${id}?minVersion=${version}&maxWaitMs=${SCENARIO.maxWaitMs}`);
}

export function setup() {
  const p = FILE.payloads.create;
  const ids = [];
  for (let start = 0; start < PRODUCTS; start += 100) {
    const batch = [];
    for (let i = start; i < Math.min(PRODUCTS, start + 100); i++) {
      const id = uuid();
      const body = {
        id,
        sku: `${p.skuPrefix}-${id}`,
        name: p.name,
        description: p.description,
        price: { amount: randomInt(p.price.min, p.price.max), currency: p.price.currency },
        initialStock: p.initialStock,
      };
      batch.push(['POST', `${COMMAND_URL}/products`, JSON.stringify(body), writeParams()]);
    }
    for (const response of http.batch(batch)) {
      if (check(response, { 'setup create answered 201': (r) => r.status === 201 })) ids.push(jsonOf(response).id);
    }
  }
  if (ids.length === 0) fail(`setup created no product at ${COMMAND_URL}`);
  const last = waitForVersion(ids[ids.length - 1], 1);
  if (last.status !== 200) fail(`the query service did not show the setup's products: ${last.status}`);
  return { ids };
}

export default function (data) {
  const id = data.ids[Math.floor(Math.random() * data.ids.length)];
  switch (pick(SCENARIO.mix)) {
    case 'changePrice': {
      const p = FILE.payloads.changePrice;
      const body = JSON.stringify({ amount: randomInt(p.min, p.max), currency: p.currency });
      const written = http.put(`${COMMAND_URL}/products/${id}/price`, body, writeParams());
      const version = jsonOf(written)?.version;
      if (!check(written, { 'changePrice answered 200 with a version': (r) => r.status === 200 && version >= 1 })) {
        return;
      }
      const acknowledged = Date.now();
      const read = waitForVersion(id, version);
      const seen = jsonOf(read)?.version;
      const shown = read.status === 200 && seen >= version;
      visible.add(shown);
      if (check(read, { 'the view reached the written version': () => shown })) lag.add(Date.now() - acknowledged);
      break;
    }
    default:
      throw new Error('scenarios.json names an operation this script does not implement');
  }
}
