/** session.html: one session replayed over the gateway's WebSocket, with timeline, inspector and audit. */
import { getAllEvents, getAudit, getSession, listRuns, storeApiKey, takeApiKey } from './api.js';
import { renderAudit } from './audit-panel.js';
import { badge, byId, clear, h, keyForm } from './dom.js';
import { entriesOf, type Entry } from './entries.js';
import { formatOffset, gameFrameOf, indexAtOrBefore, isGameFrameEvent, bodyText, type EventView, type SessionView } from './events.js';
import { Inspector, type InspectedEvent } from './inspector.js';
import { describeClose, ReplayClient, replayUrl, SPEEDS, type EventMessage, type ServerMessage } from './replay-client.js';
import { drawFlappy } from './render/flappy.js';
import { drawShellRunners } from './render/shellrunners.js';
import type { Ctx2D } from './render/ctx.js';
import { markerPercent, markersOf, type TimelineMarker } from './timeline.js';
import { outcomeText, runFor } from './sessions-list.js';

export interface ViewerState {
  playing: boolean;
  seq: number;
  offsetUs: number;
  framesDrawn: number;
  ended: boolean;
}

declare global {
  interface Window {
    rewindViewer?: { state: () => ViewerState; sessionId: string | null; markers: () => TimelineMarker[] };
  }
}

const FOLLOW_MS = 2000;
const MAX_LIST = 10_000;

const params = new URLSearchParams(location.search);
const sessionId = params.get('id');
const startSeq = Number(params.get('seq')) || undefined;

let apiKey: string | null = null;
let session: SessionView | null = null;
let head = 0;
let speed = 1;
let client: ReplayClient | null = null;
let connected = false;
const st: ViewerState = { playing: false, seq: 0, offsetUs: 0, framesDrawn: 0, ended: false };
let lastSeqSeen = 0;
let dragging = false;
let followLive = false;
let followTimer: number | undefined;

// REST-loaded events (seq order) and what is derived from them.
const events: EventView[] = [];
const bySeq = new Map<number, EventView>();
const frameSeqs: number[] = [];
let markers: TimelineMarker[] = [];
let entries: Entry[] = [];
let entrySeqs: number[] = [];
let entryEls: HTMLElement[] = [];
let reachedIdx = -1;
let selectedEl: HTMLElement | null = null;
let showAll = false;

let canvas: HTMLCanvasElement | null = null;
let ctx: Ctx2D | null = null;
let pendingFrame: Record<string, unknown> | null = null;
let rafQueued = false;

const inspector = new Inspector(byId('inspector'), (seq) => seek(seq));

window.rewindViewer = { state: () => ({ ...st }), sessionId, markers: () => [...markers] };

// ————— drawing —————

function drawFrame(frame: Record<string, unknown>): void {
  if (!canvas || !ctx) return;
  const size = { width: canvas.width, height: canvas.height };
  const game = session?.game ?? '';
  if (game === 'flappybots' || (game !== 'shellrunners' && 'bot' in frame)) drawFlappy(ctx, frame, size);
  else if (game === 'shellrunners' || 'pawn' in frame) drawShellRunners(ctx, frame, size);
  else return;
  st.framesDrawn++;
}

function schedule(): void {
  if (rafQueued) return;
  rafQueued = true;
  requestAnimationFrame(() => {
    rafQueued = false;
    if (pendingFrame) {
      drawFrame(pendingFrame);
      pendingFrame = null;
    }
    updatePosition();
  });
}

/** Draws the last recorded frame at or before `seq` (REST data), e.g. after a seek. */
function drawAt(seq: number): void {
  const i = Math.max(0, indexAtOrBefore(frameSeqs, seq)); // before the first frame: the first frame
  const e = frameSeqs.length ? bySeq.get(frameSeqs[i] as number) : undefined;
  const frame = e ? gameFrameOf(bodyText(e.body, e.bodyEncoding)) : undefined;
  if (frame) {
    pendingFrame = frame;
    schedule();
  }
}

