// Shell completion generated from the command tree itself, so it covers every command any module registers:
// `countersign completion bash|zsh|fish` prints a script to source (see docs/reference/cli.md).
import { Argument, type Command } from 'commander';
import type { CliIo } from './output';

interface Node {
  path: string;
  words: string[];
}

/** Every command path (`""`, `requests`, `requests list`, …) with the subcommands and options completed there. */
export function completionTable(root: Command): Node[] {
  const nodes: Node[] = [];
  const visit = (cmd: Command, path: string[]) => {
    const words = [
      ...cmd.commands.map((c) => c.name()),
      ...cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f))),
      '--help',
    ];
    nodes.push({ path: path.join(' '), words: [...new Set(words)] });
    for (const sub of cmd.commands) visit(sub, [...path, sub.name()]);
  };
  visit(root, []);
  return nodes;
}

/** A bash completion script (zsh loads it through bashcompinit). */
export function bashCompletion(root: Command): string {
  const name = root.name();
  const cases = completionTable(root)
    .map((n) => `    "${n.path}") words="${n.words.join(' ')}" ;;`)
    .join('\n');
  return `# ${name} completion for bash; zsh: autoload -U +X bashcompinit && bashcompinit, then source this.
_${name}_complete() {
  local cur path="" w i words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "\${path:+$path }$w" in
${completionTable(root)
  .filter((n) => n.path)
  .map((n) => `      "${n.path}") path="${n.path}" ;;`)
  .join('\n')}
    esac
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _${name}_complete ${name}
`;
}

/** A fish completion script. */
export function fishCompletion(root: Command): string {
  const name = root.name();
  const lines = [`# ${name} completion for fish: ${name} completion fish > ~/.config/fish/completions/${name}.fish`];
  for (const node of completionTable(root)) {
    const depth = node.path ? node.path.split(' ') : [];
    const condition = depth.length
      ? `__fish_seen_subcommand_from ${depth.at(-1)}`
      : `not __fish_seen_subcommand_from ${root.commands.map((c) => c.name()).join(' ')}`;
    const subs = node.words.filter((w) => !w.startsWith('-'));
    const longs = node.words.filter((w) => w.startsWith('--')).map((w) => w.slice(2));
    if (subs.length) lines.push(`complete -c ${name} -f -n '${condition}' -a '${subs.join(' ')}'`);
    for (const long of longs) lines.push(`complete -c ${name} -n '${condition}' -l ${long}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Registers `countersign completion <shell>`. */
export function registerCompletionCommand(program: Command, io: CliIo): void {
  program
    .command('completion')
    .description('Print a shell completion script: `source <(countersign completion bash)`.')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .action((shell: 'bash' | 'zsh' | 'fish') => {
      io.out(shell === 'fish' ? fishCompletion(program) : bashCompletion(program));
    });
}
