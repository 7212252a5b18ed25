# bash completion for pidvisorctl (install as
# /usr/share/bash-completion/completions/pidvisorctl).
# Actions, their options, and process/group names asked from the running daemon
# through `pidvisorctl status` (with the -c/-s/-u/-p given on the line).

_pidvisorctl_names() {
    # Process names as group:name, then group:* for each group.
    "$1" "${@:2}" status 2>/dev/null | awk 'NF >= 2 && $2 ~ /^[A-Z]+$/ {print $1}' | while IFS= read -r n; do
        printf '%s\n' "$n"
        case $n in *:*) printf '%s:*\n' "${n%%:*}" ;; esac
    done | sort -u
}

_pidvisorctl() {
    local -
    set -f # names like group:* are words, not globs
    # Words from the line itself: COMP_WORDS splits at ':' (COMP_WORDBREAKS),
    # which would break group:name.
    local line=${COMP_LINE:0:COMP_POINT} words cur prev cword
    read -ra words <<<"$line"
    [[ $line == *[[:space:]] ]] && words+=("")
    cword=$((${#words[@]} - 1))
    cur=${words[cword]}
    prev=${words[cword-1]}
    local actions="add avail clear exit fg help maintail open pid quit reload remove
        reread restart shutdown signal start status stop tail update version"
    local conn=() i action=""
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            -c|-s|-u|-p|-r|--configuration|--serverurl|--username|--password|--history_file|--history-file)
                conn+=("${words[i]}" "${words[i+1]}"); ((i++)) ;;
            -*) ;;
            *) action=${words[i]}; break ;;
        esac
    done
    case $prev in
        -c|--configuration|-r|--history_file|--history-file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        -s|--serverurl|-u|--username|-p|--password) return ;;
    esac
    if [[ -z $action ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "-c -h -i -s -u -p -r --configuration --help
                --interactive --serverurl --username --password --history_file" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$actions" -- "$cur"))
        fi
        return
    fi
    case $action in
        help) COMPREPLY=($(compgen -W "$actions" -- "$cur")) ;;
        start|stop|restart|status|pid|clear|fg)
            local extra="all"
            [[ $action == status ]] && extra="all --json -v"
            COMPREPLY=($(compgen -W "$extra $(_pidvisorctl_names "${words[0]}" "${conn[@]}")" -- "$cur")) ;;
        signal)
            if [[ $prev == signal ]]; then
                COMPREPLY=($(compgen -W "HUP INT QUIT KILL USR1 USR2 TERM STOP CONT" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "all $(_pidvisorctl_names "${words[0]}" "${conn[@]}")" -- "$cur"))
            fi ;;
        tail)
            COMPREPLY=($(compgen -W "-f stdout stderr $(_pidvisorctl_names "${words[0]}" "${conn[@]}")" -- "$cur")) ;;
        maintail) COMPREPLY=($(compgen -W "-f" -- "$cur")) ;;
        add|remove|update)
            local groups
            groups=$(_pidvisorctl_names "${words[0]}" "${conn[@]}" | sed -n 's/:\*$//p')
            COMPREPLY=($(compgen -W "all $groups" -- "$cur")) ;;
    esac
    # Bash replaces only the part after the last ':' of the word.
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local prefix=${cur%"${cur##*:}"} i
        for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}; done
    fi
}
complete -F _pidvisorctl pidvisorctl
