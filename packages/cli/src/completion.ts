import type { Command } from "commander";

/** Every command path (`run`, `components add`, ...) with its flags, from the command tree itself. */
function commandWords(program: Command): Map<string, string[]> {
  const words = new Map<string, string[]>();
  const walk = (command: Command, path: string[]) => {
    const flags = command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => !!f));
    words.set(path.join(" "), [...command.commands.map((c) => c.name()), ...flags, "--help"]);
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return words;
}

/**
 * A completion script for bash or zsh (zsh through bashcompinit), generated from the commands
 * and flags commander knows, so it cannot drift from the CLI.
 */
export function completionScript(program: Command, shell: "bash" | "zsh"): string {
  const cases = [...commandWords(program)]
    .sort(([a], [b]) => b.length - a.length)
    .map(([path, words]) => `    "${path}") words="${words.join(" ")}" ;;`)
    .join("\n");
  const bash = `# outrig completion (${shell}); load with: source <(outrig completion ${shell})
_outrig_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" w
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) [ -n "$path" ] && path="$path $w" || path="$w" ;; esac
  done
  local words=""
  while :; do
    case "$path" in
${cases}
      *) path="\${path% *}"; [ "$path" = "\${path% *}" ] && [ -z "$words" ] && path="" ; continue ;;
    esac
    break
  done
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _outrig_complete outrig
`;
  if (shell === "bash") return bash;
  return `#compdef outrig
autoload -U +X bashcompinit && bashcompinit
${bash}`;
}
