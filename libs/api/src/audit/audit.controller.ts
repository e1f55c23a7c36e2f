import { Controller, Get, HttpCode, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AnalyticsRepository, AuditService, RUN_GROUPS, StoredAudit } from '@rewind/audit';
import { PrismaService, RunSummaryModel } from '@rewind/db';
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
  counts: {
    ok: a.findings.filter((f) => f.status === 'ok').length,
    mismatch: a.findings.filter((f) => f.status === 'mismatch').length,
    unverifiable: a.findings.filter((f) => f.status === 'unverifiable').length,
  },
  findings: a.findings,
});

const notARun = (id: string) => new NotFoundException({ error: 'not_found', message: `no run with session ${id.slice(0, 80)} (unknown id, or a stream that is no run)` });

@ApiTags('audit')
@RequireScope('read')
@Controller('api/sessions')
export class AuditController {
  constructor(private readonly audits: AuditService) {}

  @Get(':id/audit')
  @ApiOperation({ summary: 'The newest audit of the run this session belongs to (findings: ok, mismatch with expected/found, unverifiable with the reason); audits it now when it never was' })
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

const AUDIT_STATUSES = ['ok', 'mismatch', 'unverifiable'] as const;

const runView = (r: RunSummaryModel) => ({
  runKey: r.runKey,
  platform: r.platform,
  game: r.game,
  agent: r.agent,
  source: r.source,
  platformSessionId: r.platformSessionId,
  runSessionId: r.runSessionId,
  streams: r.streams,
  startedAt: r.startedAt?.toISOString() ?? null,
  endedAt: r.endedAt?.toISOString() ?? null,
  durationMs: r.durationMs,
  score: r.score,
  livesLost: r.livesLost,
  inputs: r.inputs,
  inputsPerMinute: r.inputsPerMinute,
  reactionP50Ms: r.reactionP50Ms,
  reactionP95Ms: r.reactionP95Ms,
  gaps: r.gaps,
  snapshotStatus: r.snapshotStatus,
  rewardStatus: r.rewardStatus,
  auditStatus: r.auditStatus,
  extra: r.extra,
});

@ApiTags('analytics')
@RequireScope('read')
@Controller('api/analytics')
export class AnalyticsController {
  private readonly analytics: AnalyticsRepository;

  constructor(
    prisma: PrismaService,
    private readonly audits: AuditService,
  ) {
    this.analytics = new AnalyticsRepository(prisma);
  }

  @Get('runs')
  @ApiOperation({ summary: 'Per-run summaries (the run_summaries projection), filtered; with groupBy, aggregates per group (docs/analytics.md)' })
  @ApiQuery({ name: 'platform', required: false, enum: PLATFORMS })
  @ApiQuery({ name: 'game', required: false })
  @ApiQuery({ name: 'agent', required: false })
  @ApiQuery({ name: 'auditStatus', required: false, enum: AUDIT_STATUSES })
  @ApiQuery({ name: 'from', required: false, description: 'started at or after (ISO 8601)' })
  @ApiQuery({ name: 'to', required: false, description: 'started before (ISO 8601)' })
  @ApiQuery({ name: 'groupBy', required: false, enum: RUN_GROUPS, description: 'aggregate per game, agent, day (UTC) or platform' })
  @ApiQuery({ name: 'limit', required: false, description: 'runs: 1–1000, default 100 (newest first)' })
  @ApiOkResponse({
    description:
      '{ runs: RunSummary[] } or { groupBy, groups: [{ key, runs, avgScore, maxScore, avgDurationMs, totalInputs, avgInputsPerMinute, avgReactionP50Ms, gaps, livesLost, audit: {ok, mismatch, unverifiable, none} }] }',
  })
  async runs(@Query() q: Record<string, string | undefined>) {
    const common = commonFilters(q, PLATFORMS);
    const auditStatus = oneOfParam(q['auditStatus'], 'auditStatus', AUDIT_STATUSES);
    const filters = { ...common, ...(auditStatus ? { auditStatus } : {}) };
    const groupBy = oneOfParam(q['groupBy'], 'groupBy', RUN_GROUPS);
    if (!groupBy) {
      const limit = intParam(q['limit'], 'limit', 100, 1, 1000);
      return { runs: (await this.analytics.runs(filters, limit)).map(runView) };
    }
    const rows = await this.analytics.groups(groupBy, filters);
    return {
      groupBy,
      groups: rows.map((r) => ({
        key: r.key,
        runs: r.runs,
        avgScore: r.avgScore,
        maxScore: r.maxScore,
        avgDurationMs: r.avgDurationMs,
        totalInputs: r.totalInputs,
        avgInputsPerMinute: r.avgInputsPerMinute,
        avgReactionP50Ms: r.avgReactionP50Ms,
        gaps: r.gaps,
        livesLost: r.livesLost,
        audit: { ok: r.ok, mismatch: r.mismatch, unverifiable: r.unverifiable, none: r.none },
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
