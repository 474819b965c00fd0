/** setup's DMS part (built on the shared DMS steps once they land). */
import type { Step } from '../runbook.js';
import type { RunbookDeps } from '../deps.js';
import type { TableDef } from '../../schema/model.js';

export function dmsSetupSteps(_t: TableDef): Step<RunbookDeps>[] {
  return [];
}
