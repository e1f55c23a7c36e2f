import { Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Pool } from 'pg';
import { AuditService, StoredAudit } from '@rewind/audit';
import { PG_POOL } from '@rewind/db';
import { PLATFORMS } from '@rewind/event-store';
import { commonFilters, intParam, oneOfParam } from '../sessions/query';
import { RequireScope } from '../auth/scope.guard';

const auditView = (a: StoredAudit) => ({
  id: a.id,
  runKey: a.runKey,
  platform: a.platform,
  runSessionId: a.runSessionId,
  auditedAt: a.auditedAt.toISOString(),
  trigger: a.trigger,
  status: a.status,
  counts: { ok: a.findings.filter((f) => f.status === 'ok').length, mismatch: a.findings.filter((f) => f.status === 'mismatch').length, unverifiable: a.findings.filter((f) => f.status === 'unverifiable').length },
  findings: a.findings,
});

const notARun = (id: string) => new NotFoundException({ error: 'not_found', message: `no run with session ${id.slice(0, 80)} (unknown id, or a stream that is no run)` });

@ApiTags('audit')
@RequireScope('read')
@Controller('api/sessions')
export class AuditController {
  constructor(private readonly audits: AuditService) {}

  @Get(':id/audit')
  @ApiOperation({ summary: "The newest audit of the run this session belongs to (findings: ok, mismatch with expected/found, unverifiable with the reason); audits it now when it never was" })
  @ApiOkResponse({ description: '{ id, runKey, platform, runSessionId, auditedAt, trigger, status, counts, findings[] }' })
  async latest(@Param('id') id: string) {
    const stored = (await this.audits.latest(id)) ?? (await this.audits.auditSession(id, 'on-demand'));
    if (!stored || stored === 'pending') throw notARun(id);
    return auditView(stored);
  }

  @Post(':id/audit')
  @RequireScope('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Audits the run this session belongs to now, stores and returns the result' })
  async audit(@Param('id') id: string) {
    const stored = await this.audits.auditSession(id, 'on-demand');
    if (!stored || stored === 'pending') throw notARun(id);
    return auditView(stored);
  }
}

const GROUPS = ['game', 'agent', 'day', 'platform'] as const;
const GROUP_SQL: Record<(typeof GROUPS)[number], string> = { game: 'game', agent: 'agent', platform: 'platform::text', day: "to_char(date_trunc('day', started_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')" };
const AUDIT_STATUSES = ['ok', 'mismatch', 'unverifiable'] as const;

interface SummaryRow {
  run_key: string;
  platform: string;
  game: string | null;
  agent: string | null;
  source: string | null;
  platform_session_id: string | null;
  run_session_id: string | null;
  streams: number;
  started_at: Date | null;
  ended_at: Date | null;
  duration_ms: number | null;
  score: number | null;
  lives_lost: number | null;
  inputs: number;
  inputs_per_minute: number | null;
  reaction_p50_ms: number | null;
  reaction_p95_ms: number | null;
  gaps: number;
  snapshot_status: string | null;
  reward_status: string | null;
  audit_status: string | null;
  extra: Record<string, unknown>;
}

const runView = (r: SummaryRow) => ({
  runKey: r.run_key,
  platform: r.platform,
  game: r.game,
  agent: r.agent,
  source: r.source,
  platformSessionId: r.platform_session_id,
  runSessionId: r.run_session_id,
  streams: r.streams,
  startedAt: r.started_at?.toISOString() ?? null,
  endedAt: r.ended_at?.toISOString() ?? null,
  durationMs: r.duration_ms,
  score: r.score,
  livesLost: r.lives_lost,
  inputs: r.inputs,
  inputsPerMinute: r.inputs_per_minute,
  reactionP50Ms: r.reaction_p50_ms,
  reactionP95Ms: r.reaction_p95_ms,
  gaps: r.gaps,
  snapshotStatus: r.snapshot_status,
  rewardStatus: r.reward_status,
  auditStatus: r.audit_status,
  extra: r.extra,
});