// ————— position, scrubber, list highlight —————

function updatePosition(): void {
  const pos = byId('position');
  pos.textContent = `seq ${st.seq} / ${head} · ${formatOffset(st.offsetUs)}`;
  const scrub = byId<HTMLInputElement>('scrubber');
  if (!dragging) scrub.value = String(Math.max(1, st.seq));
  highlightEntries(st.seq);
  byId('play').textContent = st.playing ? '❚❚ Pause' : st.ended ? '↻ Replay' : '▶ Play';
  byId('play').setAttribute('aria-pressed', String(st.playing));
  document.body.dataset['playing'] = String(st.playing);
  document.body.dataset['ended'] = String(st.ended);
}

function highlightEntries(seq: number): void {
  const idx = indexAtOrBefore(entrySeqs, seq);
  if (idx === reachedIdx) return;
  for (let i = Math.min(idx, reachedIdx) + 1; i <= Math.max(idx, reachedIdx); i++) entryEls[i]?.classList.toggle('reached', i <= idx);
  entryEls[reachedIdx]?.classList.remove('current');
  reachedIdx = idx;
  const cur = entryEls[idx];
  if (cur) {
    cur.classList.add('current');
    const list = byId('events');
    if (byId<HTMLInputElement>('autoscroll').checked) list.scrollTop = Math.max(0, cur.offsetTop - list.clientHeight / 2);
  }
}

function setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
  const el = byId('replay-status');
  el.textContent = text;
  el.classList.toggle('error', kind === 'error');
}

// ————— the replay stream —————

function toInspected(e: EventView): InspectedEvent {
  return { ...e, encoding: e.bodyEncoding };
}

function onEvent(m: EventMessage): void {
  st.seq = m.seq;
  st.offsetUs = m.offsetUs;
  lastSeqSeen = Math.max(lastSeqSeen, m.seq);
  if (m.seq > head) head = m.seq;
  if (canvas && isGameFrameEvent(m) && m.data) {
    const frame = gameFrameOf(m.encoding === 'base64' ? bodyText(m.data, 'base64') : m.data);
    if (frame) pendingFrame = frame;
  }
  const rest = bySeq.get(m.seq);
  inspector.follow(rest ? toInspected(rest) : { ...m, body: m.data, encoding: m.encoding });
  schedule();
}

function onMessage(m: ServerMessage): void {
  switch (m.type) {
    case 'hello':
      connected = true;
      head = Math.max(head, m.session.events);
      byId<HTMLInputElement>('scrubber').max = String(Math.max(1, head));
      st.playing = true;
      st.ended = false;
      setStatus(`Replaying at ${m.speed}×`);
      renderMarkers();
      schedule();
      break;
    case 'event':
      onEvent(m);
      break;
    case 'marker':
      setStatus(`◆ ${m.name} at #${m.seq}`);
      break;
    case 'state':
      st.playing = m.state === 'playing';
      st.ended = m.state === 'ended';
      setStatus(`${m.state} at ${m.speed}×`);
      schedule();
      break;
    case 'error':
      setStatus(`${m.code}: ${m.message}`, 'error');
      break;
    case 'end':
      st.playing = false;
      st.ended = true;
      if (m.lastSeq) lastSeqSeen = Math.max(lastSeqSeen, m.lastSeq);
      setStatus(
        `End of recording: ${m.emitted} event${m.emitted === 1 ? '' : 's'} played${m.lastSeq ? `, last #${m.lastSeq}` : ''}${session?.status === 'open' ? ' — the session is still live' : ''}`,
      );
      schedule();
      if (followLive) scheduleFollow();
      break;
  }
}

