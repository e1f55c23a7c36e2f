import { HttpApi, HttpSession, MAX_QUEUED_NOTIFICATIONS } from './http-api';
import { notificationCategory } from './messages';

describe('HTTP session notification queue', () => {
  const api = {
    nextNotificationId: (() => {
      let n = 0;
      return () => `n${++n}`;
    })(),
    game: { nowIso: () => '2026-05-28T12:00:00.000Z' },
  } as unknown as HttpApi;

  it('queues pushes as {id, type, msg_type, timestamp, data} and drains them once', () => {
    const s = new HttpSession('abc', 'v2', 0, api);
    s.push('chat_message', { content: 'hi' });
    s.push('mining_yield', { quantity: 3 });
    expect(s.drain()).toEqual([
      { id: 'n1', type: 'chat', msg_type: 'chat_message', timestamp: '2026-05-28T12:00:00.000Z', data: { content: 'hi' } },
      { id: 'n2', type: 'system', msg_type: 'mining_yield', timestamp: '2026-05-28T12:00:00.000Z', data: { quantity: 3 } },
    ]);
    expect(s.drain()).toEqual([]);
  });

  it(`keeps at most ${MAX_QUEUED_NOTIFICATIONS} undelivered notifications, dropping the oldest`, () => {
    const s = new HttpSession('abc', 'v2', 0, api);
    for (let i = 0; i < MAX_QUEUED_NOTIFICATIONS + 5; i++) s.push('chat_message', { i });
    const q = s.drain();
    expect(q).toHaveLength(MAX_QUEUED_NOTIFICATIONS);
    expect(q[0]!.data).toEqual({ i: 5 });
  });

  it('categories follow the v0.327.2 list', () => {
    expect(['chat_message', 'combat_update', 'player_died', 'trade_offer_received', 'gameplay_tip', 'action_result', 'mining_yield'].map(notificationCategory)).toEqual([
      'chat',
      'combat',
      'combat',
      'trade',
      'tip',
      'system',
      'system',
    ]);
  });

  it('session info: expires_at = last use + 30 min, player_id only once logged in', () => {
    const s = new HttpSession('abc', 'v1', Date.UTC(2026, 0, 1), api);
    expect(s.info()).toEqual({ id: 'abc', created_at: '2026-01-01T00:00:00.000Z', expires_at: '2026-01-01T00:30:00.000Z' });
  });
});
