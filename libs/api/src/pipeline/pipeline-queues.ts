/**
 * The pipeline's queues as the API uses them (dead letters, depths for /metrics and /health/ready): the
 * instances BullModule registers in the API (see queue-board.ts), which also closes them on shutdown.
 */
export { PipelineQueueSet as PipelineQueues } from '@rewind/pipeline';
