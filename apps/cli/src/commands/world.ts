import type { Command } from 'commander';
import { registerWorldExportCommand } from './world-export';
import { registerWorldImportCommand } from './world-import';

/** `lorekeeper world export|import`: a campaign's world and history as a file, and back. */
export function registerWorldCommand(program: Command): void {
  const world = program
    .command('world')
    .description('Export a campaign to a zip, or import a world document or an export as a new campaign.')
    .addHelpText(
      'after',
      `
Examples:
  $ lorekeeper world export c1 -o c1.zip
  $ lorekeeper world import c1.zip --as c1-copy
  $ lorekeeper world import new-world.json`,
    );
  registerWorldExportCommand(world);
  registerWorldImportCommand(world);
}
