import { Global, Module } from '@nestjs/common';
import { PrismaService } from '@rewind/db';
import { EventStore } from './event-store';
import { EventReadsRepository } from './repositories/event-reads.repository';
import { OutboxRepository } from './repositories/outbox.repository';
import { SessionsRepository } from './repositories/sessions.repository';

/** The event store and its repositories, on the app's one PrismaService (DbModule). */
@Global()
@Module({
  providers: [
    { provide: EventStore, useFactory: (prisma: PrismaService) => new EventStore(prisma), inject: [PrismaService] },
    { provide: SessionsRepository, useFactory: (store: EventStore) => store.sessions, inject: [EventStore] },
    { provide: EventReadsRepository, useFactory: (store: EventStore) => store.reads, inject: [EventStore] },
    { provide: OutboxRepository, useFactory: (prisma: PrismaService) => new OutboxRepository(prisma), inject: [PrismaService] },
  ],
  exports: [EventStore, SessionsRepository, EventReadsRepository, OutboxRepository],
})
export class EventStoreModule {}
