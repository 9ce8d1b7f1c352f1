/**
 * What a mistyped command line gets instead of commander's bare "unknown command": the nearest
 * command of that level; at the top, also a scenario step of that name (`copy` is a step, typed
 * in `copylab shell` or a scenario, not a command) and a subcommand of another command
 * (`copylab nvme copy`). Near: a few edits (isNear).
 */
import type { Command } from 'commander';
import { isNear as near } from '../scenario/fields.js';
import { STEP_KINDS } from '../scenario/registry.js';
import { UsageError } from './numbers.js';

/** `copylab nvme copy` for a command inside the program. */
function fullName(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x; x = x.parent) names.unshift(x.name());
  return names.join(' ');
}

const visible = (c: Command): Command[] => c.commands.filter((x) => x.name() !== 'help');

/** The message for `word`, unknown among `group`'s subcommands. */
export function unknownCommandMessage(group: Command, word: string): string {
  const ideas: string[] = [];
  for (const c of visible(group)) if ([c.name(), ...c.aliases()].some((n) => near(word, n))) ideas.push(`\`${fullName(c)}\``);
  if (!group.parent) {
    const commands = new Set(visible(group).map((c) => c.name()));
    for (const s of STEP_KINDS) if (near(word, s.kind) && !commands.has(s.kind)) ideas.push(`the ${s.kind} step, a line \`${s.kind}: { … }\` in \`copylab shell\` or a scenario (\`copylab explain ${s.kind}\`)`);
    for (const c of visible(group)) for (const sub of visible(c)) if (near(word, sub.name())) ideas.push(`\`${fullName(sub)}\``);
  }
  const unique = [...new Set(ideas)];
  const help = `\`${fullName(group)} --help\` lists ${group.parent ? 'its' : 'the'} commands`;
  return `${group.parent ? `${group.name()}: ` : ''}unknown command '${word}'${unique.length ? `; did you mean ${unique.join(' or ')}?` : ''} (${help})`;
}

/** Makes every command with subcommands refuse an unknown one with unknownCommandMessage (exit 2). */
export function suggestUnknownCommands(c: Command): void {
  if (visible(c).length) {
    c.on('command:*', (operands: string[]) => {
      throw new UsageError(unknownCommandMessage(c, operands[0] ?? ''));
    });
  }
  for (const sub of c.commands) suggestUnknownCommands(sub);
}
