/**
 * Shell completion scripts generated from the commander tree, so a new command, option or argument
 * completes without touching this file. What a word completes to comes from the tree's metadata:
 *
 * - a command's subcommands, until one is chosen or an argument given;
 * - after an option that takes a value (`--team <team>`), that value, never the next command: the
 *   option's choices if it has any, files for a value named file or path, folders for one named dir
 *   or folder, else nothing (a name, an email: only the user knows it, and completion never asks
 *   the server);
 * - an argument likewise by its choices or name (`clone <workspace> [dir]`: nothing, then folders),
 *   and `help [command...]` the names of the commands under the one `help` belongs to (`help team
 *   co`, `team help co`);
 * - a word starting with `-`, or a place where no argument is expected: the options of the command
 *   reached, its own and those of the commands above it (commander accepts those anywhere).
 *
 * bash and zsh share one walker in plain sh (zsh runs it under `emulate sh`); fish has its own.
 */
import type { Argument, Command, Option } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What a value completes to: `choice a b c` lists its choices; `command` is a path of command names (help). */
type Kind = 'none' | 'file' | 'dir' | 'command' | `choice ${string}`;

interface ValueOption {
  flags: string[];
  kind: Kind;
  /** `--opt [value]`: the next word is its value only if it does not start with `-` */
  optional: boolean;
}

interface Node {
  path: string;
  children: string[];
  /** every option accepted here: the command's own, then its ancestors' */
  options: string[];
  /** the value-taking options the command itself defines */
  values: ValueOption[];
  args: Kind[];
  /** the last argument takes any number of words */
  variadic: boolean;
}

/** Words a script may hold unquoted: command names, option flags, choices. Others are left out. */
const SAFE = /^[A-Za-z0-9][A-Za-z0-9._:@+/-]*$|^--?[A-Za-z0-9][A-Za-z0-9-]*$/;
const safe = (words: string[]): string[] => words.filter((w) => SAFE.test(w));

function kindOf(choices: string[] | undefined, valueName: string, variadic: boolean): Kind {
  if (choices && choices.length > 0) return `choice ${safe(choices).join(' ')}`;
  if (variadic && valueName === 'command') return 'command';
  if (/(^|[-_])(dir|folder|directory)$/i.test(valueName)) return 'dir';
  if (/(^|[-_])(file|path)$/i.test(valueName)) return 'file';
  return 'none';
}

function optionValue(o: Option): ValueOption | undefined {
  if (!o.required && !o.optional) return undefined;
  const name = /[<[]([^>\]]*)[>\]]/.exec(o.flags)?.[1]?.replace(/\.\.\.$/, '') ?? '';
  return { flags: safe([o.long, o.short].filter((f): f is string => Boolean(f))), kind: kindOf(o.argChoices, name, false), optional: o.optional };
}

const argKind = (a: Argument): Kind => kindOf(a.argChoices, a.name(), a.variadic);

function walk(cmd: Command, path: string[], out: Node[], inherited: string[]): void {
  const visible = cmd.options.filter((o) => !o.hidden);
  const own = safe(visible.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f))));
  const options = [...new Set([...own, '--help', ...inherited])];
  const children = safe(cmd.commands.map((c) => c.name()));
  const values = visible.map(optionValue).filter((v): v is ValueOption => v !== undefined && v.flags.length > 0);
  const args = cmd.registeredArguments.map(argKind);
  out.push({ path: path.join(' '), children, options, values, args, variadic: cmd.registeredArguments.at(-1)?.variadic ?? false });
  for (const child of cmd.commands) {
    if (SAFE.test(child.name())) walk(child, [...path, child.name()], out, [...own, ...inherited]);
  }
}

/** Every node, and every value-taking option: deepest definition first, so a command's own wins. */
function model(program: Command): { nodes: Node[]; values: { path: string; option: ValueOption }[]; anywhere: Map<string, ValueOption> } {
  const nodes: Node[] = [];
  walk(program, [], nodes, []);
  const depth = (p: string): number => (p === '' ? 0 : p.split(' ').length);
  const values = nodes
    .flatMap((n) => n.values.map((option) => ({ path: n.path, option })))
    .sort((a, b) => depth(b.path) - depth(a.path));
  // An option not known where it is typed (`team --team x`) still takes a value if some command
  // defines it so: commander would refuse the line, but the value is no command name either.
  const anywhere = new Map<string, ValueOption>();
  for (const { option } of values) for (const f of option.flags) if (!anywhere.has(f)) anywhere.set(f, option);
  return { nodes, values, anywhere };
}

