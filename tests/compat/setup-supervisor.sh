#!/bin/sh
# Create (idempotently) a Python venv holding the reference Supervisor 4.3.0,
# used by tests/ctl_vs_supervisord.rs and tests/supervisorctl_vs_pidvisord.rs
# to compare pidvisorctl, pidvisord and the XML-RPC API with the real thing,
# and superlance 2.0.0 (crashmail, memmon, httpok: unmodified event
# listeners that tests/it/events.rs runs under pidvisord).
# and the `sdnotify` package (0.3.2), one of the notify-protocol senders of
# tests/it/notify.rs.
#
# Usage: tests/compat/setup-supervisor.sh [VENV_DIR]   (default: target/supervisor-venv)
# Prints the venv directory on success; on failure says what is missing on
# stderr and exits non-zero. PIDVISOR_TEST_PYTHON names the python that
# makes the venv (default python3).
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
venv=${1:-"$here/target/supervisor-venv"}
py=${PIDVISOR_TEST_PYTHON:-python3}
if [ -x "$venv/bin/supervisord" ] && [ -x "$venv/bin/supervisorctl" ] &&
   "$venv/bin/python" -c 'import supervisor.options, sdnotify, sys; from importlib.metadata import version; sys.exit(version("supervisor") != "4.3.0" or version("superlance") != "2.0.0" or version("sdnotify") != "0.3.2")' 2>/dev/null; then
    echo "$venv"
    exit 0
fi
if ! command -v "$py" >/dev/null 2>&1; then
    echo "setup-supervisor.sh: $py not found (install python3 and python3-venv)" >&2
    exit 1
fi
if [ ! -x "$venv/bin/python" ] && ! "$py" -m venv "$venv" >&2; then
    echo "setup-supervisor.sh: '$py -m venv' failed (install python3-venv)" >&2
    exit 1
fi
if ! "$venv/bin/python" -m pip install --disable-pip-version-check -q \
        'supervisor==4.3.0' 'superlance==2.0.0' 'sdnotify==0.3.2' >&2; then
    echo "setup-supervisor.sh: pip could not install supervisor==4.3.0, superlance==2.0.0 and sdnotify==0.3.2 from PyPI (network?)" >&2
    exit 1
fi
echo "$venv"
