// The dashboard: reads the agent's own API (GET /status every second, GET /history every few seconds)
// and draws it with the DOM (text only, never HTML from the data). Sync, suspend and resume send the API
// token, which is asked for once per tab and kept in this tab's sessionStorage, never in a cookie.
'use strict';

const TOKEN_KEY = 'switchyard-token';
const STATUS_EVERY_MS = 1000;
const HISTORY_EVERY_MS = 5000;
/** Requests-per-second samples kept per app and color: five minutes at one a second. */
const SAMPLES = 300;

const state = { token: sessionStorage.getItem(TOKEN_KEY) || '', status: undefined, history: [], rates: new Map(), last: new Map(), mark: '' };

/** An element with attributes and children (strings become text nodes). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function svg(tag, attrs) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

async function api(method, path) {
  const headers = state.token ? { authorization: `Bearer ${state.token}` } : {};
  const res = await fetch(path, { method, headers, cache: 'no-store' });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(body.error || `${res.status}`), { status: res.status, hint: body.hint });
  return body;
}

/** A line above the page; `kind` 'read' marks one that the next good read clears. */
function notice(text, kind = '') {
  const n = document.getElementById('notice');
  n.textContent = text || '';
  n.dataset.kind = kind;
}

/** "3m 20s" since an ISO time or epoch ms. */
function since(at) {
  if (at === undefined) return '';
  const s = Math.max(0, Math.round((Date.now() - (typeof at === 'number' ? at : Date.parse(at))) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

const short = (commit) => (commit ? commit.slice(0, 8) : '-');

/** Requests per second per app and color, from the cumulative counters of two readings. */
function sample(status) {
  const now = Date.now();
  for (const app of Object.values(status.apps)) {
    for (const color of ['blue', 'green']) {
      const key = `${app.name}/${color}`;
      const requests = app.traffic?.[color]?.requests ?? 0;
      const prev = state.last.get(key);
      state.last.set(key, { at: now, requests });
      if (!prev || now <= prev.at) continue;
      const rates = state.rates.get(key) || [];
      rates.push(Math.max(0, (requests - prev.requests) / ((now - prev.at) / 1000)));
      if (rates.length > SAMPLES) rates.shift();
      state.rates.set(key, rates);
    }
  }
}

function chart(key, color) {
  const rates = state.rates.get(key) || [];
  const box = svg('svg', { class: `chart ${color}`, viewBox: '0 0 100 20', preserveAspectRatio: 'none', role: 'img', 'aria-label': `${color} requests per second, last ${Math.round(rates.length / 60)} min` });
  const max = Math.max(1, ...rates);
  // At least a minute wide, so that a page opened a moment ago draws a line, not a dot.
  const span = Math.max(60, rates.length) - 1;
  const points = rates.map((r, i) => `${((i / span) * 100).toFixed(1)},${(19 - (r / max) * 18).toFixed(1)}`).join(' ');
  if (points) box.append(svg('polyline', { points }));
  return box;
}

function drawAgent(s) {
  document.getElementById('instance').textContent = `(${s.instance})`;
  const item = (term, value, cls) => h('div', {}, h('dt', {}, term), h('dd', { class: cls }, value));
  const dp = s.dataPlane;
  const items = [
    item('source', `${s.source.description} at ${short(s.source.lastCommit)}`),
    item('source health', s.source.error ? `error: ${s.source.error}` : `fetched ${since(s.source.lastFetchAt)} ago`, s.source.error ? 'bad' : 'ok'),
    item('in force', `${short(s.desired.commit)}${s.desired.signer ? ` signed by ${s.desired.signer.identity || s.desired.signer.fingerprint}` : ''}`),
    item('data plane', dp ? `restarted ${dp.restarts} time(s), last ${since(dp.lastRestartAt)} ago (${dp.lastError})` : 'up, never restarted', dp ? 'warn' : 'ok'),
    item('last good pass', s.lastSuccessAt ? `${since(s.lastSuccessAt)} ago` : 'none yet'),
    s.stale ? item('STALE', s.stale.message, 'bad') : undefined,
    s.passRunningSince !== undefined ? item('pass running for', since(s.passRunningSince)) : undefined,
  ];
  document.getElementById('agent').replaceChildren(...items.filter(Boolean));
  const refused = document.getElementById('refused');
  refused.hidden = !s.desired.errors.length;
  if (s.desired.errors.length) {
    document.getElementById('refused-summary').textContent = `Commit ${short(s.desired.lastAttemptedCommit)} was refused${s.desired.reason ? ` (${s.desired.reason})` : ''}; nothing live changed.`;
    document.getElementById('refused-errors').replaceChildren(...s.desired.errors.map((e) => h('li', {}, e)));
  }
}

function drawApps(s) {
  const apps = Object.values(s.apps).sort((a, b) => a.name.localeCompare(b.name));
  document.getElementById('apps').replaceChildren(...(apps.length ? apps.map(drawApp) : [h('p', {}, 'No apps yet.')]));
}

function drawApp(app) {
  const ready = app.conditions.find((c) => c.type === 'Ready');
  const verb = app.suspended ? 'resume' : 'suspend';
  const action = h('button', {
    type: 'button', class: 'secondary', disabled: !state.token, 'data-app': app.name,
    title: state.token ? undefined : 'enter the API token first',
    onclick: () => act('POST', `/apps/${encodeURIComponent(app.name)}/${verb}`, `${app.name}: ${verb}d`),
  }, app.suspended ? 'Resume' : 'Suspend');
  const head = h('div', { class: 'app-head' },
    h('h3', {}, app.name, ' ', h('span', { class: `color ${app.activeColor || ''}`, 'data-active': app.activeColor || '' }, app.activeColor || 'none'),
      app.desiredColor !== app.activeColor ? h('span', { class: 'warn' }, ` desired ${app.desiredColor}`) : undefined,
      app.suspended ? h('span', { class: 'warn' }, ' suspended') : undefined),
    h('span', {}, `applied ${short(app.lastAppliedCommit)}`, app.activeSince ? `, ${app.activeColor} for ${since(app.activeSince)}` : ''),
    action);
  const conditions = h('ul', { class: 'conditions' }, app.conditions.map((c) =>
    h('li', {}, h('span', { class: c.type === 'Ready' ? (c.status === 'True' ? 'ok' : 'bad') : c.status === 'True' ? 'warn' : '' }, `${c.type} ${c.status}`),
      ` ${c.reason} for ${since(c.lastTransitionTime)}: ${c.message}`)));
  const colors = h('div', { class: 'colors' }, ['blue', 'green'].map((color) => drawColor(app, color)));
  const timeline = drawTimeline(app.name);
  return h('article', { class: 'app', 'data-app': app.name, 'aria-label': `app ${app.name}, ${ready ? `${ready.status === 'True' ? 'ready' : 'not ready'}` : ''}` }, head, conditions, colors, timeline);
}

function drawColor(app, color) {
  const t = app.traffic?.[color] || {};
  const rates = state.rates.get(`${app.name}/${color}`) || [];
  const rate = rates.length ? rates[rates.length - 1] : 0;
  const targets = app.targets?.[color] || [];
  const nodes = targets.some((x) => x.node);
  return h('div', { class: 'color-block' },
    h('div', { class: 'traffic' },
      h('span', { class: `color ${color}` }, color),
      chart(`${app.name}/${color}`, color),
      h('span', {}, `${rate.toFixed(1)} req/s`), h('span', {}, `${t.errors5xx ?? 0} 5xx`), h('span', {}, `${t.inFlight ?? 0} in flight`),
      h('span', {}, t.lastHit ? `last hit ${since(t.lastHit)} ago` : 'no hit yet')),
    h('div', { class: 'scroll' }, h('table', {},
      h('thead', {}, h('tr', {}, ['#', 'state', 'routed', 'health', nodes ? 'node' : undefined, 'restarts', 'address'].filter(Boolean).map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, targets.length ? targets.map((x) => h('tr', {},
        h('td', {}, x.replica), h('td', { class: x.state === 'running' ? '' : 'warn' }, x.state),
        h('td', {}, x.routed ? 'yes' : 'no'),
        h('td', { class: x.ejected || x.health === 'unhealthy' ? 'bad' : '' }, [x.health || '-', x.ejected ? ' (ejected)' : ''].join('')),
        nodes ? h('td', {}, x.node || '-') : undefined,
        h('td', {}, x.restarts ?? 0), h('td', {}, x.address || '-'))) : h('tr', {}, h('td', { colspan: nodes ? 7 : 6 }, 'no targets'))))));
}

/** Flips, rollbacks and guard trips of one app, newest first, from the journal. */
function drawTimeline(name) {
  const events = [];
  let color;
  // The journal reads oldest first.
  for (const e of state.history.filter((x) => x.app === name)) {
    if (e.result === 'applied' && e.color && color && e.color !== color) events.push(`${e.at.slice(0, 19).replace('T', ' ')} flipped to ${e.color} (${short(e.commit)}${e.message ? `: ${e.message}` : ''})`);
    if (e.result === 'applied' && e.color) color = e.color;
    if (e.reason === 'GuardFailed') events.push(`${e.at.slice(0, 19).replace('T', ' ')} guard tripped, rolled back (${short(e.commit)})`);
    if (e.result === 'reverted') events.push(`${e.at.slice(0, 19).replace('T', ' ')} revert pushed for ${short(e.commit)}`);
  }
  if (!events.length) return undefined;
  return h('details', {}, h('summary', {}, `Timeline (${events.length})`), h('ol', { class: 'timeline', reversed: true }, events.reverse().map((x) => h('li', {}, x))));
}

function drawHistory() {
  document.querySelector('#history tbody').replaceChildren(...state.history.slice(-50).reverse().map((e) => h('tr', {},
    h('td', {}, e.at.slice(0, 19).replace('T', ' ')), h('td', {}, e.app),
    h('td', { class: e.result === 'applied' ? 'ok' : e.result === 'failed' || e.result === 'refused' ? 'bad' : '' }, e.reason ? `${e.result} (${e.reason})` : e.result),
    h('td', {}, e.color || '-'), h('td', {}, short(e.commit)), h('td', {}, e.author || '-'), h('td', {}, e.message || '-'),
    h('td', { class: 'detail' }, e.detail || (e.changes || []).join('; ')))));
}

async function act(method, path, done) {
  try {
    await api(method, path);
    notice(done);
    await refresh();
  } catch (e) {
    notice(e.status === 401 ? 'The token was refused: enter the API token again.' : `Failed: ${e.message}`);
  }
}

async function refresh() {
  try {
    const s = await api('GET', '/status');
    state.status = s;
    sample(s);
    drawAgent(s);
    drawApps(s);
    if (document.getElementById('notice').dataset.kind === 'read') notice('');
    // A new commit attempted or applied: its journal entries are worth reading now.
    const mark = [s.desired.lastAttemptedCommit, ...Object.values(s.apps).map((a) => `${a.lastAppliedCommit}/${a.activeColor}`)].join(' ');
    if (mark !== state.mark) {
      state.mark = mark;
      refreshHistory();
    }
  } catch (e) {
    notice(e.status === 401 ? 'This API needs the token to be read: enter it above.' : `The agent does not answer (${e.message}); trying again.`, 'read');
  }
}

async function refreshHistory() {
  try {
    state.history = await api('GET', '/history?limit=200');
    drawHistory();
  } catch {
    // shown by refresh()
  }
}

function tokenChanged() {
  const has = Boolean(state.token);
  document.getElementById('sync').disabled = !has;
  document.getElementById('sync').title = has ? '' : 'enter the API token first';
  document.getElementById('forget').hidden = !has;
  document.getElementById('token').placeholder = has ? 'token set for this tab' : 'for sync, suspend, resume';
  if (state.status) drawApps(state.status);
}

document.getElementById('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = document.getElementById('token');
  state.token = input.value.trim();
  input.value = '';
  if (state.token) sessionStorage.setItem(TOKEN_KEY, state.token);
  tokenChanged();
  refresh();
});
document.getElementById('forget').addEventListener('click', () => {
  state.token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  tokenChanged();
});
document.getElementById('sync').addEventListener('click', () => act('POST', '/sync', 'Sync asked for: failed commits are tried again on this pass.'));

tokenChanged();
refresh();
setInterval(refresh, STATUS_EVERY_MS);
setInterval(refreshHistory, HISTORY_EVERY_MS);