/** One `case` arm per argument position; `*)` is the variadic tail, or no argument ('' ). */
function argCases(n: Node, arm: (pattern: string, kind: string) => string): string[] {
  const fixed = n.variadic ? n.args.slice(0, -1) : n.args;
  return [...fixed.map((k, i) => arm(String(i), k)), arm('*', n.variadic ? (n.args.at(-1) ?? '') : '')];
}

export function completionScript(program: Command, shell: Shell): string {
  const name = program.name();
  const fn = `_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
  return shell === 'fish' ? fishScript(program, name, fn) : shScript(program, name, fn, shell);
}

/** The tables and the walker, in sh that bash runs as it is and zsh under `emulate -L sh`. */
function shCore(program: Command, fn: string): string {
  const { nodes, values, anywhere } = model(program);
  const sh = '[ -n "${ZSH_VERSION-}" ] && emulate -L sh';
  const valueArms = values.map(({ path, option }) => {
    const patterns = option.flags.flatMap((f) => (path === '' ? [`*"|${f}"`] : [`"${path}|${f}"`, `"${path} "*"|${f}"`]));
    return `    ${patterns.join('|')}) _ics_kind='${option.kind}' _ics_ko=${option.optional ? 'o' : 'r'} ;;`;
  });
  const elsewhere = [...anywhere].map(([f, o]) => `    ${f}) _ics_kind='${o.kind}' _ics_ko=${o.optional ? 'o' : 'r'} ;;`);
  return `# Tables: the subcommands, options and arguments of each command, by its path.
${fn}_children() {
  case "$1" in
${nodes
  .filter((n) => n.children.length > 0)
  .map((n) => `    "${n.path}") _ics_kids='${n.children.join(' ')}' ;;`)
  .join('\n')}
    *) _ics_kids= ;;
  esac
}
${fn}_options() {
  case "$1" in
${nodes.map((n) => `    "${n.path}") _ics_opts='${n.options.join(' ')}' ;;`).join('\n')}
    *) _ics_opts= ;;
  esac
}
# The kind of argument number $2 (from 0) of command $1: '' when it takes no more.
${fn}_arg() {
  case "$1" in
${nodes
  .filter((n) => n.args.length > 0)
  .map((n) => `    "${n.path}") case "$2" in ${argCases(n, (p, k) => `${p}) _ics_kind='${k}' ;;`).join(' ')} esac ;;`)
  .join('\n')}
    *) _ics_kind= ;;
  esac
}
# The value of option $2 of command $1 ('' for an option without one), and whether it is optional (o).
${fn}_value() {
  _ics_ko=
  case "$1|$2" in
${valueArms.join('\n')}
    *) case "$2" in
${elsewhere.map((l) => `  ${l}`).join('\n')}
      *) _ics_kind= ;;
    esac ;;
  esac
}
${fn}_has() { case " $1 " in *" $2 "*) [ -n "$2" ] ;; *) return 1 ;; esac; }

# Reads the words before the cursor: the command reached (_ics_path), the arguments given to it
# (_ics_npos), an option still waiting for its value (_ics_pend, its kind), past \`--\` (_ics_dd).
${fn}_walk() {
  ${sh}
  _ics_path= _ics_npos=0 _ics_pend= _ics_popt= _ics_dd= _ics_help=
  for _ics_w in "$@"; do
    if [ -n "$_ics_pend" ]; then
      [ "$_ics_w" = = ] && continue # bash splits --opt=value at the =
      _ics_kind=$_ics_popt _ics_pend=
      case "$_ics_kind$_ics_w" in o-?*) ;; *) continue ;; esac # an optional value not given: an option follows
    fi
    if [ -z "$_ics_dd" ]; then
      case "$_ics_w" in
        --) _ics_dd=1; continue ;;
        --*=*) continue ;;
        -?*)
          ${fn}_value "$_ics_path" "$_ics_w"
          [ -n "$_ics_kind" ] && _ics_pend=$_ics_kind _ics_popt=$_ics_ko
          continue ;;
      esac
    fi
    if [ "$_ics_npos" = 0 ]; then
      ${fn}_children "$_ics_path"
      # _ics_help: the command above, whose subcommands a \`help\` reached here names (\`team help co\`)
      if ${fn}_has "$_ics_kids" "$_ics_w"; then _ics_help=$_ics_path _ics_path=\${_ics_path:+$_ics_path }$_ics_w; continue; fi
    fi
    ${fn}_arg "$_ics_path" "$_ics_npos"
    if [ "$_ics_kind" = command ]; then
      ${fn}_children "$_ics_help"
      ${fn}_has "$_ics_kids" "$_ics_w" && _ics_help=\${_ics_help:+$_ics_help }$_ics_w
    fi
    _ics_npos=$((_ics_npos + 1))
  done
}

