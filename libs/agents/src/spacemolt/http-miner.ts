import { httpExchange, transportError } from '../http-exchange';
import { TrafficLog } from '../traffic-log';
import { checkAbort, defaultUsername, emptySummary, pickPois, SpaceMoltMinerOptions, SpaceMoltMinerSummary } from './common';

interface V2Reply {
  status: number;
  body: any;
}

/**
 * SpaceMolt miner over HTTP API v2: `POST /api/v2/session`, register/login with `X-Session-Id`, then the same mining
 * loop as the WebSocket miner. Mutations block until their tick; outcomes of PendingActionResponse commands (mine,
 * dock) are read from the `notifications` array. Like client-v2 it sends no body for argument-less commands, honours
 * `retry_after` on 429 and re-creates the session on session_invalid.
 */
export async function runSpaceMoltHttpMiner(options: SpaceMoltMinerOptions): Promise<SpaceMoltMinerSummary> {
  const traffic = options.traffic ?? new TrafficLog();
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 600_000;
  const username = options.username ?? defaultUsername('http_miner', options.seed);
  const summary = emptySummary(username);
  const base = options.baseUrl.replace(/\/$/, '');
  let session = '';
  let password = options.password ?? '';

  const raw = async (method: string, path: string, body?: Record<string, unknown>): Promise<V2Reply> => {
    for (let attempt = 0; ; attempt++) {
      checkAbort(options.signal);
      const stream = `${method} ${path}`;
      const text = body ? JSON.stringify(body) : '';
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (session) headers['x-session-id'] = session;
      traffic.record({ stream, channel: 'http', direction: 'sent', data: text, meta: { method, path } });
      summary.messagesSent++;
      const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      let res: Response;
      let resText: string;
      try {
        ({ res, body: resText } = await httpExchange(`${base}${path}`, { method, headers, body: body ? text : undefined }, signal, (r) => r.text()));
      } catch (e) {
        // No answer (connection refused or reset, timed out…): recorded as the exchange's end, without a status.
        traffic.record({ stream, channel: 'http', direction: 'received', data: '', meta: { method, path, error: transportError(e) } });
        throw e;
      }
      traffic.record({ stream, channel: 'http', direction: 'received', data: resText, meta: { method, path, status: res.status } });
      summary.messagesReceived++;
      if (!(res.headers.get('content-type') ?? '').includes('json')) throw new Error(`${path}: unexpected content-type ${res.headers.get('content-type')} (HTTP ${res.status})`);
      const json = JSON.parse(resText);
      for (const n of (json.notifications ?? []) as { msg_type: string; data: any }[]) {
        summary.pushesReceived[n.msg_type] = (summary.pushesReceived[n.msg_type] ?? 0) + 1;
        if (n.msg_type === 'mining_yield') summary.unitsMined += Number(n.data?.quantity ?? 0);
      }
      const code = typeof json.error === 'string' ? json.error : json.error?.code;
      if (res.status === 429 && attempt < 3) {
        const wait = Number(json.retry_after ?? json.error?.retry_after ?? 10);
        log(`[http-miner] rate limited, waiting ${wait}s`);
        await new Promise((r) => setTimeout(r, Math.min(wait, 60) * 1000));
        continue;
      }
      if ((code === 'session_invalid' || code === 'session_expired') && attempt < 3 && !path.endsWith('/session')) {
        await newSession();
        if (password) await raw('POST', '/api/v2/spacemolt_auth/login', { username, password });
        continue;
      }
      return { status: res.status, body: json };
    }
  };
  const newSession = async (): Promise<void> => {
    session = '';
    const r = await raw('POST', '/api/v2/session');
    if (r.status !== 200) throw new Error(`session: HTTP ${r.status}`);
    session = r.body.session.id;
  };
  const call = async (path: string, body?: Record<string, unknown>): Promise<V2Reply> => {
    const r = await raw('POST', `/api/v2/${path}`, body);
    if (r.body.session?.id && r.body.session.id !== session) session = r.body.session.id;
    return r;
  };
  const must = async (path: string, body?: Record<string, unknown>): Promise<any> => {
    const r = await call(path, body);
    if (r.body.error) throw new Error(`${path}: ${r.body.error.code} ${r.body.error.message}`);
    return r.body;
  };
  /** A PendingActionResponse mutation: the outcome is the action_result / action_error notification. */
  const pendingAct = async (path: string, command: string): Promise<{ ok: boolean; data: any }> => {
    const env = await must(path);
    const n = (env.notifications as { msg_type: string; data: any }[]).find((x) => (x.msg_type === 'action_result' || x.msg_type === 'action_error') && x.data?.command === command);
    if (!n) throw new Error(`${path}: no action_result in notifications`);
    return { ok: n.msg_type === 'action_result', data: n.data };
  };

  try {
    await newSession();
    if (options.password) {
      const li = await must('spacemolt_auth/login', { username, password });
      summary.playerId = li.structuredContent.player.id;
    } else {
      const reg = await must('spacemolt_auth/register', { username, empire: options.empire ?? 'solarian', registration_code: options.registrationCode ?? 'rewind-simulator' });
      password = reg.structuredContent.password;
      summary.playerId = reg.structuredContent.player_id;
    }
    summary.password = password;
    const { belt, home } = pickPois((await must('spacemolt/get_system')).structuredContent.system);
    summary.creditsStart = (await must('spacemolt/get_status')).structuredContent.player.credits;
    log(`[http-miner] ${username}: belt ${belt}, home ${home}, ${summary.creditsStart} credits`);

    for (let cycle = 0; cycle < (options.cycles ?? 1); cycle++) {
      const state = (await must('spacemolt/get_location')).structuredContent.location;
      if (state.docked_at) await must('spacemolt/undock');
      if (state.poi_id !== belt) await must('spacemolt/travel', { id: belt });
      for (;;) {
        const r = await pendingAct('spacemolt/mine', 'mine');
        if (!r.ok) {
          if (r.data.code === 'no_cargo_space') break;
          throw new Error(`mine failed: ${r.data.code} ${r.data.message}`);
        }
        summary.mineActions++;
        if (r.data.result.cargo_used >= r.data.result.cargo_capacity) break;
      }
      await must('spacemolt/travel', { id: home });
      const dock = await pendingAct('spacemolt/dock', 'dock');
      if (!dock.ok) throw new Error(`dock failed: ${dock.data.code}`);
      const cargo = (await must('spacemolt/get_cargo')).structuredContent.cargo as { item_id: string; quantity: number }[];
      for (const item of cargo) {
        const sold = (await must('spacemolt/sell', { id: item.item_id, quantity: item.quantity })).structuredContent;
        summary.unitsSold += sold.quantity_sold;
        summary.salesTotal += sold.total_earned;
      }
      const fuel = (await must('spacemolt/refuel')).structuredContent;
      summary.fuelBought += Number(fuel.cost ?? 0);
      summary.cyclesCompleted++;
      log(`[http-miner] cycle ${cycle + 1} done`);
    }
    summary.creditsEnd = (await must('spacemolt/get_status')).structuredContent.player.credits;
    summary.creditsEarned = summary.creditsEnd - summary.creditsStart;
    await must('spacemolt_auth/logout');
    return summary;
  } catch (e) {
    if (options.signal?.aborted) return { ...summary, aborted: true };
    throw e;
  }
}
