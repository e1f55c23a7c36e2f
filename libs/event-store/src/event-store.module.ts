import { Global, Module } from '@nestjs/common';
import { Pool } from 'pg';
import { PG_POOL } from '@rewind/db';
import { EventStore } from './event-store';

@Global()
@Module({
  providers: [{ provide: EventStore, useFactory: (pool: Pool) => new EventStore(pool), inject: [PG_POOL] }],
  exports: [EventStore],
})
export class EventStoreModule {}