# What the word $1 completes to: words (_ics_words), or files or folders (_ics_files = file or dir).
${fn}_want() {
  ${sh}
  _ics_words= _ics_files= _ics_eq=
  if [ -z "$_ics_pend$_ics_dd" ]; then
    case "$1" in
      --*=*)
        ${fn}_value "$_ics_path" "\${1%%=*}"
        [ -n "$_ics_kind" ] && _ics_eq=\${1%%=*}= && ${fn}_kind "$_ics_kind"
        return ;;
    esac
  fi
  if [ -n "$_ics_pend" ]; then
    case "$_ics_popt$1" in
      o-*) ${fn}_options "$_ics_path"; _ics_words=$_ics_opts ;;
      *) ${fn}_kind "$_ics_pend" ;;
    esac
    return
  fi
  if [ -z "$_ics_dd" ]; then
    case "$1" in -*) ${fn}_options "$_ics_path"; _ics_words=$_ics_opts; return ;; esac
  fi
  if [ "$_ics_npos" = 0 ]; then
    ${fn}_children "$_ics_path"
    if [ -n "$_ics_kids" ]; then _ics_words=$_ics_kids; return; fi
  fi
  ${fn}_arg "$_ics_path" "$_ics_npos"
  if [ -n "$_ics_kind" ]; then ${fn}_kind "$_ics_kind"
  elif [ -z "$_ics_dd" ]; then ${fn}_options "$_ics_path"; _ics_words=$_ics_opts
  fi
}
${fn}_kind() {
  case "$1" in
    file | dir) _ics_files=$1 ;;
    command) ${fn}_children "$_ics_help"; _ics_words=$_ics_kids ;;
    "choice "*) _ics_words=\${1#choice } ;;
  esac
}`;
}

const SH_LOCALS = '_ics_path _ics_npos _ics_pend _ics_popt _ics_dd _ics_help _ics_w _ics_kind _ics_ko _ics_kids _ics_opts _ics_words _ics_files _ics_eq';

function shScript(program: Command, name: string, fn: string, shell: 'bash' | 'zsh'): string {
  const core = shCore(program, fn);
  if (shell === 'bash') {
    return `# bash completion for ${name}, generated by \`${name} completion bash\`. Load it in ~/.bashrc:
#   source <(${name} completion bash)
${core}

${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} f ${SH_LOCALS}
  [ "$cur" = = ] && cur= # --opt=<Tab>: bash splits the word at the =
  ${fn}_walk "\${COMP_WORDS[@]:1:COMP_CWORD-1}"
  ${fn}_want "$cur"
  COMPREPLY=()
  if [ -n "$_ics_files" ]; then
    # none found (a quoted or ~ path): bash's own file completion (-o default) takes over
    compopt -o filenames 2>/dev/null
    while IFS= read -r f; do COMPREPLY+=("$f"); done < <(compgen "-\${_ics_files:0:1}" -- "$cur")
  else
    compopt +o default 2>/dev/null # these words or nothing, never files
    COMPREPLY=($(compgen -W "$_ics_words" -- "$cur"))
  fi
}
complete -o default -F ${fn} ${name}
`;
  }
  return `#compdef ${name}
# zsh completion for ${name}, generated by \`${name} completion zsh\`. Load it in ~/.zshrc after
# compinit, which defines compdef:
#   autoload -Uz compinit && compinit
#   source <(${name} completion zsh)
# or save it as _${name} in a folder on $fpath before compinit runs.
${core}