function openReplay(fromSeq?: number): void {
  if (!sessionId) return;
  if (!apiKey) {
    showKeyForm();
    return;
  }
  client?.close();
  connected = false;
  st.ended = false;
  const follow = followLive && session?.status === 'open';
  const c: ReplayClient = new ReplayClient(replayUrl(location, sessionId, apiKey, speed, fromSeq, follow), {
    onMessage: (m) => {
      if (client === c) onMessage(m);
    },
    onClose: (code, reason) => {
      if (client !== c) return;
      connected = false;
      client = null;
      st.playing = false;
      const msg = describeClose(code, reason);
      if (msg) setStatus(msg, 'error');
      if (code === 4401) showKeyForm('The stored key was rejected; enter the current one.');
      schedule();
    },
  });
  client = c;
  setStatus('Connecting…');
}

function seek(seq: number): void {
  const target = Math.max(1, Math.min(Math.floor(seq), Math.max(1, head)));
  const e = bySeq.get(target);
  st.seq = target;
  if (e) {
    st.offsetUs = e.offsetUs;
    inspector.follow(toInspected(e));
  }
  if (canvas) drawAt(target);
  // Connected: the gateway seeks in place. Otherwise the position is set and play starts from it.
  if (client && connected && !st.ended) client.seek({ seq: target });
  else {
    st.ended = false;
    setStatus(`At #${target}: press play to replay from here.`);
  }
  schedule();
}

function togglePlay(): void {
  if (!client || !connected || st.ended) {
    const from = st.ended && st.seq >= head ? 1 : st.seq > 1 ? st.seq : undefined;
    openReplay(from);
    return;
  }
  if (st.playing) client.pause();
  else client.resume();
  st.playing = !st.playing;
  schedule();
}

// ————— live sessions —————

function scheduleFollow(): void {
  window.clearTimeout(followTimer);
  followTimer = window.setTimeout(() => void followTick(), FOLLOW_MS);
}

async function followTick(): Promise<void> {
  if (!followLive || !sessionId) return;
  if (connected && !st.ended) return; // still streaming: the end handler schedules the next look
  try {
    session = await getSession(sessionId);
    renderHeader();
    if (session.events > lastSeqSeen) {
      await loadEvents(lastLoadedSeq() + 1);
      head = Math.max(head, session.events);
      byId<HTMLInputElement>('scrubber').max = String(head);
      openReplay(lastSeqSeen + 1);
      return;
    }
    if (session.status !== 'open') {
      setFollow(false);
      setStatus('The session has ended; everything recorded has been played.');
      return;
    }
  } catch (e) {
    setStatus(`follow live: ${(e as Error).message}`, 'error');
  }
  scheduleFollow();
}

function setFollow(on: boolean): void {
  followLive = on;
  const b = byId('follow');
  b.classList.toggle('active', on);
  b.setAttribute('aria-pressed', String(on));
  if (!on) {
    window.clearTimeout(followTimer);
    return;
  }
  // Nothing played yet: start close to the live edge rather than at the beginning.
  if (!connected && lastSeqSeen === 0 && session) {
    lastSeqSeen = Math.max(0, session.events - 40);
    st.seq = lastSeqSeen;
  }
  if (!connected || st.ended) void followTick();
}

// ————— REST data: events, markers, list —————

const lastLoadedSeq = (): number => events[events.length - 1]?.seq ?? 0;

async function loadEvents(fromSeq?: number): Promise<void> {
  if (!sessionId) return;
  await getAllEvents(
    sessionId,
    (page) => {
      const fresh = page.filter((e) => !bySeq.has(e.seq));
      for (const e of fresh) {
        events.push(e);
        bySeq.set(e.seq, e);
        if (isGameFrameEvent(e)) frameSeqs.push(e.seq);
        head = Math.max(head, e.seq);
      }
      markers = markers.concat(markersOf(fresh));
      appendEntries(entriesOf(fresh, { all: showAll }));
      renderMarkers();
      byId<HTMLInputElement>('scrubber').max = String(Math.max(1, head));
      if (canvas && st.framesDrawn === 0) drawAt(Math.max(1, st.seq));
      byId('events-count').textContent = `${events.length} event${events.length === 1 ? '' : 's'} loaded · ${entries.length} listed`;
    },
    { fromSeq },
  );
}

