# bash completion for pidvisorctl and pidvisord. Install as
# /usr/share/bash-completion/completions/pidvisorctl and, the same file, as
# .../completions/pidvisord.
#
# pidvisorctl: options, actions, and for each action exactly the names it
# takes, asked from the running daemon (`status`, `avail`, with the
# -c/-s/-u/-p/--session given on the line). A daemon that is down or slow
# gives no names, never an error.
#   start stop restart clear signal status: all, name, group:name, group:*
#   pid: all, name;  tail fg: name (never group:*);  tail: then stdout|stderr
#   add: groups not in use;  remove: groups in use;  update: all, any group

# Process names (`name`, or `group:name`) the daemon lists in `status`.
_pidvisorctl_procs() {
    timeout 5 "$@" status 2>/dev/null </dev/null |
        awk 'NF >= 2 && $2 ~ /^[A-Z]+$/ {print $1}'
}

# `avail` as "name in" (in use) or "name avail" lines.
_pidvisorctl_avail() {
    timeout 5 "$@" avail 2>/dev/null </dev/null |
        awk '$2 == "in" || $2 == "avail" {print $1, $2}'
}

# The group of each name read on stdin (the part before ':', else the name).
_pidvisorctl_groups_of() {
    sed 's/:.*//' | sort -u
}

# Candidates for the argument being typed, one per line. $1: action,
# $2: the word before the cursor, $3: number of arguments before it;
# the rest: the command that reaches the daemon.
_pidvisorctl_args() {
    local action=$1 prev=$2 nargs=$3
    shift 3
    case $action in
        help)
            ((nargs == 0)) && printf '%s\n' add avail clear exit fg help maintail open pid \
                quit reload remove reread restart shutdown signal start status stop tail update version ;;
        start|stop|restart|clear|status)
            [[ $action == status ]] && printf '%s\n' --json -v
            printf '%s\n' all
            _pidvisorctl_procs "$@" | awk '{print} /:/ {sub(/:.*/, ":*"); print}' | sort -u ;;
        signal)
            if ((nargs == 0)); then
                printf '%s\n' HUP INT QUIT KILL USR1 USR2 TERM STOP CONT ALRM
            else
                printf '%s\n' all
                _pidvisorctl_procs "$@" | awk '{print} /:/ {sub(/:.*/, ":*"); print}' | sort -u
            fi ;;
        pid)
            printf '%s\n' all
            _pidvisorctl_procs "$@" ;;
        fg)
            ((nargs == 0)) && _pidvisorctl_procs "$@" ;;
        tail)
            # nargs counts names and channels, not -f/-N.
            if ((nargs == 0)); then
                printf '%s\n' -f
                _pidvisorctl_procs "$@"
            elif ((nargs == 1)); then
                printf '%s\n' stdout stderr
            fi ;;
        maintail)
            ((nargs == 0)) && printf '%s\n' -f ;;
        add)
            _pidvisorctl_avail "$@" | awk '$2 == "avail" {print $1}' | _pidvisorctl_groups_of ;;
        remove)
            _pidvisorctl_procs "$@" | _pidvisorctl_groups_of ;;
        update)
            printf '%s\n' all
            { _pidvisorctl_avail "$@" | awk '{print $1}'; _pidvisorctl_procs "$@"; } |
                _pidvisorctl_groups_of ;;
    esac
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
    local conn=("${words[0]}") i action="" nargs=0
    for ((i = 1; i < cword; i++)); do
        if [[ -n $action ]]; then
            [[ $action == tail && ${words[i]} == -* ]] || ((nargs++))
            continue
        fi
        case ${words[i]} in
            -c|-s|-u|-p|--configuration|--serverurl|--username|--password)
                conn+=("${words[i]}" "${words[i+1]}"); ((i++)) ;;
            -r|--history_file|--history-file) ((i++)) ;;
            --session|--configuration=*|--serverurl=*|--username=*|--password=*|-[csup]?*)
                conn+=("${words[i]}") ;;
            -*) ;;
            *) action=${words[i]} ;;
        esac
    done
    if [[ -z $action ]]; then
        case $prev in
            -c|--configuration|-r|--history_file|--history-file)
                COMPREPLY=($(compgen -f -- "$cur")); return ;;
            -s|--serverurl|-u|--username|-p|--password) return ;;
        esac
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "-c -h -i -s -u -p -r --configuration --help
                --interactive --serverurl --username --password --history-file
                --session" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "add avail clear exit fg help maintail open pid
                quit reload remove reread restart shutdown signal start status stop
                tail update version" -- "$cur"))
        fi
        return
    fi
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$(_pidvisorctl_args "$action" "$prev" "$nargs" "${conn[@]}")" -- "$cur"))
    # Bash replaces only the part after the last ':' of the word.
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local prefix=${cur%"${cur##*:}"}
        for i in "${!COMPREPLY[@]}"; do COMPREPLY[i]=${COMPREPLY[i]#"$prefix"}; done
    fi
}

_pidvisord() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
        -c|--configuration|-l|--logfile|-j|--pidfile)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        -d|--directory|-q|--childlogdir)
            COMPREPLY=($(compgen -d -- "$cur")); return ;;
        -u|--user)
            COMPREPLY=($(compgen -u -- "$cur")); return ;;
        -e|--loglevel)
            COMPREPLY=($(compgen -W "critical error warn info debug trace blather" -- "$cur")); return ;;
        -m|--umask|-y|--logfile_maxbytes|-z|--logfile_backups|-i|--identifier|-a|--minfds|--minprocs)
            return ;;
    esac
    COMPREPLY=($(compgen -W "-c -n -s -h -v -u -m -d -l -y -z -e -j -i -q -k -a -t
        --configuration --nodaemon --silent --help --version --user --umask
        --directory --logfile --logfile_maxbytes --logfile_backups --loglevel
        --pidfile --identifier --childlogdir --nocleanup --minfds --strip_ansi
        --minprocs --session --check-config --example-config" -- "$cur"))
}

complete -F _pidvisorctl pidvisorctl
complete -F _pidvisord pidvisord
