import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { OutboxRepository } from '@rewind/event-store';
import { AppMetricsRegistry } from '@rewind/observability';
import { PIPELINE_QUEUES, queueDepths } from '@rewind/pipeline';
import { PipelineQueues } from '../pipeline/pipeline-queues';

/**
 * The API's pipeline gauges, read from BullMQ and the outbox when scraped: `rewind_queue_jobs{queue,state}` and
 * `rewind_outbox_pending{queue}`. In the application's own registry (they read this application's connections).
 */
@Injectable()
export class PipelineGauges implements OnModuleInit {
  constructor(
    private readonly registry: AppMetricsRegistry,
    private readonly p: PipelineQueues,
    private readonly outbox: OutboxRepository,
  ) {}

  onModuleInit(): void {
    const p = this.p;
    const outbox = this.outbox;
    new Gauge({
      name: 'rewind_queue_jobs',
      help: 'Jobs of the outcome pipeline by queue and state (completed: kept 7 days; failed: dead letters).',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      // Every worker of a clustered API reads the same queues: one reading, not their sum.
      aggregator: 'max',
      async collect() {
        const depths = await queueDepths(p.queues);
        this.reset();
        for (const q of PIPELINE_QUEUES) for (const [state, n] of Object.entries(depths[q])) this.labels(q, state).set(n);
      },
    });
    new Gauge({
      name: 'rewind_outbox_pending',
      help: 'Outbox rows not yet relayed to BullMQ.',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      aggregator: 'max',
      async collect() {
        const pending = await outbox.pendingByQueue();
        for (const q of PIPELINE_QUEUES) this.labels(q).set(pending.get(q) ?? 0);
      },
    });
  }
}