function renderMarkers(): void {
  const box = byId('markers');
  clear(box);
  const max = Math.max(1, head);
  for (const m of markers.slice(0, 2000)) {
    const tick = h('button', {
      type: 'button',
      class: `tick tick-${m.kind}`,
      title: `#${m.seq} ${formatOffset(m.offsetUs)} — ${m.label}`,
      'data-seq': m.seq,
      'data-kind': m.kind,
      'aria-label': m.label,
    });
    tick.style.left = `${markerPercent(m.seq, 1, max)}%`;
    tick.addEventListener('click', () => seek(m.seq));
    box.append(tick);
  }
  const legend = byId('marker-legend');
  const counts = new Map<string, number>();
  for (const m of markers) counts.set(m.kind, (counts.get(m.kind) ?? 0) + 1);
  clear(legend);
  for (const [k, n] of counts) legend.append(h('span', { class: `legend legend-${k}` }, `${k} ${n}`));
}

function appendEntries(list: Entry[]): void {
  const ul = byId('events');
  for (const en of list) {
    if (entries.length >= MAX_LIST) break;
    const li = h(
      'li',
      { class: `entry entry-${en.kind}`, 'data-seq': en.seq, tabindex: 0 },
      h('span', { class: 'seq' }, `#${en.seq}`),
      h('span', { class: 'time' }, formatOffset(en.offsetUs)),
      h('span', { class: 'title' }, en.title),
      h('span', { class: 'values' }, en.values.join(' · ')),
    );
    const pick = () => {
      const e = bySeq.get(en.seq);
      if (!e) return;
      selectedEl?.classList.remove('selected');
      selectedEl = li;
      li.classList.add('selected');
      inspector.pin(toInspected(e));
    };
    li.addEventListener('click', pick);
    li.addEventListener('dblclick', () => seek(en.seq));
    li.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') pick();
    });
    if (en.seq <= st.seq) li.classList.add('reached');
    entries.push(en);
    entrySeqs.push(en.seq);
    entryEls.push(li);
    ul.append(li);
  }
  if (entries.length === 0) byId('events-empty').hidden = false;
  else byId('events-empty').hidden = true;
}

function rebuildEntries(): void {
  clear(byId('events'));
  entries = [];
  entrySeqs = [];
  entryEls = [];
  reachedIdx = -1;
  selectedEl = null;
  appendEntries(entriesOf(events, { all: showAll }));
  highlightEntries(st.seq);
}

// ————— header, key, audit —————

function renderHeader(): void {
  const el = byId('session-header');
  clear(el);
  if (!session) return;
  const s = session;
  const status = s.status === 'open' ? badge('live', 'badge-live', 'badge-live') : badge(s.status, `badge-status status-${s.status}`);
  const kv = (k: string, v: string, cls = '') => h('div', { class: 'kv' }, h('span', { class: 'k' }, k), h('span', { class: `v ${cls}`.trim(), title: v }, v));
  el.append(
    h('h1', {}, `${s.platform} · ${s.game ?? 'session'}`, ' ', status),
    h(
      'div',
      { class: 'meta' },
      kv('agent', s.agent ?? '—'),
      kv('events', String(s.events)),
      kv('started', new Date(s.startedAt).toLocaleString()),
      kv('ended', s.endedAt ? new Date(s.endedAt).toLocaleString() : '—'),
      kv('stream', [s.metadata?.stream, s.metadata?.capturedBy].filter(Boolean).join(' / ') || '—'),
      kv('platform session', s.platformSessionId ?? '—', 'mono'),
      s.outcome ? kv('outcome', outcomeText(s.outcome)) : null,
    ),
  );
  byId('follow').hidden = s.status !== 'open';
  document.title = `Rewind — ${s.platform} ${s.game ?? ''} ${s.id.slice(0, 8)}`;
}

