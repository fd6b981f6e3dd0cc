// The operations console. Plain JavaScript, served as written. Live data comes from one
// Server-Sent Events stream (no polling); every value from it is written with textContent or as an
// attribute, never parsed as markup. The admin token lives in sessionStorage and travels only in
// an Authorization header.

const TOKEN_KEY = 'cqrs-catalog.admin-token';
const SVG_NS = 'http://www.w3.org/2000/svg';
const CHART = { width: 600, height: 200 };

const $ = (id) => document.getElementById(id);
const number = (value) => (value === null || value === undefined ? '–' : value.toLocaleString('en-US'));
const rate = (value) => (value === null || value === undefined ? '–' : `${number(value)} /s`);

/** An element with attributes and children; strings become text nodes. */
function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

function svg(tag, attributes = {}) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return 'unknown';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

function since(iso, nowMs) {
  if (!iso) return el('span', {}, 'none yet');
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  return el('time', { datetime: iso, title: iso }, `${duration(seconds)} ago`);
}

const state = {
  points: [],
  windowSeconds: 300,
  serviceStartedAt: null,
  letters: [],
};

// --- admin token and actions ---------------------------------------------------------------------

const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  forget: () => sessionStorage.removeItem(TOKEN_KEY),
};

function showToken() {
  const present = token.get() !== null;
  $('token-form').hidden = present;
  $('token-state').hidden = !present;
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const value = $('token').value.trim();
  if (value === '') return;
  token.set(value);
  $('token').value = '';
  showToken();
});

$('forget-token').addEventListener('click', () => {
  token.forget();
  showToken();
  $('token').focus();
});

/** A POST to an admin route with the session's token; the answer's JSON or a problem's detail. */
async function adminPost(path, body, result) {
  const secret = token.get();
  if (secret === null) {
    result.textContent = 'Enter the admin token first.';
    $('token').focus();
    return undefined;
  }
  const headers = { authorization: `Bearer ${secret}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  result.textContent = 'Sending…';
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    result.textContent = 'The service did not answer.';
    return undefined;
  }
  const answer = await response.json().catch(() => ({}));
  if (response.status === 401) {
    token.forget();
    showToken();
    result.textContent = 'The admin token was refused; enter it again.';
    return undefined;
  }
  if (!response.ok) {
    result.textContent = `Refused (${response.status}): ${answer.detail ?? response.statusText}`;
    return undefined;
  }
  return answer;
}

function describeRedrive(answer) {
  const count = answer.redriven.length;
  return count === 0
    ? 'No dead letter to re-drive.'
    : `Re-drove ${count} dead letter${count === 1 ? '' : 's'} to the event topic; the version guard applies each once.`;
}

async function redriveOne(letter) {
  const answer = await adminPost(
    `/admin/dead-letters/${letter.partition}/${letter.offset}/redrive`,
    undefined,
    $('redrive-result'),
  );
  if (answer) $('redrive-result').textContent = describeRedrive(answer);
}

$('redrive-reason-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const reason = $('redrive-reason').value;
  const answer = await adminPost('/admin/dead-letters/redrive', { reason }, $('redrive-result'));
  if (answer) $('redrive-result').textContent = describeRedrive(answer);
});

$('start-rebuild').addEventListener('click', async () => {
  const answer = await adminPost('/admin/rebuild', undefined, $('rebuild-result'));
  if (answer) $('rebuild-result').textContent = `Rebuild of generation ${answer.generation} started.`;
});

// --- charts --------------------------------------------------------------------------------------

/** Polylines of `series` (arrays of numbers or nulls, one per point) on a shared scale. */
function drawChart(target, series, label) {
  const max = Math.max(1, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
  const count = state.points.length;
  const x = (i) => (count <= 1 ? CHART.width : (i / (count - 1)) * CHART.width);
  const y = (v) => CHART.height - (v / max) * (CHART.height - 16);
  const children = series.map((s) => {
    const points = s.values.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`));
    return svg('polyline', { class: s.className, points: points.filter((p) => p !== null).join(' ') });
  });
  const top = svg('text', { x: 4, y: 12 });
  top.textContent = number(max);
  target.replaceChildren(top, ...children);
  target.setAttribute('aria-label', label);
}

function drawCharts() {
  const partitions = Math.max(0, ...state.points.map((p) => p.lags.length));
  const lagSeries = Array.from({ length: partitions }, (_, partition) => ({
    className: `s${partition % 12}`,
    values: state.points.map((p) => p.lags[partition] ?? 0),
  }));
  const last = state.points.at(-1);
  const highest = Math.max(0, ...state.points.map((p) => p.totalLag));
  drawChart(
    $('lag-chart'),
    lagSeries,
    `Lag per partition over the last minutes: total now ${number(last?.totalLag ?? 0)}, highest ${number(highest)}`,
  );
  $('lag-legend').replaceChildren(
    ...lagSeries.map((_, partition) => el('span', { class: `s${partition % 12}` }, `p${partition}`)),
  );
  drawChart(
    $('rate-chart'),
    [
      { className: 'published', values: state.points.map((p) => p.publishedPerSecond) },
      { className: 'projected', values: state.points.map((p) => p.projectedPerSecond) },
    ],
    `Events per second: published ${rate(last?.publishedPerSecond)}, projected ${rate(last?.projectedPerSecond)}`,
  );
  for (const span of document.querySelectorAll('.window')) span.textContent = String(state.windowSeconds / 60);
}

