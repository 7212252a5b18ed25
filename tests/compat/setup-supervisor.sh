#!/bin/sh
# Create (idempotently) a Python venv holding the reference Supervisor 4.3.0,
# used by tests/ctl_vs_supervisord.rs and tests/supervisorctl_vs_pidvisord.rs
# to compare pidvisorctl, pidvisord and the XML-RPC API with the real thing,
# and the `sdnotify` package (0.3.2), one of the notify-protocol senders of
# tests/it/notify.rs.
#
# Usage: tests/compat/setup-supervisor.sh [VENV_DIR]   (default: target/supervisor-venv)
# Prints the venv directory on success.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
venv=${1:-"$here/target/supervisor-venv"}
if [ -x "$venv/bin/supervisord" ] && [ -x "$venv/bin/supervisorctl" ] &&
   "$venv/bin/python" -c 'import supervisor.options, sdnotify, sys; from importlib.metadata import version; sys.exit(version("supervisor") != "4.3.0" or version("sdnotify") != "0.3.2")' 2>/dev/null; then
    echo "$venv"
    exit 0
fi
python3 -m venv "$venv" >&2
"$venv/bin/python" -m pip install --disable-pip-version-check -q 'supervisor==4.3.0' 'sdnotify==0.3.2' >&2
echo "$venv"
