/*
 * k6 scenario "read-heavy": 90 % reads (by id, list pages, stats) and 10 % writes, with read-your-writes.
 *
 * What it does
 *   setup()   creates `products` products (loadtest/scenarios.json: 1,000 full, 200 quick) and waits
 *             until the query service shows the last of them.
 *   default   each virtual user picks an operation by the file's weights (getById 60, list 25, stats 5,
 *             changePrice 7, updateDetails 3). Reads are checked for their shape; every write is read
 *             back at once with GET /products/{id}?minVersion=<its version>&maxWaitMs=<maxWaitMs>,
 *             which must answer 200 with at least that version (read-your-writes).
 *             PART=get-by-id or PART=list runs one of the file's read-only parts instead, the same
 *             parts `npm run bench` measures beside the trivial endpoint.
 *
 * Thresholds (from loadtest/scenarios.json, over this scenario's requests, setup excluded)
 *   http_req_duration p(99) < thresholds.p99Ms (100 ms); the read-your-writes reads wait by design
 *                     and are excluded (their wait is the read_your_writes_wait trend)
 *   http_req_failed   rate  < thresholds.errorRate (1 %)
 *   checks            rate  > 1 - thresholds.errorRate
 *   read_your_writes  rate == 1 (every write visible at its version within maxWaitMs)
 *
 * Environment
 *   COMMAND_URL, QUERY_URL  services (defaults http://127.0.0.1:8080 and :8081)
 *   TOKEN                   bearer token for the command API (required)
 *   VUS, DURATION           virtual users and duration (defaults: the file's)
 *   PRODUCTS                products created in setup (default: the file's)
 *   QUICK=1                 the file's quick sizes
 *   PART                    get-by-id | list (default: the full mix)
 *
 * Run against the local stack (npm run up -- --detach):
 *   k6 run -e TOKEN="$(head -1 .stack/api-token)" loadtest/k6/read-heavy.js
 * Run against Minikube (Ingress hosts mapped to `minikube ip` in /etc/hosts):
 *   k6 run -e COMMAND_URL=http://command.catalog.local -e QUERY_URL=http://query.catalog.local \
 *     -e TOKEN="$(kubectl -n cqrs-system get secret command-secrets -o jsonpath='{.data.COMMAND_API_TOKENS}' | base64 -d | cut -d, -f1)" \
 *     loadtest/k6/read-heavy.js
 */
import { check, fail } from 'k6';
import crypto from 'k6/crypto';
import http from 'k6/http';
import { Rate, Trend } from 'k6/metrics';

const FILE = JSON.parse(open('../scenarios.json'));
const NAME = 'read-heavy';
const SCENARIO = FILE.scenarios[NAME];
const SIZE = __ENV.QUICK === '1' ? 'quick' : 'full';
const COMMAND_URL = __ENV.COMMAND_URL || 'http://127.0.0.1:8080';
const QUERY_URL = __ENV.QUERY_URL || 'http://127.0.0.1:8081';
const TOKEN = __ENV.TOKEN || '';
const VUS = Number(__ENV.VUS || SCENARIO.vus);
const DURATION = __ENV.DURATION || SCENARIO.duration[SIZE];
const PRODUCTS = Number(__ENV.PRODUCTS || SCENARIO.products[SIZE]);
const MIX = __ENV.PART ? SCENARIO.parts[__ENV.PART] : SCENARIO.mix;

if (!TOKEN) throw new Error('set TOKEN to a command API bearer token (local stack: head -1 .stack/api-token)');
if (!MIX) throw new Error(`unknown PART ${__ENV.PART}; the file defines ${Object.keys(SCENARIO.parts).join(', ')}`);

const readYourWrites = new Rate('read_your_writes');
const readYourWritesWait = new Trend('read_your_writes_wait', true);

export const options = {
  scenarios: { [NAME]: { executor: 'constant-vus', vus: VUS, duration: DURATION } },
  thresholds: {
    [`http_req_duration{scenario:${NAME},kind:plain}`]: [`p(99)<${SCENARIO.thresholds.p99Ms}`],
    [`http_req_failed{scenario:${NAME}}`]: [`rate<${SCENARIO.thresholds.errorRate}`],
    [`checks{scenario:${NAME}}`]: [`rate>${1 - SCENARIO.thresholds.errorRate}`],
    read_your_writes: ['rate==1'],
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
    tags: { kind: 'plain' },
  };
}

const READ = { tags: { kind: 'plain' } };

function jsonOf(response) {
  try {
    return response.json();
  } catch (_) {
    return null;
  }
}

function waitForVersion(id, version) {
  return http.get(`${QUERY_URL}/products/${id}?minVersion=${version}&maxWaitMs=${SCENARIO.maxWaitMs}`, {
    tags: { kind: 'read-your-writes' },
  });
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

function readBack(id, written) {
  const version = jsonOf(written)?.version;
  if (typeof version !== 'number') return;
  const started = Date.now();
  const response = waitForVersion(id, version);
  readYourWritesWait.add(Date.now() - started);
  const seen = jsonOf(response)?.version;
  readYourWrites.add(response.status === 200 && seen >= version);
}

export default function (data) {
  const id = data.ids[Math.floor(Math.random() * data.ids.length)];
  switch (pick(MIX)) {
    case 'getById': {
      const response = http.get(`${QUERY_URL}/products/${id}`, READ);
      check(response, {
        'getById answered 200 with the product': (r) => r.status === 200 && jsonOf(r)?.id === id,
      });
      break;
    }
    case 'list': {
      const queries = FILE.payloads.list.queries;
      const response = http.get(`${QUERY_URL}/products?${queries[Math.floor(Math.random() * queries.length)]}`, READ);
      check(response, {
        'list answered 200 with items': (r) => r.status === 200 && Array.isArray(jsonOf(r)?.items),
      });
      break;
    }
    case 'stats': {
      const response = http.get(`${QUERY_URL}/stats`, READ);
      check(response, {
        'stats answered 200': (r) => r.status === 200 && typeof jsonOf(r)?.activeProducts === 'number',
      });
      break;
    }
    case 'changePrice': {
      const p = FILE.payloads.changePrice;
      const body = JSON.stringify({ amount: randomInt(p.min, p.max), currency: p.currency });
      const response = http.put(`${COMMAND_URL}/products/${id}/price`, body, writeParams());
      if (check(response, { 'changePrice answered 200': (r) => r.status === 200 })) readBack(id, response);
      break;
    }
    case 'updateDetails': {
      const p = FILE.payloads.updateDetails;
      const body = JSON.stringify({
        name: `${p.namePrefix} ${randomInt(0, 999999)}`,
        description: 'x'.repeat(p.descriptionLength),
      });
      const response = http.patch(`${COMMAND_URL}/products/${id}`, body, writeParams());
      if (check(response, { 'updateDetails answered 200': (r) => r.status === 200 })) readBack(id, response);
      break;
    }
    default:
      throw new Error('scenarios.json names an operation this script does not implement');
  }
}
