import WebSocket from 'ws';
import { TrafficLog } from '../traffic-log';
import { checkAbort, defaultUsername, emptySummary, pickPois, SpaceMoltMinerOptions, SpaceMoltMinerSummary } from './common';

interface Msg {
  type: string;
  payload?: any;
  request_id?: string;
}

/**
 * SpaceMolt miner over WebSocket `/ws`: register (or login), then N cycles of undock → travel to a belt → mine until
 * the hold is full → travel home → dock → sell everything → refuel. Correlates replies by request_id; splits every
 * frame on newlines (the server may batch NDJSON); records every frame exactly as on the wire.
 */
export async function runSpaceMoltWsMiner(options: SpaceMoltMinerOptions): Promise<SpaceMoltMinerSummary> {
  const traffic = options.traffic ?? new TrafficLog();
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 600_000;
  const username = options.username ?? defaultUsername('ws_miner', options.seed);
  const summary = emptySummary(username);
  const stream = 'spacemolt-ws#1';
  const url = `${options.baseUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/ws`;

  const ws = new WebSocket(url);
  const inbox: Msg[] = [];
  let waiter: (() => void) | undefined;
  let closed: { code: number; reason: string } | undefined;
  const wake = (): void => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  ws.on('message', (data) => {
    const text = data.toString();
    traffic.record({ stream, channel: 'ws', direction: 'received', data: text });
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const m = JSON.parse(line) as Msg;
      summary.messagesReceived++;
      if (m.request_id === undefined) summary.pushesReceived[m.type] = (summary.pushesReceived[m.type] ?? 0) + 1;
      if (m.type === 'mining_yield') summary.unitsMined += Number(m.payload?.quantity ?? 0);
      inbox.push(m);
    }
    wake();
  });
  ws.on('close', (code, reason) => {
    closed = { code, reason: reason.toString() };
    traffic.record({ stream, channel: 'ws', direction: 'received', data: '', meta: { close: true, code, reason: reason.toString() } });
    wake();
  });
  ws.on('error', () => undefined);
  const onAbort = (): void => ws.terminate();
  options.signal?.addEventListener('abort', onAbort);

  const take = async (pred: (m: Msg) => boolean, what: string): Promise<Msg> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = inbox.findIndex(pred);
      if (i >= 0) return inbox.splice(i, 1)[0]!;
      checkAbort(options.signal);
      if (closed) throw new Error(`connection closed (${closed.code} ${closed.reason}) while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  };

  let rid = 0;
  const send = (type: string, payload?: Record<string, unknown>): string => {
    const requestId = `${username}-${++rid}`;
    const text = JSON.stringify(payload ? { type, payload, request_id: requestId } : { type, request_id: requestId });
    traffic.record({ stream, channel: 'ws', direction: 'sent', data: text });
    summary.messagesSent++;
    ws.send(text);
    return requestId;
  };
  const query = async (type: string, payload?: Record<string, unknown>): Promise<any> => {
    const id = send(type, payload);
    const reply = await take((m) => m.request_id === id, type);
    if (reply.type === 'error') throw new Error(`${type}: ${reply.payload?.code} ${reply.payload?.message}`);
    return reply.payload;
  };
  /** A mutation: ok {pending} then action_result / action_error (same request_id). */
  const act = async (type: string, payload?: Record<string, unknown>): Promise<{ ok: boolean; payload: any }> => {
    const id = send(type, payload);
    const first = await take((m) => m.request_id === id, `${type} ack`);
    if (first.type === 'error') throw new Error(`${type}: ${first.payload?.code} ${first.payload?.message}`);
    const done = await take((m) => m.request_id === id && (m.type === 'action_result' || m.type === 'action_error'), `${type} result`);
    return { ok: done.type === 'action_result', payload: done.payload };
  };

  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    await take((m) => m.type === 'welcome', 'welcome');
    if (options.password) {
      const li = await query('login', { username, password: options.password });
      summary.password = options.password;
      summary.playerId = li.player.id;
    } else {
      const reg = await query('register', { username, empire: options.empire ?? 'solarian', registration_code: options.registrationCode ?? 'rewind-simulator' });
      summary.password = reg.password;
      summary.playerId = reg.player_id;
      await take((m) => m.type === 'logged_in', 'logged_in');
    }
    const system = (await query('get_system')).system;
    const { belt, home } = pickPois(system);
    summary.creditsStart = (await query('get_status')).player.credits;
    log(`[ws-miner] ${username}: belt ${belt}, home ${home}, ${summary.creditsStart} credits`);

    for (let cycle = 0; cycle < (options.cycles ?? 1); cycle++) {
      checkAbort(options.signal);
      const status = await query('get_status');
      if (status.player.docked_at_base) await mustAct('undock');
      if (status.player.current_poi !== belt) await mustAct('travel', { target_poi: belt });
      for (;;) {
        const r = await act('mine');
        if (!r.ok) {
          if (r.payload.code === 'no_cargo_space') break;
          throw new Error(`mine failed: ${r.payload.code} ${r.payload.message}`);
        }
        summary.mineActions++;
        if (r.payload.result.cargo_used >= r.payload.result.cargo_capacity) break;
      }
      await mustAct('travel', { target_poi: home });
      await mustAct('dock');
      const cargo = await query('get_cargo');
      for (const item of cargo.cargo as { item_id: string; quantity: number }[]) {
        const sold = (await mustAct('sell', { item_id: item.item_id, quantity: item.quantity })).result;
        summary.unitsSold += sold.quantity_sold;
        summary.salesTotal += sold.total_earned;
      }
      const fuel = (await mustAct('refuel')).result;
      summary.fuelBought += Number(fuel.cost ?? 0);
      summary.cyclesCompleted++;
      log(`[ws-miner] cycle ${cycle + 1} done`);
    }
    summary.creditsEnd = (await query('get_status')).player.credits;
    summary.creditsEarned = summary.creditsEnd - summary.creditsStart;
    const byeId = send('logout');
    await take((m) => m.request_id === byeId, 'logout');
    await new Promise<void>((resolve) => (closed ? resolve() : ws.once('close', () => resolve())));
    return summary;
  } catch (e) {
    if (options.signal?.aborted) return { ...summary, aborted: true };
    throw e;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  }

  async function mustAct(type: string, payload?: Record<string, unknown>): Promise<any> {
    const r = await act(type, payload);
    if (!r.ok) throw new Error(`${type} failed: ${r.payload.code} ${r.payload.message}`);
    return r.payload;
  }
}
