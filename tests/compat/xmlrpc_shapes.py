"""Call every supervisor.* and system.* method (spec section 6) through
Python's xmlrpc.client and print one JSON record per call: the shape of the
result (types, struct keys, and the values that do not depend on time, pids
or paths) or the fault code and masked fault string.

Run with the venv's python (it needs supervisor.xmlrpc.SupervisorTransport):

    python tests/compat/xmlrpc_shapes.py unix:///path/s.sock DIR [USER PASS]

DIR is the daemon's temp dir; it is masked out of every string. The daemon
must run the config written by tests/supervisorctl_vs_pidvisord.rs
(`SHAPES_PROGRAMS`): this script starts, stops and signals its programs,
and ends by shutting the daemon down. Stdlib only, besides the transport.
"""

import json
import os
import re
import sys
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

URL = sys.argv[1]
DIR = sys.argv[2]
USER = sys.argv[3] if len(sys.argv) > 3 else None
PASSWORD = sys.argv[4] if len(sys.argv) > 4 else None

# Struct keys whose values change from run to run: only their type counts.
VOLATILE = {"pid", "start", "stop", "now"}


def mask_text(s):
    s = s.replace(DIR, "DIR")
    s = re.sub(r"pid \d+", "pid N", s)
    s = re.sub(r"uptime \d+:\d\d:\d\d", "uptime U", s)
    # AUTO child log names carry a random part: NAME-stdout---supervisor-XXXX.log
    s = re.sub(r"---supervisor-[A-Za-z0-9_]+\.log", "---supervisor-X.log", s)
    # Stop dates in descriptions ("Nov 22 03:12 AM").
    s = re.sub(r"[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M", "DATE", s)
    return s


def shape(v, exact=True, key=None):
    """A JSON-able description of v: [type, value] for scalars."""
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        if not exact or key in VOLATILE:
            return ["int"]
        return ["int", v]
    if isinstance(v, float):
        return ["double"]
    if isinstance(v, str):
        if not exact:
            return ["str"]
        return ["str", mask_text(v)]
    if isinstance(v, bytes):
        return ["bytes"]
    if isinstance(v, xmlrpc.client.DateTime):
        return ["datetime"]
    if isinstance(v, list):
        # pidvisor's own methods live under pidvisor.* (design.md §4) and
        # are left out of system.listMethods' comparison; the Rust test
        # checks them on their own.
        v = [x for x in v if not (isinstance(x, str) and x.startswith("pidvisor."))]
        return ["array", [shape(x, exact) for x in v]]
    if isinstance(v, dict):
        return ["struct", {k: shape(v[k], exact, k) for k in sorted(v)}]
    return ["other", type(v).__name__]


def fault_record(f):
    return {"fault": f.faultCode, "string": mask_text(f.faultString)}


def proxy():
    t = SupervisorTransport(USER, PASSWORD, URL)
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=t)


SERVER = proxy()


def call(method, *params, exact=True, note=""):
    """Call and print one record; returns the result (or None on a fault)."""
    rec = {"call": method, "params": [shape(p) for p in params]}
    if note:
        rec["note"] = note
    result = None
    try:
        fn = SERVER
        for part in method.split("."):
            fn = getattr(fn, part)
        result = fn(*params)
        rec["result"] = shape(result, exact)
    except xmlrpc.client.Fault as f:
        rec.update(fault_record(f))
    except xmlrpc.client.ProtocolError as e:
        rec["protocol_error"] = e.errcode
    print(json.dumps(rec, sort_keys=True), flush=True)
    return result


def raw_call(method, params_xml, note):
    """A call whose XML xmlrpc.client would not produce (odd types)."""
    body = (
        "<?xml version='1.0'?><methodCall><methodName>%s</methodName>"
        "<params>%s</params></methodCall>" % (method, params_xml)
    )
    t = SupervisorTransport(USER, PASSWORD, URL)
    rec = {"call": method, "raw": note}
    try:
        resp = t.request("127.0.0.1", "/RPC2", body.encode())
        rec["result"] = shape(resp[0] if len(resp) == 1 else list(resp))
    except xmlrpc.client.Fault as f:
        rec.update(fault_record(f))
    except xmlrpc.client.ProtocolError as e:
        rec["protocol_error"] = e.errcode
    finally:
        t.close()
    print(json.dumps(rec, sort_keys=True), flush=True)


