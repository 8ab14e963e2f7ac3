import type { Command } from 'commander';
import { registerWorldExportCommand } from './world-export';
import { registerWorldImportCommand } from './world-import';

/** `lorekeeper world export|import`: a campaign's world and history as a file, and back. */
export function registerWorldCommand(program: Command): void {
  const world = program
    .command('world')
    .description('Export a campaign to a zip, or import a world document or an export as a new campaign.');
  registerWorldExportCommand(world);
  registerWorldImportCommand(world);
}
