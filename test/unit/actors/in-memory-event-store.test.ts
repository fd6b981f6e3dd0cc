import { InMemoryEventStore } from '../../../src/infra/event-store/in-memory.ts';
import { eventStoreContract } from '../../contract/event-store.contract.ts';

eventStoreContract('in-memory', () => new InMemoryEventStore());
