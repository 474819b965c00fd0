/** Every command but help, in the order help lists them (help.ts adds itself first). */
import type { CommandDefinition } from './definition.js';
import { cancel } from './cancel.js';
import { compare } from './compare.js';
import { hygiene } from './hygiene.js';
import { job } from './job.js';
import { jobs } from './jobs.js';
import { modify } from './modify.js';
import { plan } from './plan.js';
import { recover } from './recover.js';
import { rollback } from './rollback.js';
import { schema } from './schema.js';
import { setup } from './setup.js';
import { status } from './status.js';
import { unlock } from './unlock.js';

export const OTHER_COMMANDS: readonly CommandDefinition[] = [status, hygiene, modify, plan, recover, setup, compare, jobs, job, cancel, rollback, unlock, schema];
