import type { Nouns } from '../program';
import type { Io } from '../runner';

export function registerInspectCommands(_nouns: Nouns, _io: Io): void {
  // commands of this group are added here
}