function sparkline(partition) {
  const values = state.points.map((p) => p.lags[partition] ?? 0);
  const max = Math.max(1, ...values);
  const step = values.length <= 1 ? 100 : 100 / (values.length - 1);
  const line = svg('polyline', {
    class: `s${partition % 12}`,
    points: values.map((v, i) => `${(i * step).toFixed(1)},${(20 - (v / max) * 18).toFixed(1)}`).join(' '),
  });
  const chart = svg('svg', {
    class: 'spark',
    viewBox: '0 0 100 20',
    preserveAspectRatio: 'none',
    role: 'img',
    'aria-label': `Lag of partition ${partition}: now ${number(values.at(-1) ?? 0)}, highest ${number(max)}`,
  });
  chart.append(line);
  return chart;
}

// --- status --------------------------------------------------------------------------------------

function renderPartitions(status, nowMs) {
  const rows = status.partitions.map((p) => {
    const stateText = p.state === null ? (p.ownedHere ? 'unknown' : 'owned by another replica') : p.state;
    const stateCell = el('td', p.state === 'paused' ? { class: 'paused' } : {}, stateText);
    if (p.pausedReason) stateCell.append(el('br'), el('small', {}, `why: ${p.pausedReason}`));
    return el(
      'tr',
      { 'data-partition': p.partition },
      el('th', { scope: 'row' }, String(p.partition)),
      stateCell,
      el('td', { 'data-lag': p.lag }, number(p.lag)),
      el('td', {}, `${number(p.committedOffset)} / ${number(p.endOffset)}`),
      el('td', {}, since(p.lastEventAt, nowMs)),
      el('td', {}, p.parked === null ? '–' : number(p.parked)),
      el('td', {}, sparkline(p.partition)),
    );
  });
  $('partitions').tBodies[0].replaceChildren(...rows);
}

function renderParked(parked) {
  const oldest = parked.longest[0];
  $('parked-summary').textContent =
    parked.count === 0
      ? 'No event is waiting for a missing version in the partitions this process projects.'
      : `${number(parked.count)} event(s) wait for a missing version; the oldest for ${duration(oldest?.ageSeconds)}.`;
  $('parked').tBodies[0].replaceChildren(
    ...parked.longest.map((p) =>
      el(
        'tr',
        {},
        el('td', {}, String(p.partition)),
        el('td', {}, el('code', {}, p.aggregateId)),
        el('td', {}, String(p.version)),
        el('td', {}, number(p.offset)),
        el('td', {}, duration(p.ageSeconds)),
      ),
    ),
  );
}

function renderRebuild(progress) {
  const running = progress !== null && progress.phase !== 'done' && progress.phase !== 'failed';
  $('start-rebuild').disabled = running;
  $('rebuild-progress').hidden = progress === null;
  $('rebuild-figures').hidden = progress === null;
  if (progress === null) {
    $('rebuild-summary').textContent = 'No rebuild started by this service process.';
    return;
  }
  $('rebuild-progress').value = progress.phase === 'done' ? 100 : progress.percent;
  const summary =
    progress.phase === 'failed'
      ? `Rebuild of generation ${progress.generation} failed: ${progress.error ?? 'unknown error'}`
      : progress.phase === 'done'
        ? `Rebuild of generation ${progress.generation} done: reads use the new views.`
        : `Rebuild of generation ${progress.generation}: ${progress.phase}, ${progress.percent}% of the events read.`;
  $('rebuild-summary').textContent = summary;
  $('rebuild-phase').textContent = progress.phase;
  $('rebuild-events').textContent = `${number(progress.eventsRead)} of ${number(progress.totalEvents)}`;
  $('rebuild-rate').textContent = `${number(progress.eventsPerSecond)} events/s`;
  $('rebuild-eta').textContent = running ? duration(progress.etaSeconds) : '–';
  $('rebuild-products').textContent = `${number(progress.productsWritten)} of ${number(progress.products)}`;
  $('rebuild-caught-up').textContent = number(progress.caughtUp);
}