function showKeyForm(note?: string): void {
  const area = byId('key-area');
  clear(area);
  area.append(
    keyForm((k) => {
      apiKey = k;
      storeApiKey(localStorage, k);
      clear(area);
      setStatus('Key saved: press play.');
    }, note),
  );
  setStatus('An API key is needed to replay (printed by ./rewind demo; stored in .rewind/api-key).', 'error');
}

/**
 * The audit. The run summaries say first whether the session is in a run and whether that run was audited
 * (so the page does not ask for an audit that is not there); while it is pending, asks again every 5 s.
 */
async function loadAudit(retries = 24): Promise<void> {
  if (!sessionId || !session) return;
  const el = byId('audit');
  const again = (note: string) => {
    el.append(h('p', { class: 'muted small' }, note));
    if (retries > 0) window.setTimeout(() => void loadAudit(retries - 1), 5000);
  };
  try {
    const { runs } = await listRuns({ platform: session.platform, game: session.game ?? undefined, agent: session.agent ?? undefined, limit: 1000 });
    const run = runFor(session, runs);
    if (!run || !run.auditStatus) {
      renderAudit(el, null, sessionId, () => undefined);
      if (!run && session.status !== 'open' && retries < 20) return; // not part of a run
      return again(run ? `Run ${run.runKey} is not audited yet (a run is audited once it ends); checking again shortly.` : 'Checking again shortly.');
    }
    renderAudit(el, await getAudit(sessionId), sessionId, (seq) => seek(seq));
  } catch (e) {
    renderAudit(el, null, sessionId, () => undefined, (e as Error).message);
    again('Retrying shortly.');
  }
}

// ————— wiring —————

function wireControls(): void {
  const speedSel = byId<HTMLSelectElement>('speed');
  for (const s of SPEEDS) speedSel.append(h('option', { value: s, selected: s === 1 }, `${s}×`));
  speedSel.addEventListener('change', () => {
    speed = Number(speedSel.value) || 1;
    if (client && connected) client.setSpeed(speed);
  });
  byId('play').addEventListener('click', togglePlay);
  const scrub = byId<HTMLInputElement>('scrubber');
  scrub.addEventListener('input', () => {
    dragging = true;
    const v = Number(scrub.value);
    const e = bySeq.get(v);
    byId('position').textContent = `→ seq ${v} / ${head}${e ? ` · ${formatOffset(e.offsetUs)}` : ''}`;
  });
  scrub.addEventListener('change', () => {
    dragging = false;
    seek(Number(scrub.value));
  });
  byId('follow').addEventListener('click', () => setFollow(!followLive));
  byId<HTMLInputElement>('all-events').addEventListener('change', (ev) => {
    showAll = (ev.target as HTMLInputElement).checked;
    rebuildEntries();
  });
  document.addEventListener('keydown', (ev) => {
    const t = ev.target as HTMLElement;
    if (t.closest('input, select, textarea, button, [tabindex]')) return;
    if (ev.key === ' ') {
      ev.preventDefault();
      togglePlay();
    }
  });
}

async function main(): Promise<void> {
  wireControls();
  apiKey = takeApiKey({ location, history, storage: localStorage });
  if (!sessionId) {
    setStatus('No session id: open a session from the list.', 'error');
    return;
  }
  try {
    session = await getSession(sessionId);
  } catch (e) {
    setStatus(`Could not load the session: ${(e as Error).message}`, 'error');
    return;
  }
  head = session.events;
  byId<HTMLInputElement>('scrubber').max = String(Math.max(1, head));
  renderHeader();
  if (session.platform === 'moltstation') {
    canvas = byId<HTMLCanvasElement>('stage');
    canvas.hidden = false;
    ctx = canvas.getContext('2d');
    document.body.classList.add('has-stage');
  } else {
    document.body.classList.add('no-stage');
  }
  schedule();
  void loadAudit();
  const loaded = loadEvents().catch((e: unknown) => setStatus(`Could not load events: ${(e as Error).message}`, 'error'));
  if (startSeq) seek(startSeq);
  if (apiKey) setStatus('Ready: press play (or space) to replay.');
  else showKeyForm();
  await loaded;
}

void main();
