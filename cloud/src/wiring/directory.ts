// Data and consumers administration, the programmatic twin of the admin REST endpoints.
import { addUser, type NewUser, type User } from '../auth/users.ts';
import { addConsumer, type ConsumerCredentials, type NewConsumer } from '../dispatch/consumers.ts';
import { importAddressesCsv, importRulesCsv, importUnitsCsv } from '../routing/directory.ts';
import type { Store } from '../store/store.ts';

export interface Directory {
  importAddressesCsv(csv: string): Promise<number>;
  importUnitsCsv(csv: string): Promise<number>;
  importRulesCsv(csv: string): Promise<number>;
  addConsumer(consumer: NewConsumer): Promise<ConsumerCredentials>;
  /** Console users (the programmatic twin of `gridwatch-cloud user add`). */
  addUser(user: NewUser): Promise<User>;
}

export function directoryOf(store: Store): Directory {
  return {
    importAddressesCsv: (csv) => store.transaction((tx) => importAddressesCsv(tx, csv)),
    importUnitsCsv: (csv) => store.transaction((tx) => importUnitsCsv(tx, csv)),
    importRulesCsv: (csv) => store.transaction((tx) => importRulesCsv(tx, csv)),
    addConsumer: (consumer) => addConsumer(store, consumer),
    addUser: (user) => addUser(store, user),
  };
}
