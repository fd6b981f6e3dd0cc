/*
 * k6 scenario "catalog-writes": creates, price changes and detail updates spread over many products.
 *
 * What it does
 *   setup()   creates `products` products (loadtest/scenarios.json, 10,000 full / 2,000 quick) in
 *             batches, so the price changes and detail updates have many different aggregates to hit.
 *   default   each virtual user picks an operation by the scenario's weights (create 10, changePrice 70,
 *             updateDetails 20) and checks its answer: 201 / 200 with {id, version}.
 *             PART=create or PART=price-change runs one of the file's single-operation parts instead,
 *             the same parts `npm run bench` measures beside the naive baseline.
 *
 * Thresholds (from loadtest/scenarios.json, over this scenario's requests, setup excluded)
 *   http_req_duration p(99) < thresholds.p99Ms (50 ms)
 *   http_req_failed   rate  < thresholds.errorRate (1 %)
 *   checks            rate  > 1 - thresholds.errorRate
 *
 * Environment
 *   COMMAND_URL  command service (default http://127.0.0.1:8080)
 *   TOKEN        bearer token for the command API (required)
 *   VUS          virtual users (default: the file's vus, 64)
 *   DURATION     e.g. 30s, 2m (default: the file's duration)
 *   PRODUCTS     products created in setup (default: the file's products)
 *   QUICK=1      the file's quick sizes
 *   PART         create | price-change (default: the full mix)
 *
 * Run against the local stack (npm run up -- --detach):
 *   k6 run -e TOKEN="$(head -1 .stack/api-token)" loadtest/k6/catalog-writes.js
 * Run against Minikube (Ingress hosts mapped to `minikube ip` in /etc/hosts):
 *   k6 run -e COMMAND_URL=http://command.catalog.local \
 *     -e TOKEN="$(kubectl -n cqrs-system get secret command-secrets -o jsonpath='{.data.COMMAND_API_TOKENS}' | base64 -d | cut -d, -f1)" \
 *     loadtest/k6/catalog-writes.js
 */
import { check } from 'k6';
import crypto from 'k6/crypto';
import http from 'k6/http';

const FILE = JSON.parse(open('../scenarios.json'));
const NAME = 'catalog-writes';
const SCENARIO = FILE.scenarios[NAME];
const SIZE = __ENV.QUICK === '1' ? 'quick' : 'full';
const COMMAND_URL = __ENV.COMMAND_URL || 'http://127.0.0.1:8080';
const TOKEN = __ENV.TOKEN || '';
const VUS = Number(__ENV.VUS || SCENARIO.vus);
const DURATION = __ENV.DURATION || SCENARIO.duration[SIZE];
const PRODUCTS = Number(__ENV.PRODUCTS || SCENARIO.products[SIZE]);
const MIX = __ENV.PART ? SCENARIO.parts[__ENV.PART] : SCENARIO.mix;

if (!TOKEN) throw new Error('set TOKEN to a command API bearer token (local stack: head -1 .stack/api-token)');
if (!MIX) throw new Error(`unknown PART ${__ENV.PART}; the file defines ${Object.keys(SCENARIO.parts).join(', ')}`);

export const options = {
  scenarios: { [NAME]: { executor: 'constant-vus', vus: VUS, duration: DURATION } },
  thresholds: {
    [`http_req_duration{scenario:${NAME}}`]: [`p(99)<${SCENARIO.thresholds.p99Ms}`],
    [`http_req_failed{scenario:${NAME}}`]: [`rate<${SCENARIO.thresholds.errorRate}`],
    [`checks{scenario:${NAME}}`]: [`rate>${1 - SCENARIO.thresholds.errorRate}`],
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

function createRequest(id) {
  const p = FILE.payloads.create;
  const body = {
    id,
    sku: `${p.skuPrefix}-${id}`,
    name: p.name,
    description: p.description,
    price: { amount: randomInt(p.price.min, p.price.max), currency: p.price.currency },
    initialStock: p.initialStock,
  };
  return ['POST', `${COMMAND_URL}/products`, JSON.stringify(body), writeParams()];
}

const answered = (status) => (r) => {
  const body = jsonOf(r);
  return r.status === status && body !== null && typeof body.id === 'string' && body.version >= 1;
};

export function setup() {
  const ids = [];
  for (let start = 0; start < PRODUCTS; start += 100) {
    const batch = [];
    for (let i = start; i < Math.min(PRODUCTS, start + 100); i++) batch.push(createRequest(uuid()));
    for (const response of http.batch(batch)) {
      if (check(response, { 'setup create answered 201': answered(201) })) ids.push(jsonOf(response).id);
    }
  }
  if (ids.length === 0) throw new Error(`setup created no product at ${COMMAND_URL}`);
  return { ids };
}

export default function (data) {
  const id = data.ids[Math.floor(Math.random() * data.ids.length)];
  switch (pick(MIX)) {
    case 'create': {
      const [method, url, body, params] = createRequest(uuid());
      check(http.request(method, url, body, params), { 'create answered 201 with id and version': answered(201) });
      break;
    }
    case 'changePrice': {
      const p = FILE.payloads.changePrice;
      const body = JSON.stringify({ amount: randomInt(p.min, p.max), currency: p.currency });
      check(http.put(`${COMMAND_URL}/products/${id}/price`, body, writeParams()), {
        'changePrice answered 200 with id and version': answered(200),
      });
      break;
    }
    case 'updateDetails': {
      const p = FILE.payloads.updateDetails;
      const body = JSON.stringify({
        name: `${p.namePrefix} ${randomInt(0, 999999)}`,
        description: 'x'.repeat(p.descriptionLength),
      });
      check(http.patch(`${COMMAND_URL}/products/${id}`, body, writeParams()), {
        'updateDetails answered 200 with id and version': answered(200),
      });
      break;
    }
    default:
      throw new Error('scenarios.json names an operation this script does not implement');
  }
}