${fn}() {
  local ${SH_LOCALS}
  local -a w
  ${fn}_walk "\${(@)words[2,CURRENT-1]}"
  ${fn}_want "\${words[CURRENT]}"
  [ -n "$_ics_eq" ] && compset -P '*='
  case $_ics_files in
    dir) _directories ;;
    file) _files ;;
    *) w=(\${=_ics_words}); (( $#w )) && compadd -- "\${w[@]}" ;;
  esac
}

if [ "\${funcstack[1]-}" = _${name} ]; then
  ${fn} "$@" # autoloaded from $fpath by compinit
elif (( $+functions[compdef] )); then
  compdef ${fn} ${name}
else
  print -u2 "${name}: completion not loaded: run 'autoload -Uz compinit && compinit' first (in ~/.zshrc, above this line)"
  return 1
fi
`;
}

function fishScript(program: Command, name: string, fn: string): string {
  const { nodes, values, anywhere } = model(program);
  const quote = (s: string): string => `'${s}'`;
  const valueArms = values.flatMap(({ path, option }) =>
    option.flags.map((f) => `        case ${(path === '' ? [`'*|${f}'`] : [quote(`${path}|${f}`), quote(`${path} *|${f}`)]).join(' ')}\n            echo ${option.optional ? 'o' : 'r'} ${option.kind}`),
  );
  const elsewhere = [...anywhere].map(([f, o]) => `        case '*|${f}'\n            echo ${o.optional ? 'o' : 'r'} ${o.kind}`);
  const argArms = nodes
    .filter((n) => n.args.length > 0)
    .map((n) => {
      const arms = argCases(n, (p, k) => `            case ${quote(p)}${k ? `\n                echo ${k}` : ''}`);
      return `        case ${quote(n.path)}\n            switch $argv[2]\n${arms.join('\n')}\n            end`;
    });
  const list = (pick: (n: Node) => string[]): string =>
    nodes
      .filter((n) => pick(n).length > 0)
      .map((n) => `        case ${quote(n.path)}\n            printf '%s\\n' ${pick(n).join(' ')}`)
      .join('\n');
  return `# fish completion for ${name}, generated by \`${name} completion fish\`. Save it as
#   ~/.config/fish/completions/${name}.fish
# Subcommands, options and arguments of each command, by its path:
function ${fn}_children
    switch $argv[1]
${list((n) => n.children)}
    end
end
function ${fn}_options
    switch $argv[1]
${list((n) => n.options)}
    end
end
# The kind of argument number $argv[2] (from 0) of command $argv[1]; nothing when it takes no more.
function ${fn}_arg
    switch $argv[1]
${argArms.join('\n')}
    end
end
# r or o (an optional value) and the kind of value of option $argv[2] of command $argv[1]; nothing for a flag.
function ${fn}_value
    switch "$argv[1]|$argv[2]"
${valueArms.join('\n')}
${elsewhere.join('\n')}
    end
end
# Prints the candidates for a value of kind $argv[1] in the word $argv[2], each after the prefix $argv[3].
function ${fn}_kind
    set -l kind (string split ' ' -- $argv[1])
    switch $kind[1]
        case file
            __fish_complete_path $argv[2] | string replace -r -- '^' "$argv[3]"
        case dir
            __fish_complete_directories $argv[2] | string replace -r -- '^' "$argv[3]"
        case command
            ${fn}_children "$argv[4]"
        case choice
            printf '%s\\n' $kind[2..-1]
    end
end

function ${fn}
    set -l words (commandline -opc)
    set -e words[1]
    set -l cur (commandline -ct)
    set -l path ''
    set -l npos 0
    set -l pend ''
    set -l popt ''
    set -l dd ''
    set -l help ''
    for w in $words
        if test -n "$pend"
            set -l was $popt
            set pend ''
            if test "$was" != o; or not string match -qr -- '^-.' $w
                continue
            end
        end
        if test -z "$dd"
            if test "$w" = --
                set dd 1
                continue
            else if string match -qr -- '^--[^=]+=' $w
                continue
            else if string match -qr -- '^-.' $w
                set -l v (${fn}_value "$path" $w)
                if test -n "$v"
                    set pend (string sub -s 3 -- $v)
                    set popt (string sub -l 1 -- $v)
                end
                continue
            end
        end
        if test $npos -eq 0; and contains -- $w (${fn}_children "$path")
            set help $path # the command above, whose subcommands a \`help\` reached here names
            set path (string trim -- "$path $w")
            continue
        end
        set -l kind (${fn}_arg "$path" $npos)
        if test "$kind" = command; and contains -- $w (${fn}_children "$help")
            set help (string trim -- "$help $w")
        end
        set npos (math $npos + 1)
    end

    if test -z "$pend$dd"; and string match -qr -- '^--[^=]+=' $cur
        set -l option (string replace -r -- '=.*' '' $cur)
        set -l v (${fn}_value "$path" $option)
        test -n "$v"; and ${fn}_kind (string sub -s 3 -- $v) (string replace -r -- '^[^=]*=' '' $cur) "$option=" "$help"
        return
    end
    if test -n "$pend"
        if test "$popt" = o; and string match -qr -- '^-' $cur
            ${fn}_options "$path"
        else
            ${fn}_kind "$pend" "$cur" '' "$help"
        end
        return
    end
    if test -z "$dd"; and string match -qr -- '^-' $cur
        ${fn}_options "$path"
        return
    end
    if test $npos -eq 0
        set -l kids (${fn}_children "$path")
        if set -q kids[1]
            printf '%s\\n' $kids
            return
        end
    end
    set -l kind (${fn}_arg "$path" $npos)
    if test -n "$kind"
        ${fn}_kind "$kind" "$cur" '' "$help"
    else if test -z "$dd"
        ${fn}_options "$path"
    end
end
complete -c ${name} -e
complete -c ${name} -f -a '(${fn})'
`;
}
