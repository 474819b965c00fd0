/**
 * What a runbook's steps may use. Built once per worker (src/main.ts, the console, tests) and handed to every job.
 */
import type { Registry } from '../schema/registry.js';
import type { Warehouse } from '../warehouse/port.js';

export interface RunbookDeps {
  warehouse: Warehouse;
  registry: Registry;
}
