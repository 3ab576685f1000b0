// The Dispatches panel: nestjs-mesa's own dispatch counter, read every second from the app's GET /metrics (the
// Prometheus text of the OpenTelemetry exporter), so that the page shows exactly what a Prometheus would scrape.

/** The Prometheus name of the OpenTelemetry counter `messaging.client.sent.messages` (dots become `_`, a counter gets `_total`). */
export const SENT_METRIC = 'messaging_client_sent_messages_total';
const POLL_MS = 1000;
/** The rate is the counter's increase over this window, divided by the time it spans (as Prometheus' rate() does). */
const RATE_WINDOW_MS = 5000;
const BARS = 40;

const $ = (id) => document.getElementById(id);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * The sent-messages counter in a Prometheus text, summed over its series: `sent` every dispatch counted, `failed`
 * those whose series carries an `error_type` label (the attribute `error.type`); `found` is false while the
 * exporter has no series yet (no dispatch since the app started).
 */
export function readSentCounter(text) {
  const counter = { found: false, sent: 0, failed: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith(SENT_METRIC)) continue;
    const rest = line.slice(SENT_METRIC.length);
    const labels = rest.startsWith('{') ? rest.slice(1, rest.lastIndexOf('}')) : rest.startsWith(' ') ? '' : undefined;
    if (labels === undefined) continue; // another metric whose name starts the same
    const value = Number(
      rest
        .slice(rest.lastIndexOf('}') + 1)
        .trim()
        .split(/\s+/)[0],
    );
    if (!Number.isFinite(value)) continue;
    counter.found = true;
    counter.sent += value;
    if ([...labels.matchAll(LABEL)].some(([, name]) => name === 'error_type')) counter.failed += value;
  }
  return counter;
}

/**
 * Polls `/metrics` every second and draws the panel: dispatches per second (over 5 s), sent, failed, and a bar per
 * poll. Returns a function that stops the polling.
 */
export function startMetricsPanel() {
  const samples = []; // { at, sent, failed }, the last RATE_WINDOW_MS of them
  const bars = [];
  const poll = async () => {
    let counter;
    try {
      const response = await fetch('/metrics', { cache: 'no-store' });
      if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
      counter = readSentCounter(await response.text());
    } catch (error) {
      return showNote(`${error.message}; trying again`, true);
    }
    const at = performance.now();
    const previous = samples.at(-1);
    if (previous && counter.sent < previous.sent) samples.length = 0; // the app restarted: its counter did too
    samples.push({ at, ...counter });
    while (samples.length > 2 && at - samples[0].at > RATE_WINDOW_MS) samples.shift();
    if (previous && samples.length > 1) bars.push(Math.max(0, counter.sent - previous.sent) / ((at - previous.at) / 1000));
    if (bars.length > BARS) bars.shift();
    draw(counter);
  };
  const draw = ({ found, sent, failed }) => {
    const first = samples[0];
    const last = samples.at(-1);
    const rate = samples.length > 1 ? (last.sent - first.sent) / ((last.at - first.at) / 1000) : undefined;
    $('metrics-rate').textContent = rate === undefined ? '–' : rate.toFixed(1);
    $('metrics-sent').textContent = String(sent);
    $('metrics-failed').textContent = String(failed);
    $('metrics-failed-stat').classList.toggle('bad', failed > 0);
    const top = Math.max(1, ...bars);
    $('metrics-spark').replaceChildren(
      ...bars.map((value) => Object.assign(document.createElement('i'), { style: `height:${Math.max(4, (value / top) * 100)}%` })),
    );
    showNote(found ? `GET /metrics every second · rate over ${RATE_WINDOW_MS / 1000} s` : 'No dispatch counted yet', false);
  };
  const showNote = (text, bad) => {
    $('metrics-note').textContent = text;
    $('metrics-note').classList.toggle('bad', bad);
  };
  let timer;
  let stopped = false;
  const loop = () => poll().finally(() => (timer = stopped ? undefined : setTimeout(loop, POLL_MS))); // one request at a time
  loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