function onStatus(status) {
  const nowMs = Date.parse(status.at);
  if (state.serviceStartedAt !== null && state.serviceStartedAt !== status.serviceStartedAt) {
    $('connection').textContent = `Live. The service restarted at ${status.serviceStartedAt}; reconnected.`;
  }
  state.serviceStartedAt = status.serviceStartedAt;
  $('unavailable').hidden = true;
  $('total-lag').textContent = number(status.totalLag);
  $('published-rate').textContent = rate(status.rates.publishedPerSecond);
  $('projected-rate').textContent = rate(status.rates.projectedPerSecond);
  $('consumer-group').textContent = status.consumerGroup;
  $('generation').textContent = String(status.generation);
  $('service-started').textContent = status.serviceStartedAt;
  const lags = [];
  for (const p of status.partitions) lags[p.partition] = p.lag;
  // The history a stream opens with already ends with the status sent right after it.
  if (state.points.at(-1)?.at !== status.at)
    state.points.push({
      at: status.at,
      totalLag: status.totalLag,
      publishedPerSecond: status.rates.publishedPerSecond,
      projectedPerSecond: status.rates.projectedPerSecond,
      lags: Array.from(lags, (lag) => lag ?? 0),
    });
  while (state.points.length > 0 && Date.parse(state.points[0].at) < nowMs - state.windowSeconds * 1000) {
    state.points.shift();
  }
  drawCharts();
  renderPartitions(status, nowMs);
  renderParked(status.parked);
  renderRebuild(status.rebuild);
}

// --- dead letters --------------------------------------------------------------------------------

/** The record's value, indented when it is whole JSON; as received otherwise. */
function readable(letter) {
  if (letter.valueTruncated) return letter.value;
  try {
    return JSON.stringify(JSON.parse(letter.value), null, 2);
  } catch {
    return letter.value;
  }
}

function renderDeadLetters(event) {
  const reasons = Object.entries(event.byReason);
  $('dead-letter-summary').textContent = !event.ready
    ? 'Reading the dead-letter topic…'
    : event.held === 0
      ? `No dead letter among the latest ${event.perPartition} of each partition of the dead-letter topic.`
      : `${number(event.held)} dead letter(s) held (the latest ${event.perPartition} per partition): ${reasons
          .map(([reason, count]) => `${reason} ${count}`)
          .join(', ')}. Showing the ${event.letters.length} newest.`;
  const select = $('redrive-reason');
  const chosen = select.value;
  select.replaceChildren(...reasons.map(([reason]) => el('option', { value: reason }, reason)));
  if (reasons.some(([reason]) => reason === chosen)) select.value = chosen;
  $('redrive-reason-form').hidden = reasons.length === 0;
  const rows = event.letters.map((letter) => {
    const button = el('button', { type: 'button' }, 'Re-drive');
    button.setAttribute(
      'aria-label',
      `Re-drive the dead letter at partition ${letter.partition}, offset ${letter.offset}`,
    );
    button.addEventListener('click', () => redriveOne(letter));
    const eventCell = el(
      'td',
      {},
      letter.eventType ?? 'no event type',
      letter.aggregateId ? el('br') : null,
      letter.aggregateId ? el('code', {}, letter.aggregateId) : null,
      letter.version !== null ? ` v${letter.version}` : null,
    );
    const record = el(
      'details',
      {},
      el('summary', {}, letter.valueTruncated ? 'record (cut)' : 'record'),
      el('pre', {}, readable(letter)),
    );
    return el(
      'tr',
      { 'data-dlq': `${letter.partition}:${letter.offset}` },
      el('td', {}, letter.failedAt ?? '–'),
      el('td', { class: 'reason' }, letter.reason, el('br'), el('small', {}, letter.detail)),
      el(
        'td',
        {},
        `${letter.sourcePartition ?? '–'} / ${letter.sourceOffset ?? '–'}`,
        el('br'),
        el('small', {}, `dead-letter topic: ${letter.partition} / ${letter.offset}`),
      ),
      eventCell,
      el('td', {}, record),
      el(
        'td',
        { class: 'action' },
        button,
        letter.redrivenAt ? el('small', {}, ` re-driven at ${letter.redrivenAt}`) : null,
      ),
    );
  });
  $('dead-letters').tBodies[0].replaceChildren(...rows);
}

// --- the stream ----------------------------------------------------------------------------------

function connect() {
  const source = new EventSource('/projections/stream');
  source.addEventListener('open', () => {
    const connection = $('connection');
    connection.dataset.state = 'live';
    if (!connection.textContent.startsWith('Live')) connection.textContent = 'Live';
  });
  source.addEventListener('error', () => {
    $('connection').dataset.state = 'reconnecting';
    $('connection').textContent = 'Connection lost; reconnecting…';
    // EventSource retries network errors itself; an HTTP error (a 503 when too many are open) ends it.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
  });
  source.addEventListener('history', (message) => {
    const history = JSON.parse(message.data);
    state.windowSeconds = history.windowSeconds;
    // After a reconnection the browser may know more than the service (a restarted one knows
    // nothing older than its start): keep what came before the history's first point.
    const first = history.points[0]?.at;
    const before = first === undefined ? state.points : state.points.filter((p) => p.at < first);
    state.points = [...before, ...history.points];
    drawCharts();
  });
  source.addEventListener('status', (message) => onStatus(JSON.parse(message.data)));
  source.addEventListener('dead-letters', (message) => renderDeadLetters(JSON.parse(message.data)));
  source.addEventListener('unavailable', (message) => {
    $('unavailable').textContent = `As of ${JSON.parse(message.data).at}: the projection status could not be read.`;
    $('unavailable').hidden = false;
  });
}

showToken();
connect();
