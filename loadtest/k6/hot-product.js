/*
 * k6 scenario "hot-product": every virtual user reserves stock on the same product until it sells out.
 *
 * What it does
 *   setup()    creates one product with `initialStock` units (loadtest/scenarios.json: 2,000 full,
 *              300 quick).
 *   default    POST /products/{id}/stock/reservations {quantity: 1}; shared-iterations runs exactly
 *              initialStock x attemptsPerUnit (3) attempts across all virtual users, so two thirds of
 *              them must be refused. Each answer is checked: 201 with the stock left (>= 0), or 409
 *              problem+json whose `type` ends in /insufficient-stock. Anything else fails a check.
 *   teardown() reads the product's events from the event store and its view: exactly initialStock
 *              StockReserved events, final stock 0, never below; a mismatch fails the run.
 *
 * Thresholds (from loadtest/scenarios.json unless stated)
 *   http_req_duration p(99) < thresholds.p99Ms (100 ms), over the reservations
 *   http_req_failed   rate  < thresholds.errorRate (201 and 409 count as expected answers)
 *   reservations_succeeded   count == initialStock              (no oversell, no undersell)
 *   reservations_refused     count == attempts - initialStock   (the rest were insufficient-stock)
 *   checks{phase:teardown}   rate == 1                          (event store and view agree)
 *
 * Environment
 *   COMMAND_URL, QUERY_URL  services (defaults http://127.0.0.1:8080 and :8081)
 *   TOKEN                   bearer token for the command API (required)
 *   VUS                     virtual users (default: the file's vus, 64)
 *   STOCK                   initial stock (default: the file's initialStock)
 *   DURATION                upper bound of the run (default: the file's maxDuration, 5m)
 *   QUICK=1                 the file's quick sizes
 *
 * Run against the local stack (npm run up -- --detach):
 *   k6 run -e TOKEN="$(head -1 .stack/api-token)" loadtest/k6/hot-product.js
 * Run against Minikube (Ingress hosts mapped to `minikube ip` in /etc/hosts):
 *   k6 run -e COMMAND_URL=http://command.catalog.local -e QUERY_URL=http://query.catalog.local \
 *     -e TOKEN="$(kubectl -n cqrs-system get secret command-secrets -o jsonpath='{.data.COMMAND_API_TOKENS}' | base64 -d | cut -d, -f1)" \
 *     loadtest/k6/hot-product.js
 */
import { check, fail } from 'k6';
import crypto from 'k6/crypto';
import http from 'k6/http';
import { Counter } from 'k6/metrics';

const FILE = JSON.parse(open('../scenarios.json'));
const NAME = 'hot-product';
const SCENARIO = FILE.scenarios[NAME];
const SIZE = __ENV.QUICK === '1' ? 'quick' : 'full';
const COMMAND_URL = __ENV.COMMAND_URL || 'http://127.0.0.1:8080';
const QUERY_URL = __ENV.QUERY_URL || 'http://127.0.0.1:8081';
const TOKEN = __ENV.TOKEN || '';
const VUS = Number(__ENV.VUS || SCENARIO.vus);
const STOCK = Number(__ENV.STOCK || SCENARIO.initialStock[SIZE]);
const QUANTITY = FILE.payloads.reserve.quantity;
const ATTEMPTS = STOCK * SCENARIO.attemptsPerUnit;
const EXPECTED_SUCCESSES = Math.floor(STOCK / QUANTITY);

if (!TOKEN) throw new Error('set TOKEN to a command API bearer token (local stack: head -1 .stack/api-token)');

const succeeded = new Counter('reservations_succeeded');
const refused = new Counter('reservations_refused');

export const options = {
  scenarios: {
    [NAME]: {
      executor: 'shared-iterations',
      vus: VUS,
      iterations: ATTEMPTS,
      maxDuration: __ENV.DURATION || SCENARIO.maxDuration,
    },
  },
  thresholds: {
    [`http_req_duration{scenario:${NAME}}`]: [`p(99)<${SCENARIO.thresholds.p99Ms}`],
    [`http_req_failed{scenario:${NAME}}`]: [`rate<${SCENARIO.thresholds.errorRate}`],
    reservations_succeeded: [`count==${EXPECTED_SUCCESSES}`],
    reservations_refused: [`count==${ATTEMPTS - EXPECTED_SUCCESSES}`],
    'checks{phase:teardown}': ['rate==1'],
  },
};

// A sold-out product answers 409 by design: only other statuses count as failed requests.
http.setResponseCallback(http.expectedStatuses(200, 201, 409));

function uuid() {
  const bytes = new Uint8Array(crypto.randomBytes(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => (b < 16 ? '0' : '') + b.toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

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

export function setup() {
  const p = FILE.payloads.create;
  const id = uuid();
  const body = {
    id,
    sku: `${p.skuPrefix}-${id}`,
    name: p.name,
    description: p.description,
    price: { amount: p.price.min, currency: p.price.currency },
    initialStock: STOCK,
  };
  const response = http.post(`${COMMAND_URL}/products`, JSON.stringify(body), writeParams());
  if (response.status !== 201) fail(`could not create the hot product: ${response.status} ${response.body}`);
  return { id };
}

export default function (data) {
  switch (pick(SCENARIO.mix)) {
    case 'reserve': {
      const body = JSON.stringify({ quantity: QUANTITY, reservationId: uuid() });
      const response = http.post(`${COMMAND_URL}/products/${data.id}/stock/reservations`, body, writeParams());
      const answer = jsonOf(response) || {};
      if (response.status === 201) succeeded.add(1);
      const isRefusal =
        response.status === 409 && typeof answer.type === 'string' && /\/insufficient-stock$/.test(answer.type);
      if (isRefusal) refused.add(1);
      check(response, {
        'reserve answered 201 with stock >= 0, or 409 insufficient-stock': () =>
          (response.status === 201 && answer.stock >= 0) || isRefusal,
        'a refusal is problem+json': () =>
          response.status !== 409 || String(response.headers['Content-Type']).indexOf('application/problem+json') === 0,
      });
      break;
    }
    default:
      throw new Error('scenarios.json names an operation this script does not implement');
  }
}

export function teardown(data) {
  const events = http.get(`${COMMAND_URL}/products/${data.id}/events`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  const items = jsonOf(events)?.items || [];
  const reservations = items.filter((e) => e.type === 'StockReserved');
  const stocks = reservations.map((e) => e.data.stock);
  const lastVersion = items.reduce((max, e) => Math.max(max, e.version), 0);
  const view = http.get(`${QUERY_URL}/products/${data.id}?minVersion=${lastVersion}&maxWaitMs=10000`);
  const viewed = jsonOf(view) || {};
  const left = STOCK - EXPECTED_SUCCESSES * QUANTITY;
  const ok = check(
    null,
    {
      'teardown: the event store answered': () => events.status === 200,
      'teardown: StockReserved events equal the initial stock': () => reservations.length === EXPECTED_SUCCESSES,
      'teardown: stock never went below zero': () => stocks.every((s) => s >= 0),
      'teardown: the view shows the sold-out stock': () => view.status === 200 && viewed.stock === left,
    },
    { phase: 'teardown' },
  );
  if (!ok) {
    fail(
      `hot product ${data.id}: ${reservations.length} StockReserved for a stock of ${STOCK} ` +
        `(lowest stock ${Math.min.apply(null, stocks.concat([STOCK]))}), view ${view.status} stock ${viewed.stock}`,
    );
  }
}