def wait_state(name, states, timeout=20.0):
    """Poll until NAME is in one of STATES (the state names)."""
    deadline = time.monotonic() + timeout
    while True:
        info = SERVER.supervisor.getProcessInfo(name)
        if info["statename"] in states:
            return
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for %s in %s" % (name, states))
        time.sleep(0.05)


def wait_exec(*names, timeout=20.0):
    """Wait until each process has exec'd its command. supervisord loses a
    SIGTERM that arrives between its fork and exec (the child still runs
    Python's handler, which only sets a flag), and then stops the process
    with SIGKILL after stopwaitsecs: never stop one that has not exec'd."""
    daemon_exe = os.readlink("/proc/%d/exe" % SERVER.supervisor.getPID())
    deadline = time.monotonic() + timeout
    for name in names:
        while True:
            pid = SERVER.supervisor.getProcessInfo(name)["pid"]
            try:
                if pid and os.readlink("/proc/%d/exe" % pid) != daemon_exe:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("timed out waiting for %s to exec" % name)
            time.sleep(0.01)


def sorted_results(method, *params):
    """Group calls may list results in completion order: sort them."""
    try:
        fn = SERVER
        for part in method.split("."):
            fn = getattr(fn, part)
        res = fn(*params)
        res = sorted(res, key=lambda r: (r["group"], r["name"]))
        rec = {"call": method, "params": [shape(p) for p in params],
               "result": shape(res), "sorted": True}
    except xmlrpc.client.Fault as f:
        rec = {"call": method, "params": [shape(p) for p in params]}
        rec.update(fault_record(f))
    print(json.dumps(rec, sort_keys=True), flush=True)