@ApiTags('analytics')
@RequireScope('read')
@Controller('api/analytics')
export class AnalyticsController {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly audits: AuditService,
  ) {}

  @Get('runs')
  @ApiOperation({ summary: 'Per-run summaries (the run_summaries projection), filtered; with groupBy, aggregates per group (docs/analytics.md)' })
  @ApiQuery({ name: 'platform', required: false, enum: PLATFORMS })
  @ApiQuery({ name: 'game', required: false })
  @ApiQuery({ name: 'agent', required: false })
  @ApiQuery({ name: 'auditStatus', required: false, enum: AUDIT_STATUSES })
  @ApiQuery({ name: 'from', required: false, description: 'started at or after (ISO 8601)' })
  @ApiQuery({ name: 'to', required: false, description: 'started before (ISO 8601)' })
  @ApiQuery({ name: 'groupBy', required: false, enum: GROUPS, description: 'aggregate per game, agent, day (UTC) or platform' })
  @ApiQuery({ name: 'limit', required: false, description: 'runs: 1–1000, default 100 (newest first)' })
  @ApiOkResponse({ description: '{ runs: RunSummary[] } or { groupBy, groups: [{ key, runs, avgScore, maxScore, avgDurationMs, totalInputs, avgInputsPerMinute, avgReactionP50Ms, gaps, livesLost, audit: {ok, mismatch, unverifiable, none} }] }' })
  async runs(@Query() q: Record<string, string | undefined>) {
    const w = commonFilters(q, PLATFORMS);
    const auditStatus = oneOfParam(q['auditStatus'], 'auditStatus', AUDIT_STATUSES);
    if (auditStatus) w.add('audit_status = $?', auditStatus);
    const groupBy = oneOfParam(q['groupBy'], 'groupBy', GROUPS);
    if (!groupBy) {
      const limit = intParam(q['limit'], 'limit', 100, 1, 1000);
      w.args.push(limit);
      const { rows } = await this.pool.query<SummaryRow>(`SELECT * FROM run_summaries ${w.sql} ORDER BY started_at DESC NULLS LAST, run_key LIMIT $${w.args.length}`, w.args);
      return { runs: rows.map(runView) };
    }
    const key = GROUP_SQL[groupBy];
    const { rows } = await this.pool.query(
      `SELECT ${key} AS key, count(*)::int AS runs, avg(score) AS "avgScore", max(score) AS "maxScore", avg(duration_ms) AS "avgDurationMs",
              sum(inputs)::int AS "totalInputs", avg(inputs_per_minute) AS "avgInputsPerMinute", avg(reaction_p50_ms) AS "avgReactionP50Ms",
              sum(gaps)::int AS gaps, sum(lives_lost)::int AS "livesLost",
              count(*) FILTER (WHERE audit_status = 'ok')::int AS ok, count(*) FILTER (WHERE audit_status = 'mismatch')::int AS mismatch,
              count(*) FILTER (WHERE audit_status = 'unverifiable')::int AS unverifiable, count(*) FILTER (WHERE audit_status IS NULL)::int AS none
         FROM run_summaries ${w.sql} GROUP BY 1 ORDER BY 1 NULLS LAST`,
      w.args,
    );
    return {
      groupBy,
      groups: rows.map((r: Record<string, unknown>) => ({
        key: r['key'],
        runs: r['runs'],
        avgScore: r['avgScore'],
        maxScore: r['maxScore'],
        avgDurationMs: r['avgDurationMs'],
        totalInputs: r['totalInputs'],
        avgInputsPerMinute: r['avgInputsPerMinute'],
        avgReactionP50Ms: r['avgReactionP50Ms'],
        gaps: r['gaps'],
        livesLost: r['livesLost'],
        audit: { ok: r['ok'], mismatch: r['mismatch'], unverifiable: r['unverifiable'], none: r['none'] },
      })),
    };
  }

  @Post('rebuild')
  @RequireScope('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rebuilds run_summaries from the events of every run' })
  async rebuild() {
    return { rebuilt: await this.audits.rebuildSummaries() };
  }
}
