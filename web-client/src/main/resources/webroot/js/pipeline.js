// The operators' pipeline strip: each stage's lag now (from GET /api/admin/status/stream) and a small
// chart of the records waiting per stage over the last minutes, drawn on a canvas (no library).

import { byTestId } from './ui.js';

const KEEP = 180; // samples, about one a second: three minutes
const SERIES = ['relay', 'saga', 'projector'];

/** Records waiting at a stage, or null when this node does not know it. */
function waiting(stage, name) {
  if (!stage || stage.known === false) return null;
  if (name === 'relay') return stage.unpublished ?? 0;
  return stage.recordsBehind ?? 0;
}

function partitionsText(partitions) {
  const entries = Object.entries(partitions ?? {});
  return entries.map(([p, lag]) => `${p.replace(/^.*\.(\w+)-events-/, '$1 ')}: ${lag}`).join(', ');
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function createPipelineView() {
  const history = [];
  const canvas = byTestId('pipeline-chart');

  function setStage(name, lag, lagText, detail, title) {
    const item = byTestId(`stage-${name}`);
    item.dataset.lag = lag == null ? '' : String(lag);
    item.classList.toggle('stage--behind', lag > 0);
    item.classList.toggle('stage--unknown', lag == null);
    byTestId(`stage-${name}-lag`).textContent = lagText;
    byTestId(`stage-${name}-detail`).textContent = detail;
    if (title) item.title = title;
    else item.removeAttribute('title');
  }

  function render(status) {
    const stages = status.stages ?? {};
    const relay = stages.relay;
    if (relay?.known) {
      setStage('relay', relay.unpublished, `${relay.unpublished} unpublished`,
        `${relay.secondsBehind ?? 0} s behind · ${relay.role}`);
    } else {
      setStage('relay', null, 'not known here', 'see the command side', relay?.reason);
    }
    const saga = stages.saga;
    if (saga?.known) {
      setStage('saga', saga.recordsBehind, `${saga.recordsBehind} behind`,
        `${saga.inFlight} in flight · ${partitionsText(saga.partitions)}`);
    } else {
      setStage('saga', null, 'not known here', 'see the command side', saga?.reason);
    }
    const projector = stages.projector;
    if (projector?.known) {
      setStage('projector', projector.recordsBehind, `${projector.recordsBehind} behind`,
        `${projector.secondsBehind} s · ${partitionsText(projector.partitions)}`);
    }
    const push = stages.push;
    if (push?.known) {
      setStage('push', 0, plural(push.connections, 'connection'), `at change ${push.followerPosition}`);
    }
    const latency = status.latency ?? {};
    byTestId('latency').textContent = latency.count
      ? `p50 ${latency.p50} ms · p90 ${latency.p90} ms · p99 ${latency.p99} ms (${latency.count} in ${latency.windowSeconds} s)`
      : 'no orders settled lately';
    byTestId('push-connections').textContent = String(status.pushConnections ?? '—');
    const dead = Object.values(status.deadLetters ?? {}).reduce((a, b) => a + (b ?? 0), 0);
    byTestId('dead-letter-count').textContent = String(dead);

    history.push({ t: Date.parse(status.at) || Date.now(), ...Object.fromEntries(SERIES.map((s) => [s, waiting(stages[s], s)])) });
    if (history.length > KEEP) history.shift();
    draw();
  }

  function draw() {
    const ctx = canvas.getContext('2d');
    const width = canvas.width;
    const height = canvas.height;
    const css = getComputedStyle(canvas);
    ctx.clearRect(0, 0, width, height);
    const max = Math.max(1, ...history.flatMap((h) => SERIES.map((s) => h[s] ?? 0)));
    ctx.strokeStyle = css.getPropertyValue('--border').trim() || '#ccc';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(0, height - 0.5);
    ctx.lineTo(width, height - 0.5);
    ctx.stroke();
    ctx.fillStyle = css.getPropertyValue('--muted').trim() || '#666';
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillText(`${max}`, 4, 12);
    const step = width / (KEEP - 1);
    const offset = KEEP - history.length;
    for (const series of SERIES) {
      ctx.strokeStyle = css.getPropertyValue(`--series-${series}`).trim() || '#36c';
      ctx.lineWidth = 2;
      ctx.beginPath();
      let started = false;
      history.forEach((h, i) => {
        if (h[series] == null) {
          started = false;
          return;
        }
        const x = (offset + i) * step;
        const y = height - 2 - (h[series] / max) * (height - 16);
        if (started) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        started = true;
      });
      ctx.stroke();
    }
    const last = history[history.length - 1];
    const known = SERIES.filter((s) => last?.[s] != null);
    const peak = (s) => Math.max(...history.map((h) => h[s] ?? 0));
    canvas.setAttribute('aria-label', `Records waiting per stage over the last ${Math.round(history.length / 60) || 1} min: `
      + known.map((s) => `${s} now ${last[s]}, peak ${peak(s)}`).join('; '));
  }

  return { render, reset: () => history.splice(0) };
}
