# fish completion for pidvisorctl. Install as
# /usr/share/fish/vendor_completions.d/pidvisorctl.fish.
#
# Options, actions, and for each action exactly the names it takes, asked
# from the running daemon (`status`, `avail`, with the -c/-s/-u/-p/--session
# given on the line). A daemon that is down or slow gives no names, never
# an error.
#   start stop restart clear signal status: all, name, group:name, group:*
#   pid: all, name;  tail fg: name (never group:*);  tail: then stdout|stderr
#   add: groups not in use;  remove: groups in use;  update: all, any group

# Process names (`name`, or `group:name`) the daemon lists in `status`.
function __pidvisorctl_procs
    timeout 5 $argv status 2>/dev/null </dev/null | awk 'NF >= 2 && $2 ~ /^[A-Z]+$/ {print $1}'
end

# `avail` as "name in" (in use) or "name avail" lines.
function __pidvisorctl_avail
    timeout 5 $argv avail 2>/dev/null </dev/null | awk '$2 == "in" || $2 == "avail" {print $1, $2}'
end

function __pidvisorctl_groups_of
    sed 's/:.*//' | sort -u
end

# Candidates for an argument of action $argv[1] ($argv[2] arguments before
# it; the rest reaches the daemon).
function __pidvisorctl_args
    set -l action $argv[1]
    set -l nargs $argv[2]
    set -l ctl $argv[3..-1]
    switch $action
        case help
            test $nargs -eq 0; and printf '%s\n' add avail clear exit fg help maintail open pid \
                quit reload remove reread restart shutdown signal start status stop tail update version
        case start stop restart clear status
            test $action = status; and printf '%s\n' --json -v
            echo all
            __pidvisorctl_procs $ctl | awk '{print} /:/ {sub(/:.*/, ":*"); print}' | sort -u
        case signal
            if test $nargs -eq 0
                printf '%s\n' HUP INT QUIT KILL USR1 USR2 TERM STOP CONT ALRM
            else
                echo all
                __pidvisorctl_procs $ctl | awk '{print} /:/ {sub(/:.*/, ":*"); print}' | sort -u
            end
        case pid
            echo all
            __pidvisorctl_procs $ctl
        case fg
            test $nargs -eq 0; and __pidvisorctl_procs $ctl
        case tail
            if test $nargs -eq 0
                echo -- -f
                __pidvisorctl_procs $ctl
            else if test $nargs -eq 1
                printf '%s\n' stdout stderr
            end
        case maintail
            test $nargs -eq 0; and echo -- -f
        case add
            __pidvisorctl_avail $ctl | awk '$2 == "avail" {print $1}' | __pidvisorctl_groups_of
        case remove
            __pidvisorctl_procs $ctl | __pidvisorctl_groups_of
        case update
            echo all
            begin
                __pidvisorctl_avail $ctl | awk '{print $1}'
                __pidvisorctl_procs $ctl
            end | __pidvisorctl_groups_of
    end
end

function __pidvisorctl_complete
    set -l toks (commandline -opc)
    set -l cur (commandline -ct)
    set -l ctl $toks[1]
    set -l action
    set -l nargs 0
    set -l i 2
    while test $i -le (count $toks)
        set -l w $toks[$i]
        if test -n "$action"
            if not begin
                    test $action = tail; and string match -q -- '-*' $w
                end
                set nargs (math $nargs + 1)
            end
        else
            switch $w
                case -c -s -u -p --configuration --serverurl --username --password
                    set i (math $i + 1)
                    set -a ctl $w $toks[$i]
                case -r --history_file --history-file
                    set i (math $i + 1)
                case --session
                    set -a ctl $w
                case '-*'
                    # -cFILE, --configuration=FILE and the like.
                    if string match -qr -- '^(-[csup].|--(configuration|serverurl|username|password)=)' $w
                        set -a ctl $w
                    end
                case '*'
                    set action $w
            end
        end
        set i (math $i + 1)
    end
    if test -z "$action"
        switch "$toks[-1]"
            case -c --configuration -r --history_file --history-file
                __fish_complete_path $cur
                return
            case -s --serverurl -u --username -p --password
                return
        end
        if string match -q -- '-*' $cur
            printf '%s\n' -c -h -i -s -u -p -r --configuration --help --interactive \
                --serverurl --username --password --history-file --session
        else
            printf '%s\n' add avail clear exit fg help maintail open pid quit reload \
                remove reread restart shutdown signal start status stop tail update version
        end
        return
    end
    __pidvisorctl_args $action $nargs $ctl
end

complete -c pidvisorctl -f -a '(__pidvisorctl_complete)'