def main():
    wait_state("sleeper", ["RUNNING"])
    wait_state("talker", ["RUNNING"])
    wait_state("grp:ga", ["RUNNING"])
    wait_state("stubborn", ["RUNNING"])
    wait_state("ticker", ["RUNNING"])

    # --- system.* -------------------------------------------------------
    methods = call("system.listMethods")
    for m in [m for m in methods or [] if not m.startswith("pidvisor.")]:
        call("system.methodHelp", m)
        call("system.methodSignature", m)
    call("system.methodHelp", "supervisor.nosuch")
    call("system.methodSignature", "nosuch")
    call("system.methodHelp")
    call("system.methodSignature", "a", "b")
    call("system.listMethods", 1)

    # --- unknown and malformed method names -----------------------------
    for m in ["supervisor.nosuch", "system.nosuch", "nosuch.getState",
              "supervisor._update", "supervisor.getState.x"]:
        call(m)

    # --- versions, identity, state ----------------------------------------
    call("supervisor.getAPIVersion")
    call("supervisor.getVersion")
    call("supervisor.getSupervisorVersion")
    call("supervisor.getIdentification")
    call("supervisor.getState")
    call("supervisor.getState", 1)
    call("supervisor.getPID", exact=False)
    call("supervisor.getPID", "x")

    # --- main log ---------------------------------------------------------
    call("supervisor.readLog", 0, 0, exact=False)
    call("supervisor.readMainLog", -100, 0, exact=False)
    call("supervisor.readLog", 0, 10, exact=False)
    call("supervisor.readLog", -1, 5)
    call("supervisor.readLog", 0, -1)
    call("supervisor.readLog", 10**9, 0)
    call("supervisor.readLog", 0)
    call("supervisor.readLog", "a", 0)
    call("supervisor.clearLog")
    call("supervisor.clearLog", 1)

    # --- process info -----------------------------------------------------
    call("supervisor.getAllProcessInfo")
    for name in ["sleeper", "grp:ga", "ga", "grp:gb", "manual", "missing",
                 "quick", "talker", "nolog", "redir"]:
        call("supervisor.getProcessInfo", name)
    for name in ["nosuch", "grp:*", "grp:", "grp:nosuch", "nosuch:x", ""]:
        call("supervisor.getProcessInfo", name)
    call("supervisor.getProcessInfo")
    call("supervisor.getProcessInfo", "a", "b")
    call("supervisor.getAllProcessInfo", 1)
    call("supervisor.getAllConfigInfo")
    call("supervisor.getAllConfigInfo", 1)

    # --- start / stop -----------------------------------------------------
    call("supervisor.startProcess", "manual")
    wait_exec("manual")
    call("supervisor.getProcessInfo", "manual")
    call("supervisor.startProcess", "manual")
    call("supervisor.startProcess", "manual", False)
    call("supervisor.stopProcess", "manual")
    call("supervisor.getProcessInfo", "manual")
    call("supervisor.stopProcess", "manual")
    call("supervisor.startProcess", "manual", False)
    wait_state("manual", ["RUNNING"])
    wait_exec("manual")
    call("supervisor.stopProcess", "manual", False)
    wait_state("manual", ["STOPPED"])
    call("supervisor.startProcess", "missing")
    call("supervisor.startProcess", "notexec")
    call("supervisor.startProcess", "nosuch")
    call("supervisor.startProcess", "nosuch:*")
    call("supervisor.startProcess", "grp:nosuch")
    call("supervisor.startProcess", "sleeper")
    call("supervisor.startProcess")
    call("supervisor.startProcess", "a", True, 1)
    # Exits at once, well within startsecs=5: SPAWN_ERROR in both.
    call("supervisor.startProcess", "quick")
    wait_state("quick", ["FATAL"])
    call("supervisor.getProcessInfo", "quick")
    call("supervisor.stopProcess", "nosuch")
    call("supervisor.stopProcess", "missing")
    call("supervisor.stopProcess", "nogroup:")
    call("supervisor.stopProcess")

    call("supervisor.startProcess", "grp:*")
    call("supervisor.startProcessGroup", "grp")
    wait_exec("grp:ga", "grp:gb")
    sorted_results("supervisor.stopProcessGroup", "grp")
    call("supervisor.stopProcessGroup", "grp")
    sorted_results("supervisor.startProcess", "grp:")
    wait_exec("grp:ga", "grp:gb")
    sorted_results("supervisor.stopProcess", "grp:*")
    sorted_results("supervisor.startProcessGroup", "grp", False)
    wait_state("grp:gb", ["RUNNING"])
    wait_state("grp:ga", ["RUNNING"])
    wait_exec("grp:ga", "grp:gb")
    sorted_results("supervisor.stopProcessGroup", "grp", False)
    wait_state("grp:gb", ["STOPPED"])
    wait_state("grp:ga", ["STOPPED"])
    call("supervisor.startProcessGroup", "nosuch")
    call("supervisor.stopProcessGroup", "nosuch")
    call("supervisor.startProcessGroup")
    call("supervisor.startProcess", "grp:ga")
    wait_exec("grp:ga")
    call("supervisor.stopProcess", "grp:ga")
    call("supervisor.startProcess", "grp:ga")

    # --- signals ----------------------------------------------------------
    call("supervisor.signalProcess", "sleeper", "CONT")
    call("supervisor.signalProcess", "sleeper", "18")
    call("supervisor.signalProcess", "sleeper", "SIGCONT")
    call("supervisor.signalProcess", "sleeper", 18)
    call("supervisor.signalProcess", "sleeper", "NOPE")
    call("supervisor.signalProcess", "sleeper", "99")
    call("supervisor.signalProcess", "manual", "CONT")
    call("supervisor.signalProcess", "nosuch", "CONT")
    call("supervisor.signalProcess", "nosuch", "NOPE")
    call("supervisor.signalProcess", "sleeper")
    call("supervisor.signalProcess", "grp:*", "CONT")
    call("supervisor.signalProcessGroup", "grp", "CONT")
    call("supervisor.signalProcessGroup", "grp", "NOPE")
    call("supervisor.signalProcessGroup", "nosuch", "CONT")
    call("supervisor.signalAllProcesses", "CONT")
    call("supervisor.signalAllProcesses", "NOPE")
    call("supervisor.signalAllProcesses")

    # --- process logs -----------------------------------------------------
    for m in ["supervisor.readProcessStdoutLog", "supervisor.readProcessLog",
              "supervisor.readProcessStderrLog"]:
        call(m, "talker", 0, 0)
        call(m, "talker", -4, 0)
        call(m, "talker", 2, 3)
        call(m, "talker", 100, 0)
        call(m, "talker", -1, 5)
        call(m, "talker", 0, -1)
        call(m, "nosuch", 0, 0)
        call(m, "grp:*", 0, 0)
        call(m, "nolog", 0, 0)
        call(m, "redir", 0, 0)
        call(m, "manual", 0, 0)
        call(m, "talker", 0)
        call(m, "talker", "a", 0)
    for m in ["supervisor.tailProcessStdoutLog", "supervisor.tailProcessLog",
              "supervisor.tailProcessStderrLog"]:
        call(m, "talker", 0, 100)
        call(m, "talker", 0, 3)
        call(m, "talker", 5, 100)
        call(m, "talker", 100, 10)
        call(m, "talker", -5, 10)
        call(m, "talker", 0, -1)
        call(m, "nosuch", 0, 10)
        call(m, "nolog", 0, 10)
        call(m, "redir", 0, 10)
        call(m, "talker", 0)
    call("supervisor.clearProcessLogs", "talker")
    call("supervisor.readProcessStdoutLog", "talker", 0, 0)
    call("supervisor.clearProcessLog", "talker")
    call("supervisor.clearProcessLogs", "nosuch")
    call("supervisor.clearProcessLogs", "grp:*")
    call("supervisor.clearProcessLogs", "manual")
    call("supervisor.clearProcessLogs")
    call("supervisor.clearAllProcessLogs")
    call("supervisor.clearAllProcessLogs", 1)

    # --- stdin and events -------------------------------------------------
    call("supervisor.sendProcessStdin", "sleeper", "hello\n")
    call("supervisor.sendProcessStdin", "sleeper", "")
    call("supervisor.sendProcessStdin", "manual", "x")
    call("supervisor.sendProcessStdin", "nosuch", "x")
    call("supervisor.sendProcessStdin", "sleeper", 1)
    call("supervisor.sendProcessStdin", "sleeper")
    call("supervisor.sendRemoteCommEvent", "type", "data")
    call("supervisor.sendRemoteCommEvent", "type")

    # --- config: reread, add, remove -------------------------------------
    call("supervisor.reloadConfig")
    call("supervisor.reloadConfig", 1)
    call("supervisor.addProcessGroup", "sleeper")
    call("supervisor.addProcessGroup", "nosuch")
    call("supervisor.removeProcessGroup", "sleeper")
    call("supervisor.removeProcessGroup", "nosuch")
    call("supervisor.removeProcessGroup", "missing")
    call("supervisor.getProcessInfo", "missing")
    call("supervisor.getAllConfigInfo")
    call("supervisor.addProcessGroup", "missing")
    # Added from the reread config: its AUTO log names are filled in again.
    call("supervisor.getAllConfigInfo")
    call("supervisor.addProcessGroup")
    call("supervisor.removeProcessGroup")

    # --- odd argument encodings --------------------------------------------
    raw_call("supervisor.getProcessInfo",
             "<param><value>sleeper</value></param>", "untyped value")
    raw_call("supervisor.startProcess",
             "<param><value><string>sleeper</string></value></param>"
             "<param><value><int>1</int></value></param>", "int for wait")
    raw_call("supervisor.getState", "", "empty params")
    raw_call("supervisor.readLog",
             "<param><value><i4>0</i4></value></param>"
             "<param><value><i4>10</i4></value></param>", "i4 ints")

    # --- multicall --------------------------------------------------------
    call("system.multicall", [
        {"methodName": "supervisor.getAPIVersion"},
        {"methodName": "supervisor.getProcessInfo", "params": ["sleeper"]},
        {"methodName": "supervisor.getProcessInfo", "params": ["nosuch"]},
        {"methodName": "supervisor.nosuch"},
        {"params": []},
        {"methodName": "system.multicall", "params": [[]]},
        {"methodName": "supervisor.startProcess", "params": ["manual"]},
        {"methodName": "supervisor.startProcess", "params": ["manual"]},
        {"methodName": "supervisor.stopProcess", "params": ["sleeper"]},
        {"methodName": "supervisor.stopProcess", "params": ["sleeper"]},
        {"methodName": "supervisor.getState", "params": [1]},
        {"methodName": "system.listMethods"},
    ])
    wait_exec("manual")
    call("system.multicall", [])
    call("system.multicall")
    call("system.multicall", "x")

    # --- shutting down: every supervisor.* call refuses ---------------------
    call("supervisor.shutdown")
    call("supervisor.getState")
    call("supervisor.getAPIVersion")
    call("supervisor.getPID")
    call("supervisor.readLog", 0, 0)
    call("supervisor.getProcessInfo", "sleeper")
    call("supervisor.startProcess", "manual")
    call("supervisor.signalProcessGroup", "nosuch", "CONT")
    call("supervisor.signalProcessGroup", "grp", "CONT")
    call("supervisor.readProcessStdoutLog", "talker", 0, 0)
    call("supervisor.reloadConfig")
    call("supervisor.sendRemoteCommEvent", "type", "data")
    call("supervisor.shutdown")
    call("supervisor.restart")
    call("system.listMethods", exact=False)
    call("system.multicall", [{"methodName": "supervisor.getState"}])


if __name__ == "__main__":
    main()
