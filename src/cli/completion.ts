/**
 * Shell completion scripts generated from the commander tree, so a new command or option completes
 * without touching this file. Completes command words, then the options of the command reached.
 */
import type { Command } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface Node {
  path: string[];
  options: string[];
  children: string[];
}

function walk(cmd: Command, path: string[], out: Node[], inherited: string[]): void {
  const own = cmd.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
  const options = [...new Set([...inherited, ...own, '--help'])];
  const children = cmd.commands.map((c) => c.name());
  out.push({ path, options, children });
  for (const child of cmd.commands) walk(child, [...path, child.name()], out, path.length === 0 ? own : inherited);
}

export function completionScript(program: Command, shell: Shell): string {
  const nodes: Node[] = [];
  walk(program, [], nodes, []);
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
  if (shell === 'bash') {
    const cases = nodes
      .map((n) => `    "${n.path.join(' ')}") words_="${[...n.children, ...n.options].join(' ')}" ;;`)
      .join('\n');
    return `# bash completion for ${name}; add to ~/.bashrc: source <(${name} completion bash)
${fn}() {
  local cur path_ i w words_
  cur="\${COMP_WORDS[COMP_CWORD]}"
  path_=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "$path_" in
${nodes
  .filter((n) => n.children.length > 0)
  .map((n) => `      "${n.path.join(' ')}") case "$w" in ${n.children.join('|')}) path_="\${path_:+$path_ }$w" ;; esac ;;`)
  .join('\n')}
    esac
  done
  case "$path_" in
${cases}
    *) words_="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words_" -- "$cur") )
}
complete -o default -F ${fn} ${name}
`;
  }
  if (shell === 'zsh') {
    return `#compdef ${name}
# zsh completion for ${name}; add to ~/.zshrc: source <(${name} completion zsh)
autoload -U bashcompinit && bashcompinit
${completionScript(program, 'bash').split('\n').slice(1).join('\n')}`;
  }
  const lines = [`# fish completion for ${name}; save as ~/.config/fish/completions/${name}.fish`, `complete -c ${name} -f`];
  for (const n of nodes) {
    const cond =
      n.path.length === 0
        ? `__fish_use_subcommand`
        : `__fish_seen_subcommand_from ${n.path[n.path.length - 1]}`;
    for (const child of n.children) lines.push(`complete -c ${name} -n '${cond}' -a ${child}`);
    for (const opt of n.options) {
      if (opt.startsWith('--')) lines.push(`complete -c ${name} -n '${cond}' -l ${opt.slice(2)}`);
      else lines.push(`complete -c ${name} -n '${cond}' -s ${opt.slice(1)}`);
    }
  }
  return lines.join('\n') + '\n';
}
