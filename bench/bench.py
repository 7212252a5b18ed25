#!/usr/bin/env python3
"""pidvisor vs Supervisor 4.3.0, side by side, on the same generated configs.

Run through `bench/run` (it builds everything this needs). Every scenario
starts a fresh daemon of each kind on a config in its own temp dir, drives it
over its unix socket (XML-RPC, the same client code for both) or with its own
ctl, and observes it from outside: /proc, the main log, the files it writes.
Only processes this script started (daemons, their children, baseline loops)
are ever signalled, always by pid. Python stdlib only.
"""

import argparse
import datetime
import http.client
import os
import platform
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xmlrpc.client

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIDVISORD = os.path.join(ROOT, "target/release/pidvisord")
PIDVISORCTL = os.path.join(ROOT, "target/release/pidvisorctl")
HELPER = os.path.join(ROOT, "target/bench/helper")
RECORDER = os.path.join(ROOT, "tests/fixtures/events/recorder.py")
SLEEP = shutil.which("sleep") or "/bin/sleep"

STATE_RUNNING = 20
STATE_STOPPED = 0
STATE_EXITED = 100

# ---------------------------------------------------------------- clean-up

LIVE_DAEMONS = []  # every Daemon not yet stopped
LIVE_PIDS = set()  # baseline children spawned directly by this script


def ppid_map():
    """pid -> ppid for every process, read from /proc."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        out[int(name)] = (int(fields[1]), fields[0])
    return out


def descendants(root):
    """Every live descendant of `root` (children first found, then theirs)."""
    m = ppid_map()
    kids = {}
    for pid, (ppid, _) in m.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def kill_pid(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def cleanup():
    for d in list(LIVE_DAEMONS):
        d.stop(timeout=20)
    for pid in list(LIVE_PIDS):
        kill_pid(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        LIVE_PIDS.discard(pid)


def on_signal(signum, _frame):
    raise SystemExit(f"interrupted by signal {signum}")


# ---------------------------------------------------------------- XML-RPC over a unix socket


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


class UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def make_connection(self, host):
        return UnixConnection(self.path)


def rpc_proxy(sock):
    return xmlrpc.client.ServerProxy(
        "http://localhost/RPC2", transport=UnixTransport(sock), allow_none=True
    )


# ---------------------------------------------------------------- /proc readings


def proc_counters(pid):
    """(context switches, CPU ns) summed over every thread of `pid`."""
    switches = cpu = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt", "nonvoluntary_ctxt")):
                        switches += int(line.split()[1])
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                cpu += int(f.read().split()[0])
        except OSError:
            pass  # thread ended between listdir and open
    return switches, cpu


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def zombies_of(pid):
    return [p for p, (pp, st) in ppid_map().items() if pp == pid and st == "Z"]


# ---------------------------------------------------------------- daemons

# The hard RLIMIT_NOFILE the bench runs under (set in main): minfds must not
# ask for more, or supervisord refuses to start.
NOFILE_HARD = 1 << 20


def minfds_for(nprocs):
    """Enough descriptors for nprocs children (3 pipes each, plus slack),
    within the hard limit."""
    need = 4 * nprocs + 256
    n = 1024
    while n < need:
        n *= 2
    return min(n, NOFILE_HARD)


class Daemon:
    """One pidvisord or supervisord on its own config, in its own temp dir."""

    def __init__(self, kind, programs, nprocs, workdir, venv, supervisord=""):
        self.kind = kind
        self.venv = venv
        self.dir = tempfile.mkdtemp(prefix=f"{kind}-", dir=workdir)
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.conf = os.path.join(self.dir, "daemon.conf")
        self.mainlog = os.path.join(self.dir, "main.log")
        text = (
            "[supervisord]\n"
            f"logfile={self.dir}/main.log\n"
            f"pidfile={self.dir}/daemon.pid\n"
            f"childlogdir={self.dir}\n"
            f"minfds={minfds_for(nprocs)}\n"
            "loglevel=info\n"
            f"{supervisord}\n"
            f"[unix_http_server]\nfile={self.sock}\n\n"
            f"[supervisorctl]\nserverurl=unix://{self.sock}\n\n"
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = "
            "supervisor.rpcinterface:make_main_rpcinterface\n\n"
        ) + programs.replace("{dir}", self.dir)
        with open(self.conf, "w") as f:
            f.write(text)
        self.proc = None
        self.pid = None

    def argv(self):
        if self.kind == "pidvisor":
            return [PIDVISORD, "-n", "-c", self.conf]
        return [os.path.join(self.venv, "bin/supervisord"), "-n", "-c", self.conf]

    def ctl_argv(self, *args):
        if self.kind == "pidvisor":
            return [PIDVISORCTL, "-c", self.conf, *args]
        return [os.path.join(self.venv, "bin/supervisorctl"), "-c", self.conf, *args]

    def start(self, timeout=120):
        out = open(os.path.join(self.dir, "daemon.out"), "wb")
        self.proc = subprocess.Popen(
            self.argv(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a terminal ^C reaches us, and we clean up
        )
        out.close()
        self.pid = self.proc.pid
        LIVE_DAEMONS.append(self)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited early:\n{self.output()}")
            if os.path.exists(self.sock):
                try:
                    if self.rpc().supervisor.getState()["statename"] == "RUNNING":
                        return self
                except (OSError, xmlrpc.client.Error, http.client.HTTPException):
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind} not ready:\n{self.output()}")
            time.sleep(0.01)

    def output(self):
        try:
            with open(os.path.join(self.dir, "daemon.out"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def rpc(self):
        return rpc_proxy(self.sock)

    def infos(self):
        return self.rpc().supervisor.getAllProcessInfo()

    def wait_states(self, state, count, timeout=300, pause=0.05):
        deadline = time.monotonic() + timeout
        while True:
            infos = self.infos()
            if sum(1 for i in infos if i["state"] == state) >= count:
                return infos
            if time.monotonic() > deadline:
                bad = [i["name"] + ":" + i["statename"] for i in infos if i["state"] != state]
                raise RuntimeError(f"{self.kind}: timed out waiting; not in state: {bad[:10]}")
            time.sleep(pause)

    def log_lines(self, needle):
        try:
            with open(self.mainlog, errors="replace") as f:
                return [l for l in f if needle in l]
        except FileNotFoundError:
            return []

    def wait_log(self, needle, count, timeout=300, pause=0.005):
        """Wait until the main log holds `count` lines with `needle`. Reads
        only what was appended since the last poll: re-reading a main log of
        thousands of lines every 5 ms would keep a core busy and slow the
        daemon being measured."""
        deadline = time.monotonic() + timeout
        want = needle.encode()
        found, pos, partial = 0, 0, b""
        while True:
            try:
                with open(self.mainlog, "rb") as f:
                    f.seek(pos)
                    data = f.read()
            except FileNotFoundError:
                data = b""
            pos += len(data)
            lines = (partial + data).split(b"\n")
            partial = lines.pop()
            found += sum(1 for l in lines if want in l)
            if found >= count:
                return found
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.kind}: {found}/{count} x {needle!r} in main log"
                )
            time.sleep(pause)

    def ctl(self, *args):
        """Run this daemon's own ctl; returns (wall seconds, CompletedProcess)."""
        t0 = time.monotonic()
        cp = subprocess.run(self.ctl_argv(*args), capture_output=True, stdin=subprocess.DEVNULL)
        return time.monotonic() - t0, cp

    def stop(self, timeout=60):
        if self.proc is None:
            return
        kids = descendants(self.pid)
        kill_pid(self.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_pid(self.pid, signal.SIGKILL)
            self.proc.wait()
        for pid in kids + descendants(self.pid):
            kill_pid(pid, signal.SIGKILL)  # only what this daemon started
        self.proc = None
        if self in LIVE_DAEMONS:
            LIVE_DAEMONS.remove(self)
        shutil.rmtree(self.dir, ignore_errors=True)


def program(name, command, **opts):
    base = {
        "startsecs": 0,
        "autorestart": "false",
        "stdout_logfile": "NONE",
        "stderr_logfile": "NONE",
    }
    base.update(opts)
    body = "".join(f"{k}={v}\n" for k, v in base.items())
    return f"[program:{name}]\ncommand={command}\n{body}\n"


def sleepers(n, **opts):
    return "".join(program(f"p{i:04d}", f"{SLEEP} 1000000", **opts) for i in range(n))


# ---------------------------------------------------------------- results


class Metric:
    def __init__(self, scenario, name, unit, target=None, check=None, base_name=None):
        self.scenario, self.name, self.unit = scenario, name, unit
        self.target, self.check, self.base_name = target, check, base_name
        self.values = {"pidvisor": [], "supervisor": [], "baseline": []}
        self.notes = []

    def add(self, kind, v):
        self.values[kind].append(v)

    def med(self, kind):
        v = self.values[kind]
        return statistics.median(v) if v else None

    def verdict(self):
        if self.check is None or not self.values["pidvisor"]:
            return ""
        return "met" if self.check(self) else "**not met**"


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "ms":
        return f"{v:.2f}" if v < 100 else f"{v:.0f}"
    if unit in ("MiB", "MiB/s", "s"):
        return f"{v:.2f}" if v < 100 else f"{v:.0f}"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def cell(m, kind):
    v = m.values[kind]
    if not v:
        return "-"
    if len(v) == 1:
        return fmt(v[0], m.unit)
    return f"{fmt(statistics.median(v), m.unit)} ({fmt(min(v), m.unit)}–{fmt(max(v), m.unit)})"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    r = a / b
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.2g}×"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------- scenarios

KINDS = ("pidvisor", "supervisor")


def floor_fifo_latency(fifo_fd, fifo, reps):
    """Floor for the respawn number: spawn the helper ourselves, time until its pid arrives."""
    out = []
    for _ in range(reps):
        t0 = time.monotonic_ns()
        pid = os.posix_spawn(HELPER, [HELPER, "ready", fifo], os.environ)
        LIVE_PIDS.add(pid)
        read_pid(fifo_fd, 5)
        out.append((time.monotonic_ns() - t0) / 1e6)
        kill_pid(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        LIVE_PIDS.discard(pid)
    return out


def read_pid(fd, timeout):
    buf = b""
    deadline = time.monotonic() + timeout
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise RuntimeError("no pid from the ready fifo in time")
        buf += os.read(fd, 64)
    return int(buf.split()[-1])


def sc_respawn(cfg, res):
    m = res.metric("respawn", "kill -9 → new pid running", "ms",
                   "≤ 5 ms median", lambda m: m.med("pidvisor") <= 5, "helper spawn floor")
    for kind in KINDS:
        d0 = tempfile.mkdtemp(dir=cfg.work)
        fifo = os.path.join(d0, "ready.fifo")
        os.mkfifo(fifo)
        fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # our own writer: never EOF
        try:
            if kind == "pidvisor":
                for v in floor_fifo_latency(fd, fifo, cfg.reps_respawn):
                    m.add("baseline", v)
            d = Daemon(kind, program("r", f"{HELPER} ready {fifo}", autorestart="true"),
                       1, cfg.work, cfg.venv).start()
            pid = read_pid(fd, 30)
            for _ in range(cfg.reps_respawn):
                # A crash of a program that has been up: both daemons hold
                # back the restart of one that ran for less than a second.
                time.sleep(1.05)
                t0 = time.monotonic_ns()
                os.kill(pid, signal.SIGKILL)
                new = read_pid(fd, 30)
                m.add(kind, (time.monotonic_ns() - t0) / 1e6)
                if new == pid:
                    raise RuntimeError("same pid after respawn")
                pid = new
            d.stop()
        finally:
            os.close(fd)
            shutil.rmtree(d0, ignore_errors=True)


def sc_idle(cfg, res):
    w = res.metric("idle", f"wakeups in {cfg.idle_secs} s, 100 programs", "switches",
                   "0", lambda m: m.med("pidvisor") == 0)
    c = res.metric("idle", f"CPU in {cfg.idle_secs} s, 100 programs", "ms",
                   "< 0.1 ms", lambda m: m.med("pidvisor") < 0.1)
    for kind in KINDS:
        d = Daemon(kind, sleepers(100, autostart="true"), 100, cfg.work, cfg.venv).start()
        d.wait_states(STATE_RUNNING, 100)
        for _ in range(cfg.reps_idle):
            time.sleep(2)  # let the RPC we just made and any start-up timers finish
            s0, n0 = proc_counters(d.pid)
            time.sleep(cfg.idle_secs)
            s1, n1 = proc_counters(d.pid)
            w.add(kind, s1 - s0)
            c.add(kind, (n1 - n0) / 1e6)
        d.stop()


def sc_idle_tick(cfg, res):
    """Idle with a TICK_60 listener: one tick exchange per minute, nothing between."""
    w = res.metric("idle-tick", "wakeups in 60 s, 100 programs + TICK_60 listener", "switches",
                   "≤ 4 (one tick exchange)", lambda m: m.med("pidvisor") <= 4)
    t = res.metric("idle-tick", "TICK_60 events received in 60 s", "events", "1",
                   lambda m: m.med("pidvisor") == 1)
    listener = (
        "[eventlistener:ticks]\n"
        f"command={cfg.venv}/bin/python {RECORDER} {{dir}}/ticks.jsonl\n"
        "events=TICK_60\nstdout_logfile=NONE\nstderr_logfile=NONE\n\n"
    )
    for kind in KINDS:
        d = Daemon(kind, listener + sleepers(100, autostart="true"), 101, cfg.work, cfg.venv).start()
        d.wait_states(STATE_RUNNING, 101)
        ticks = os.path.join(d.dir, "ticks.jsonl")
        for _ in range(cfg.reps_idle_tick):
            # A window from 2 s after one minute boundary to 2 s after the
            # next holds exactly one tick.
            time.sleep(62 - time.time() % 60)
            n0 = count_lines(ticks)
            s0, _ = proc_counters(d.pid)
            time.sleep(60)
            s1, _ = proc_counters(d.pid)
            w.add(kind, s1 - s0)
            t.add(kind, count_lines(ticks) - n0)
        d.stop()


def count_lines(path):
    try:
        with open(path) as f:
            return sum(1 for _ in f)
    except FileNotFoundError:
        return 0


# The ready-latency program: block on a fifo line, then send READY=1 from
# its own (main) pid, and sleep. Raw socket: stdlib only.
READY_ON_FIFO = (
    "import os, socket, time\n"
    "f = open(os.environ['READY_FIFO'])\n"
    "f.readline()\n"
    "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
    "s.sendto(b'READY=1', '\\0' + os.environ['NOTIFY_SOCKET'][1:])\n"
    "time.sleep(1000000)\n"
)


def sc_notify(cfg, res):
    """Issue 17: READY=1 -> RUNNING over XML-RPC; idle with notify programs."""
    lat = res.metric("notify", "ready-to-RUNNING latency (READY=1 sent → RUNNING over XML-RPC)",
                     "ms", "≤ 5 ms median", lambda m: m.med("pidvisor") <= 5,
                     "one getProcessInfo call")
    d0 = tempfile.mkdtemp(dir=cfg.work)
    fifo = os.path.join(d0, "ready.fifo")
    os.mkfifo(fifo)
    script = os.path.join(d0, "ready.py")
    with open(script, "w") as f:
        f.write(READY_ON_FIFO)
    fd = os.open(fifo, os.O_RDWR)  # our own reader and writer: never EOF
    try:
        prog = program("n", f"{sys.executable} {script}", autostart="false", ready="notify",
                       environment=f'READY_FIFO="{fifo}"')
        d = Daemon("pidvisor", prog, 1, cfg.work, cfg.venv).start()
        rpc = d.rpc()
        for _ in range(cfg.reps_respawn):
            rpc.supervisor.startProcess("n", False)
            pid = rpc.supervisor.getProcessInfo("n")["pid"]
            # Sent only once the program reads the fifo (it holds it open).
            while not holds(pid, fifo):
                time.sleep(0.005)
            t0 = time.monotonic_ns()
            os.write(fd, b"go\n")
            while rpc.supervisor.getProcessInfo("n")["state"] != STATE_RUNNING:
                pass
            lat.add("pidvisor", (time.monotonic_ns() - t0) / 1e6)
            t1 = time.monotonic_ns()
            rpc.supervisor.getProcessInfo("n")
            lat.add("baseline", (time.monotonic_ns() - t1) / 1e6)
            rpc.supervisor.stopProcess("n", True)
        d.stop()
    finally:
        os.close(fd)
        shutil.rmtree(d0, ignore_errors=True)
    res.note("notify", "Supervisor has no readiness protocol: it ignores `ready=notify` "
             "(its column is empty for the latency row).")
    w = res.metric("notify", f"wakeups in {cfg.idle_secs} s, 100 notify programs (READY=1 sent, "
                   "no watchdog)", "switches", "0", lambda m: m.med("pidvisor") == 0)
    notify = shutil.which("systemd-notify") or "/bin/systemd-notify"
    progs = "".join(program(f"n{i:03d}", f"sh -c '{notify} --ready; exec {SLEEP} 1000000'",
                            ready="notify") for i in range(100))
    for kind in KINDS:
        d = Daemon(kind, progs, 100, cfg.work, cfg.venv).start()
        d.wait_states(STATE_RUNNING, 100)
        for _ in range(cfg.reps_idle):
            time.sleep(2)
            s0, _ = proc_counters(d.pid)
            time.sleep(cfg.idle_secs)
            s1, _ = proc_counters(d.pid)
            w.add(kind, s1 - s0)
        d.stop()


def posix_spawn_loop(n):
    """Bare baseline: n × posix_spawn(sleep), seconds; the children are cleaned after."""
    env = dict(os.environ)
    pids = []
    t0 = time.monotonic()
    for _ in range(n):
        pids.append(os.posix_spawn(SLEEP, [SLEEP, "1000000"], env))
    dt = time.monotonic() - t0
    LIVE_PIDS.update(pids)
    for p in pids:
        kill_pid(p, signal.SIGKILL)
    for p in pids:
        os.waitpid(p, 0)
        LIVE_PIDS.discard(p)
    return dt


def sc_spawn_status_rss(cfg, res):
    n = cfg.n_spawn
    sp = res.metric("spawn", f"start all {n} (sleep) → RUNNING", "ms",
                    "≤ 1.3× posix_spawn loop",
                    lambda m: m.med("pidvisor") <= 1.3 * m.med("baseline"),
                    f"posix_spawn ×{n}")
    st = res.metric("ctl status", f"`ctl status`, {n} programs, whole command", "ms",
                    "≤ 20 ms", lambda m: m.med("pidvisor") <= 20)
    rss_targets = {1: 4, 100: 5, n: 8}
    rss = {}
    for k in sorted(set([1, 100, n])):
        lim = rss_targets.get(k, 8)
        rss[k] = res.metric("RSS", f"VmRSS, {k} program{'s' if k > 1 else ''} running", "MiB", f"≤ {lim} MiB",
                            lambda m, lim=lim: m.med("pidvisor") <= lim)
    for kind in KINDS:
        d = Daemon(kind, sleepers(n, autostart="false"), n, cfg.work, cfg.venv).start()
        for r in range(cfg.reps_spawn):
            sp.add("baseline", posix_spawn_loop(n) * 1000)
            before = len(d.log_lines("success: "))
            t0 = time.monotonic()
            d.rpc().supervisor.startAllProcesses(False)
            d.wait_log("success: ", before + n)
            sp.add(kind, (time.monotonic() - t0) * 1000)
            d.wait_states(STATE_RUNNING, n)
            if r < cfg.reps_spawn - 1:
                d.rpc().supervisor.stopAllProcesses(True)
                d.wait_states(STATE_STOPPED, n)
        for _ in range(cfg.reps_ctl):
            dt, cp = d.ctl("status")
            if cp.returncode != 0 or cp.stdout.count(b"RUNNING") != n:
                raise RuntimeError(f"{kind} status: rc={cp.returncode} {cp.stderr[-300:]!r}")
            st.add(kind, dt * 1000)
        rss[n].add(kind, rss_kib(d.pid) / 1024)
        d.stop()
        for k in sorted(rss):
            if k == n:
                continue
            d = Daemon(kind, sleepers(k, autostart="true"), k, cfg.work, cfg.venv).start()
            d.wait_states(STATE_RUNNING, k)
            d.ctl("status")
            rss[k].add(kind, rss_kib(d.pid) / 1024)
            d.stop()
    res.note("ctl status", f"harness floor for running any command (`/bin/true`): "
             f"{statistics.median(exec_floor(20)) * 1000:.2f} ms")


def exec_floor(reps):
    out = []
    for _ in range(reps):
        t0 = time.monotonic()
        subprocess.run(["/bin/true"], stdin=subprocess.DEVNULL)
        out.append(time.monotonic() - t0)
    return out


LINE = b"2026-11-22 03:00:00,000 INFO worker 42 handled request /api/v1/items in 3 ms\n"


def producer_cmd(nbytes):
    # `yes` repeats one log-like line fast; head cuts exactly nbytes.
    return f"/bin/sh -c 'yes \"{LINE[:-1].decode()}\" | head -c {nbytes}'"


def sc_logs(cfg, res):
    n = cfg.log_bytes
    mb = cfg.log_rotate_mb
    th = res.metric("log capture", f"{n >> 20} MiB stdout, {mb} MB rotation: throughput", "MiB/s",
                    "≥ `producer | cat > file`",
                    lambda m: m.med("pidvisor") >= m.med("baseline"), "producer | cat > file")
    cpu = res.metric("log capture", "daemon CPU for the whole capture", "ms",
                     "≤ ½ Supervisor's", lambda m: m.med("pidvisor") <= 0.5 * m.med("supervisor"),
                     "CPU of `cat` in `producer | cat > file`")
    lost = res.metric("log capture", "bytes lost (sum of rotated files)", "bytes",
                      "0", lambda m: max(m.values["pidvisor"]) == 0)
    backups = n // (mb * 1000 * 1000) + 5
    for r in range(cfg.reps_logs):
        # Baseline first, in the same run, on the same disk.
        d0 = tempfile.mkdtemp(dir=cfg.work)
        t0 = time.time()
        prod = subprocess.Popen(producer_cmd(n), shell=True, stdout=subprocess.PIPE)
        with open(f"{d0}/out", "wb") as out:
            cat = subprocess.Popen(["cat"], stdin=prod.stdout, stdout=out)
        prod.stdout.close()
        _, status, usage = os.wait4(cat.pid, 0)  # cat's own CPU, like the daemons'
        cat.returncode = os.waitstatus_to_exitcode(status)
        dt = last_write(d0, "out") - t0
        prod.wait()
        if cat.returncode != 0 or os.path.getsize(f"{d0}/out") != n:
            raise RuntimeError("baseline producer | cat wrote the wrong size")
        th.add("baseline", n / dt / 2**20)
        cpu.add("baseline", (usage.ru_utime + usage.ru_stime) * 1000)
        shutil.rmtree(d0)
        for kind in KINDS:
            prog = program("producer", producer_cmd(n), autostart="false",
                           stdout_logfile="{dir}/producer.log",
                           stdout_logfile_maxbytes=f"{mb}MB",
                           stdout_logfile_backups=backups, exitcodes="0")
            d = Daemon(kind, prog, 1, cfg.work, cfg.venv).start()
            _, c0 = proc_counters(d.pid)
            t0 = time.time()
            d.rpc().supervisor.startProcess("producer", False)
            # Poll slowly (the harness must not take CPU from the producer
            # and the daemon, which share two cores); the end of the capture
            # is the newest log file's mtime, as for the baseline.
            total, last_change, last_total = 0, time.monotonic(), -1
            while total != n:
                total = logged_bytes(d.dir)
                now = time.monotonic()
                if total != last_total:
                    last_total, last_change = total, now
                elif now - last_change > 5:
                    break  # nothing more is coming
                time.sleep(0.05)
            _, c1 = proc_counters(d.pid)
            dt = last_write(d.dir, "producer.log") - t0
            d.wait_states(STATE_EXITED, 1, timeout=60)
            total = logged_bytes(d.dir)  # settled: no rotation can race now
            th.add(kind, total / dt / 2**20)
            cpu.add(kind, (c1 - c0) / 1e6)
            lost.add(kind, n - total)
            d.stop()


def last_write(d, prefix):
    """The newest mtime (wall clock, s) of the files in d named prefix*."""
    while True:
        try:
            return max(e.stat().st_mtime_ns for e in os.scandir(d)
                       if e.name.startswith(prefix)) / 1e9
        except FileNotFoundError:
            continue  # renamed by a rotation under us


def logged_bytes(d, prefix="producer.log"):
    """Sum of the sizes of the files named prefix*; retried when a rotation
    renames a file under us."""
    while True:
        try:
            return sum(e.stat().st_size for e in os.scandir(d)
                       if e.name.startswith(prefix) and e.name.find(".log") > 0)
        except FileNotFoundError:
            continue


def sc_stop_all(cfg, res):
    ctl = res.metric("stop all", "`ctl stop all`, 100 programs, whole command", "ms",
                     "≤ 50 ms, no stalls",
                     lambda m: m.med("pidvisor") <= 50 and max(m.values["pidvisor"]) <= 50)
    rpc = res.metric("stop all", "stopAllProcesses(wait) over XML-RPC, 100 programs", "ms")
    for kind in KINDS:
        d = Daemon(kind, sleepers(100, autostart="true"), 100, cfg.work, cfg.venv).start()
        for r in range(cfg.reps_stop):
            d.rpc().supervisor.startAllProcesses(True)
            d.wait_states(STATE_RUNNING, 100)
            if r % 2 == 0:
                dt, cp = d.ctl("stop", "all")
                if cp.returncode != 0:
                    raise RuntimeError(f"{kind} stop all rc={cp.returncode}: {cp.stderr!r}")
                ctl.add(kind, dt * 1000)
            else:
                t0 = time.monotonic()
                d.rpc().supervisor.stopAllProcesses(True)
                rpc.add(kind, (time.monotonic() - t0) * 1000)
            d.wait_states(STATE_STOPPED, 100, timeout=30)
        d.stop()


def sc_shutdown(cfg, res):
    """Issue 21: 100 programs whose main process leaves a child behind,
    stopwaitsecs=10. pidvisord with cgroups stops the leftovers with the
    stop signal as each main process exits; supervisord leaves them running
    (they are counted, then killed by the bench)."""
    n = 100
    t = res.metric("shutdown", f"SIGTERM to exit, {n} programs leaving a child, stopwaitsecs=10", "ms",
                   "well under one stopwaitsecs (10 s)",
                   lambda m: m.med("pidvisor") < 5000)
    left = res.metric("shutdown", "processes left running after the daemon exited", "processes",
                      "0", lambda m: max(m.values["pidvisor"]) == 0)
    cmd = f"sh -c '{SLEEP} 1000000 & exec {SLEEP} 1000000'"
    body = "".join(program(f"p{i:04d}", cmd, autostart="true", stopwaitsecs=10) for i in range(n))
    for kind in KINDS:
        for _ in range(cfg.reps_shutdown):
            # cgroups= is ours; supervisord ignores the unknown option.
            d = Daemon(kind, body, n, cfg.work, cfg.venv, supervisord="cgroups=true").start()
            d.wait_states(STATE_RUNNING, n)
            deadline = time.monotonic() + 60
            while len(descendants(d.pid)) < 2 * n and time.monotonic() < deadline:
                time.sleep(0.05)
            kids = descendants(d.pid)
            t0 = time.monotonic()
            kill_pid(d.pid, signal.SIGTERM)
            d.proc.wait(120)
            t.add(kind, (time.monotonic() - t0) * 1000)
            alive = [p for p in kids if os.path.exists(f"/proc/{p}")]
            left.add(kind, len(alive))
            d.stop()
            for p in alive:
                kill_pid(p, signal.SIGKILL)


def sc_stop_ignore(cfg, res):
    ctl = res.metric("TERM-ignoring stop", "`ctl stop`, stopwaitsecs=1, whole command", "s",
                     "≤ 1.02 s", lambda m: m.med("pidvisor") <= 1.02)
    rpc = res.metric("TERM-ignoring stop", "stopProcess(wait) over XML-RPC", "s")
    for kind in KINDS:
        prog = program("stubborn", f"{HELPER} ignore-term", autostart="false", stopwaitsecs=1)
        d = Daemon(kind, prog, 1, cfg.work, cfg.venv).start()
        for r in range(cfg.reps_ignore):
            d.rpc().supervisor.startProcess("stubborn", True)
            time.sleep(0.1)  # the helper must have installed SIG_IGN
            if r % 2 == 0:
                dt, cp = d.ctl("stop", "stubborn")
                if cp.returncode != 0:
                    raise RuntimeError(f"{kind} stop rc={cp.returncode}: {cp.stderr!r}")
                ctl.add(kind, dt)
            else:
                t0 = time.monotonic()
                d.rpc().supervisor.stopProcess("stubborn", True)
                rpc.add(kind, time.monotonic() - t0)
            d.wait_states(STATE_STOPPED, 1)
        d.stop()


def sc_storm(cfg, res):
    n = cfg.n_storm
    t = res.metric("exit storm", f"{n} programs exit at once → all EXITED", "ms")
    ok = res.metric("exit storm", "programs with a wrong state/exit status", "count",
                    "0", lambda m: max(m.values["pidvisor"]) == 0)
    zb = res.metric("exit storm", "zombies left (children of the daemon)", "count",
                    "0", lambda m: max(m.values["pidvisor"]) == 0)
    for r in range(cfg.reps_storm):
        for kind in KINDS:
            d0 = tempfile.mkdtemp(dir=cfg.work)
            fifo = os.path.join(d0, "go.fifo")
            os.mkfifo(fifo)
            fd = os.open(fifo, os.O_RDWR)  # the only writer; closing it is the trigger
            try:
                prog = (
                    "[program:s]\n"
                    f"command={HELPER} wait {fifo} %(process_num)d\n"
                    "process_name=%(program_name)s_%(process_num)04d\n"
                    f"numprocs={n}\nstartsecs=0\nautorestart=false\nexitcodes=0,2\n"
                    "stdout_logfile=NONE\nstderr_logfile=NONE\n\n"
                )
                d = Daemon(kind, prog, n, cfg.work, cfg.venv).start(timeout=600)
                infos = d.wait_states(STATE_RUNNING, n, timeout=600, pause=0.5)
                pids = [i["pid"] for i in infos]
                # Every helper must be blocked in read() on the fifo before we fire.
                deadline = time.monotonic() + 120
                while not all(holds(p, fifo) for p in pids):
                    if time.monotonic() > deadline:
                        raise RuntimeError("helpers never opened the fifo")
                    time.sleep(0.05)
                before = len(d.log_lines("exited: "))
                t0 = time.monotonic()
                os.close(fd)
                fd = -1
                d.wait_log("exited: ", before + n, timeout=600)
                t.add(kind, (time.monotonic() - t0) * 1000)
                infos = d.wait_states(STATE_EXITED, n, timeout=60)
                wrong = 0
                for i in infos:
                    num = int(i["name"].rsplit("_", 1)[1])
                    if i["state"] != STATE_EXITED or i["exitstatus"] != num % 4:
                        wrong += 1
                ok.add(kind, wrong)
                zb.add(kind, len(zombies_of(d.pid)))
                d.stop(timeout=120)
            finally:
                if fd >= 0:
                    os.close(fd)
                shutil.rmtree(d0, ignore_errors=True)


def holds(pid, path):
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            if os.readlink(f"/proc/{pid}/fd/{fd}") == path:
                return True
    except OSError:
        pass
    return False


# ---------------------------------------------------------------- scale


class Capped(Exception):
    """A measurement ran past the scale scenario's time limit."""


def timed_call(fn, limit):
    """fn() in a thread; its seconds, or Capped after `limit` seconds (the
    call is left to finish in the background: the daemon is stopped next)."""
    box = {}

    def run():
        t0 = time.monotonic()
        try:
            box["value"] = fn()
        except Exception as e:  # re-raised in the caller
            box["error"] = e
        box["secs"] = time.monotonic() - t0

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(limit)
    if t.is_alive():
        raise Capped()
    if "error" in box:
        raise box["error"]
    return box["secs"]


class Poller:
    """getState every 10 ms from its own connection; the worst wait."""

    def __init__(self, sock):
        self.sock, self.worst, self.stop = sock, 0.0, False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        proxy = rpc_proxy(self.sock)
        while not self.stop:
            t0 = time.monotonic()
            try:
                proxy.supervisor.getState()
            except (OSError, xmlrpc.client.Error, http.client.HTTPException):
                return
            self.worst = max(self.worst, time.monotonic() - t0)
            time.sleep(0.01)

    def finish(self, limit):
        """The worst wait, or Capped when a call is still waiting."""
        self.stop = True
        self.thread.join(limit)
        if self.thread.is_alive():
            raise Capped()
        return self.worst


SCALE_MEASURES = [
    ("start all → RUNNING", "ms"),
    ("worst wait for a getState during start all", "ms"),
    ("`ctl status`, whole command", "ms"),
    ("VmRSS, all running", "MiB"),
    ("VmRSS per program (less 1 program's)", "KiB"),
    ("stopAllProcesses(wait)", "ms"),
    ("exit storm: all exit at once → all EXITED", "ms"),
]


def scale_once(kind, n, cfg, row):
    """One daemon of `kind` with n programs; fills row[(measure, kind)].
    A step past cfg.scale_limit records Capped and ends this daemon's run."""
    limit = cfg.scale_limit
    d = Daemon(kind, sleepers(n, autostart="false"), n, cfg.work, cfg.venv)
    try:
        timed_call(lambda: d.start(timeout=limit), limit + 5)
        poller = Poller(d.sock)
        before = len(d.log_lines("success: "))
        start = timed_call(lambda: (d.rpc().supervisor.startAllProcesses(False),
                                    d.wait_log("success: ", before + n, timeout=limit)), limit)
        row[("start all → RUNNING", kind)] = start * 1000
        row[("worst wait for a getState during start all", kind)] = poller.finish(limit) * 1000
        timed_call(lambda: d.wait_states(STATE_RUNNING, n, timeout=limit, pause=0.5), limit)
        ts = []
        for _ in range(3):
            dt, cp = d.ctl("status")
            if cp.returncode != 0 or cp.stdout.count(b"RUNNING") != n:
                raise RuntimeError(f"{kind} status: rc={cp.returncode} {cp.stderr[-300:]!r}")
            ts.append(dt)
        row[("`ctl status`, whole command", kind)] = statistics.median(ts) * 1000
        rss = rss_kib(d.pid)
        row[("VmRSS, all running", kind)] = rss / 1024
        base = cfg.rss_one.get(kind)
        if base is not None and n > 1:
            row[("VmRSS per program (less 1 program's)", kind)] = (rss - base) / n
        stop = timed_call(lambda: d.rpc().supervisor.stopAllProcesses(True), limit)
        row[("stopAllProcesses(wait)", kind)] = stop * 1000
    except Capped:
        row[("capped", kind)] = True
    finally:
        d.stop(timeout=120)
    if row.get(("capped", kind)):
        return
    try:
        row[("exit storm: all exit at once → all EXITED", kind)] = storm_once(kind, n, cfg, limit)
    except Capped:
        row[("capped", kind)] = True


def storm_once(kind, n, cfg, limit):
    """n `helper wait FIFO` programs exit at once; ms until all EXITED lines."""
    d0 = tempfile.mkdtemp(dir=cfg.work)
    fifo = os.path.join(d0, "go.fifo")
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDWR)
    d = None
    try:
        prog = (
            "[program:s]\n"
            f"command={HELPER} wait {fifo} %(process_num)d\n"
            "process_name=%(program_name)s_%(process_num)04d\n"
            f"numprocs={n}\nstartsecs=0\nautorestart=false\nexitcodes=0,2\n"
            "stdout_logfile=NONE\nstderr_logfile=NONE\n\n"
        )
        d = Daemon(kind, prog, n, cfg.work, cfg.venv)
        timed_call(lambda: d.start(timeout=limit), limit + 5)
        infos = []
        timed_call(lambda: infos.append(d.wait_states(STATE_RUNNING, n, timeout=limit, pause=0.5)),
                   limit + 5)
        pids = [i["pid"] for i in infos[0]]
        deadline = time.monotonic() + limit
        while not all(holds(p, fifo) for p in pids):
            if time.monotonic() > deadline:
                raise Capped()
            time.sleep(0.05)
        before = len(d.log_lines("exited: "))
        os.close(fd)
        fd = -1
        return timed_call(lambda: d.wait_log("exited: ", before + n, timeout=limit), limit) * 1000
    finally:
        if fd >= 0:
            os.close(fd)
        if d is not None:
            d.stop(timeout=120)
        shutil.rmtree(d0, ignore_errors=True)


def sc_scale(cfg, res):
    """The daemons at N = cfg.scale_ns programs (sleep, logs NONE,
    startsecs=0): start all, getState latency during it, status, RSS, stop
    all, exit storm. Supervisor's steps are capped at cfg.scale_limit."""
    cfg.rss_one = {}
    for kind in KINDS:
        d = Daemon(kind, sleepers(1, autostart="true"), 1, cfg.work, cfg.venv).start()
        d.wait_states(STATE_RUNNING, 1)
        d.ctl("status")
        cfg.rss_one[kind] = rss_kib(d.pid)
        d.stop()
    for n in cfg.scale_ns:
        row = {"n": n}
        row[("start all → RUNNING", "baseline")] = statistics.median(
            posix_spawn_loop(n) for _ in range(3)) * 1000
        for kind in KINDS:
            if kind == "supervisor" and res.scale and res.scale[-1].get(("capped", kind)):
                row[("capped", kind)] = True  # already past the limit at a smaller N
                continue
            log(f"scale: {kind} with {n} programs")
            scale_once(kind, n, cfg, row)
        res.scale.append(row)


def scale_table(cfg, rows):
    lines = [
        "| measure | programs | unit | pidvisor | Supervisor | pidvisor/Supervisor "
        "| posix_spawn loop | pidvisor/posix_spawn |",
        "|---|---|---|---|---|---|---|---|",
    ]
    capped = f"> {cfg.scale_limit:.0f} s (capped)"
    for name, unit in SCALE_MEASURES:
        for row in rows:
            pv = row.get((name, "pidvisor"))
            sv = row.get((name, "supervisor"))
            bl = row.get((name, "baseline"))
            sv_cell = fmt(sv, unit) if sv is not None else (
                capped if row.get(("capped", "supervisor")) else "-")
            pv_cell = fmt(pv, unit) if pv is not None else (
                capped if row.get(("capped", "pidvisor")) else "-")
            cells = [name, str(row["n"]), unit, pv_cell, sv_cell, ratio(pv, sv),
                     fmt(bl, unit) if bl is not None else "-", ratio(pv, bl)]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def sc_loggers(cfg, res):
    """20 programs logging at full speed at once, each to its own rotated file."""
    k, n = cfg.loggers, cfg.logger_bytes
    th = res.metric("loggers", f"{k} programs × {n >> 20} MiB at once: throughput", "MiB/s",
                    base_name=f"{k} × `producer | cat > file`")
    cpu = res.metric("loggers", "daemon CPU for the whole capture", "ms",
                     base_name=f"CPU of the {k} `cat`s")
    lost = res.metric("loggers", "bytes lost (sum of all files)", "bytes",
                      "0", lambda m: max(m.values["pidvisor"]) == 0)
    mb = cfg.log_rotate_mb
    backups = n // (mb * 1000 * 1000) + 5
    total = k * n
    for _ in range(cfg.reps_loggers):
        d0 = tempfile.mkdtemp(dir=cfg.work)
        t0 = time.time()
        procs = []
        for i in range(k):
            prod = subprocess.Popen(producer_cmd(n), shell=True, stdout=subprocess.PIPE)
            with open(f"{d0}/out{i}", "wb") as out:
                cat = subprocess.Popen(["cat"], stdin=prod.stdout, stdout=out)
            prod.stdout.close()
            procs.append((prod, cat))
        cat_cpu = 0.0
        for prod, cat in procs:
            _, status, usage = os.wait4(cat.pid, 0)
            cat.returncode = os.waitstatus_to_exitcode(status)
            cat_cpu += usage.ru_utime + usage.ru_stime
            prod.wait()
        dt = last_write(d0, "out") - t0
        if sum(os.path.getsize(f"{d0}/out{i}") for i in range(k)) != total:
            raise RuntimeError("baseline loggers wrote the wrong size")
        th.add("baseline", total / dt / 2**20)
        cpu.add("baseline", cat_cpu * 1000)
        shutil.rmtree(d0)
        for kind in KINDS:
            progs = "".join(
                program(f"log{i:02d}", producer_cmd(n), autostart="false",
                        stdout_logfile=f"{{dir}}/log{i:02d}.log",
                        stdout_logfile_maxbytes=f"{mb}MB",
                        stdout_logfile_backups=backups, exitcodes="0")
                for i in range(k))
            d = Daemon(kind, progs, k, cfg.work, cfg.venv).start()
            _, c0 = proc_counters(d.pid)
            t0 = time.time()
            d.rpc().supervisor.startAllProcesses(False)
            got, last_change, last_got = 0, time.monotonic(), -1
            while got != total:
                got = logged_bytes(d.dir, "log")
                now = time.monotonic()
                if got != last_got:
                    last_got, last_change = got, now
                elif now - last_change > 5:
                    break  # nothing more is coming
                time.sleep(0.05)
            _, c1 = proc_counters(d.pid)
            dt = last_write(d.dir, "log") - t0
            d.wait_states(STATE_EXITED, k, timeout=60)
            got = logged_bytes(d.dir, "log")
            th.add(kind, got / dt / 2**20)
            cpu.add(kind, (c1 - c0) / 1e6)
            lost.add(kind, total - got)
            d.stop()


SCENARIOS = {
    "respawn": sc_respawn,
    "idle": sc_idle,
    "idle-tick": sc_idle_tick,
    "spawn": sc_spawn_status_rss,
    "logs": sc_logs,
    "stop": sc_stop_all,
    "shutdown": sc_shutdown,
    "ignore": sc_stop_ignore,
    "storm": sc_storm,
    "notify": sc_notify,
    "loggers": sc_loggers,
    "scale": sc_scale,
}


# ---------------------------------------------------------------- report


class Results:
    def __init__(self):
        self.metrics = []
        self.notes = {}
        self.scale = []  # one dict per N (see sc_scale)

    def metric(self, *a, **kw):
        m = Metric(*a, **kw)
        self.metrics.append(m)
        return m

    def note(self, scenario, text):
        self.notes.setdefault(scenario, []).append(text)

    def table(self):
        rows = [
            "| scenario | measure | unit | pidvisor median (min–max) | Supervisor median (min–max) "
            "| pidvisor/Supervisor | baseline median (min–max) | pidvisor/baseline | target | verdict |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for m in self.metrics:
            pv, sv, bl = m.med("pidvisor"), m.med("supervisor"), m.med("baseline")
            base = f"{m.base_name}: {cell(m, 'baseline')}" if m.values["baseline"] else "-"
            cells = [m.scenario, m.name, m.unit, cell(m, "pidvisor"), cell(m, "supervisor"),
                     ratio(pv, sv), base, ratio(pv, bl), m.target or "-", m.verdict()]
            # A literal | (as in `producer | cat`) would split a markdown cell.
            rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(rows)


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "memory": f"{mem} MiB",
        "python": platform.python_version(),
    }


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


SCALE_INTRO = """\
One daemon of each kind per N, `sleep` programs with `autostart=false`,
`startsecs=0`, logs `NONE` (method below). A step of either daemon that takes
longer than {limit:.0f} s is stopped there and shown as capped, with the rest
of that daemon's steps at that N and at larger N."""

METHOD = """\
## Method

Each scenario starts a fresh daemon of each kind on the same generated config in
its own temp dir (unix socket, `minfds` raised to 4 fds per program, the bench
raises the soft RLIMIT_NOFILE to the hard limit for both), drives it over its unix socket with
the same Python XML-RPC client or with its own ctl (`pidvisorctl` /
`supervisorctl` from the venv), and observes it from outside. Children log to
`NONE` except in the log-capture scenario. Every figure is median (min–max)
over the repeats listed under "Run".

- **respawn**: the program is `helper ready FIFO` (bench/helper.c, static C),
  which writes its pid into a fifo the harness holds open. Once the current
  pid has run for a second (shorter runs are a crash loop, whose restarts
  both daemons space a second apart), the harness sends `kill -9` to it and times (CLOCK_MONOTONIC) until the *new* pid
  arrives on the fifo, so the figure includes the new child's exec and one
  `write`. The baseline row is the floor of that method: the harness itself
  `posix_spawn`s the helper and waits for its pid the same way.
- **idle**: 100 running `sleep` programs; after 2 s of quiet, voluntary +
  nonvoluntary context switches (`/proc/PID/task/*/status`) and on-CPU time
  (`/proc/PID/task/*/schedstat`, ns) summed over all daemon threads, over the window.
- **idle-tick**: the same 100 programs plus a `TICK_60` event listener
  (`tests/fixtures/events/recorder.py`, a `supervisor.childutils` listener);
  context switches over a 60 s window from 2 s after one minute boundary to 2 s
  after the next, and the ticks the listener recorded in it. One tick costs
  the daemon the timer wake-up and the reads of the listener's answer.
- **spawn**: 500 `sleep` programs with `autostart=false`, `startsecs=0`;
  `startAllProcesses(wait=false)` over XML-RPC, timed (CLOCK_MONOTONIC) from
  just before the call until the main log holds the 500th `success: ...
  entered RUNNING state` line (the harness polls the file every 5 ms; log
  timestamps are not used because pidvisord stamps a whole batch of records
  with one time). The baseline is the harness running `posix_spawn(sleep)` 500
  times in a row (glibc returns after the exec), measured right before each
  daemon run. Between repeats all programs are stopped again.
- **RSS**: `VmRSS` of the daemon process with 1 / 100 / 500 programs RUNNING,
  after one `status` (500: after the spawn and status runs).
- **ctl status**: wall time of the whole `ctl status` command (process start
  to exit, output captured through a pipe) with 500 programs RUNNING. The note
  gives the harness floor for running any command.
- **log capture**: the program is `sh -c 'yes LINE | head -c N'` (an 80-byte log
  line), `stdout_logfile_maxbytes=50MB`, enough backups. Timed from
  `startProcess` to the last write into the `producer.log*` files (their newest
  mtime, read once the sum of their sizes is N or stops growing; the harness
  polls every 50 ms so that it takes no CPU from the capture); throughput =
  bytes / time. The baseline is timed the same way, from its start to its
  file's mtime. Daemon CPU is the schedstat delta over the capture; the
  baseline row gives the CPU (rusage) of the `cat` in `producer | cat > file`,
  the floor of a read/write copy loop.
  Bytes lost = N − the sum of all rotated files. The baseline runs the same
  producer as `… | cat > file` on the same disk, before each daemon pair.
- **stop all**: 100 running `sleep` programs; alternate rounds time the whole
  `ctl stop all` command and a bare `stopAllProcesses(wait=true)` call; a
  "stall" is any run over the target.
- **TERM-ignoring stop**: `helper ignore-term`, `stopwaitsecs=1`; alternate
  rounds time the whole `ctl stop stubborn` and `stopProcess(wait=true)`.
- **exit storm**: `numprocs=N` of `helper wait FIFO %(process_num)d`, which
  block reading a fifo whose only writer is the harness (checked through
  `/proc/PID/fd` before firing) and exit with `process_num % 4`
  (`exitcodes=0,2`). Closing the writer makes them all exit at once. Timed until
  the main log holds all N `exited:` lines (polled every 5 ms); then every
  program must be EXITED with its own exit status, and the daemon must have no zombie children.
- **notify** (issue 17, pidvisor only for the latency): a `ready=notify`
  program (Python, raw socket) blocks reading a fifo the harness holds open;
  the harness writes a line (t0) and calls `getProcessInfo` over XML-RPC in a
  tight loop until it answers RUNNING; the program sends `READY=1` from its
  main pid as soon as it reads the line. The baseline is one
  `getProcessInfo` call, the resolution of that loop. Then 100 programs that
  sent `READY=1` (`systemd-notify --ready`, no watchdog; Supervisor runs the
  same config and ignores the key) and the idle measure as above.

- **loggers**: 20 programs `sh -c 'yes LINE | head -c N'` started at once
  (`startAllProcesses(wait=false)`), each to its own log file
  (`stdout_logfile_maxbytes=50MB`, enough backups). Timed from the call to the
  last write into any of their files; throughput = all bytes / time; daemon
  CPU from schedstat over the capture. The baseline runs the 20 producers
  as `… | cat > file` in parallel, on the same disk, before each daemon pair.
- **scale** (the table of its own): for each N, the posix_spawn baseline
  (as in spawn, N sleeps, median of 3), then per daemon: start all as in
  spawn, while another connection calls `getState` every 10 ms (the worst
  wait of those calls is the latency row); `ctl status` (median of 3);
  VmRSS with all RUNNING, and per program less the VmRSS of the same daemon
  running one program; `stopAllProcesses(wait=true)` over XML-RPC; then a
  new daemon of N `helper wait FIFO` programs for the exit storm (as in
  exit storm).

Targets not met, with profiles and the causes in `src/`: `bench/PROFILES.md`.
"""


def write_results(cfg, res, started, load0, path):
    m = machine()
    lines = [
        "# Benchmark results: pidvisor vs Supervisor 4.3.0",
        "",
        "Produced by `bench/run" + (" --quick" if cfg.quick else "") + "`. "
        "Timings never gate tests; this file is committed by hand.",
        "",
        "## Machine",
        "",
        f"- date: {started} UTC (run took {cfg.elapsed:.0f} s)",
        f"- nproc: {m['nproc']}; CPU: {m['cpu']}; kernel: {m['kernel']}; memory: {m['memory']}",
        f"- load average at start / end: {load0} / {loadavg()}",
        f"- mode: {'quick' if cfg.quick else 'full'}; scenarios: {', '.join(cfg.only)}; "
        f"RLIMIT_NOFILE {cfg.nofile}",
        f"- pidvisor: {PIDVISORD} (release); Supervisor: {cfg.venv} (supervisor==4.3.0, "
        f"Python {supervisor_python(cfg.venv)})",
        "",
    ]
    if cfg.remark:
        lines += [f"**Note:** {cfg.remark}", ""]
    lines += [
        "## Run",
        "",
        f"repeats: respawn {cfg.reps_respawn}, idle {cfg.reps_idle} × {cfg.idle_secs} s, "
        f"idle with a tick listener {cfg.reps_idle_tick} × 60 s, "
        f"spawn {cfg.reps_spawn} × {cfg.n_spawn}, status {cfg.reps_ctl}, "
        f"log capture {cfg.reps_logs} × {cfg.log_bytes >> 20} MiB, stop all {cfg.reps_stop}, shutdown {cfg.reps_shutdown}, "
        f"TERM-ignoring stop {cfg.reps_ignore}, exit storm {cfg.reps_storm} × {cfg.n_storm}, "
        f"{cfg.loggers} loggers {cfg.reps_loggers} × {cfg.logger_bytes >> 20} MiB each, "
        f"scale once at N = {', '.join(map(str, cfg.scale_ns))} "
        f"(each step capped at {cfg.scale_limit:.0f} s)",
        "",
        "## Results",
        "",
        res.table(),
        "",
    ]
    for sc, notes in res.notes.items():
        for n in notes:
            lines.append(f"- {sc}: {n}")
    if res.scale:
        lines += ["", "## Scale", "", SCALE_INTRO.format(limit=cfg.scale_limit), "",
                  scale_table(cfg, res.scale), ""]
    lines += ["", METHOD]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def supervisor_python(venv):
    try:
        out = subprocess.run([os.path.join(venv, "bin/python"), "--version"],
                             capture_output=True, text=True)
        return out.stdout.split()[-1]
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", required=True, help="venv holding supervisor==4.3.0")
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    ap.add_argument("--only", action="append", choices=list(SCENARIOS),
                    help="run only this scenario (repeatable)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/RESULTS.md"))
    ap.add_argument("--remark", default="", help="a line for RESULTS.md (e.g. machine load)")
    ap.add_argument("--scale-ns", default="",
                    help="program counts of the scale scenario (default 100,1000,5000)")
    cfg = ap.parse_args()
    cfg.scale_ns_arg = cfg.scale_ns
    cfg.only = cfg.only or list(SCENARIOS)
    q = cfg.quick
    cfg.reps_respawn = 10 if q else 30
    cfg.reps_idle = 1 if q else 2
    cfg.idle_secs = 5 if q else 30
    cfg.reps_idle_tick = 1
    cfg.n_spawn = 500
    cfg.reps_spawn = 2 if q else 5
    cfg.reps_ctl = 5 if q else 15
    cfg.log_bytes = (128 if q else 1024) << 20
    cfg.log_rotate_mb = 50
    cfg.reps_logs = 1 if q else 5
    cfg.reps_stop = 6 if q else 20
    # supervisord takes about a minute for this one: few repeats.
    cfg.reps_shutdown = 1 if q else 3
    cfg.reps_ignore = 2 if q else 6
    cfg.n_storm = 500 if q else 2000
    cfg.reps_storm = 1 if q else 2
    cfg.scale_ns = [100, 500] if q else [100, 1000, 5000]
    if cfg.scale_ns_arg:
        cfg.scale_ns = [int(x) for x in cfg.scale_ns_arg.split(",")]
    cfg.scale_limit = 30 if q else 60
    cfg.loggers = 20
    cfg.logger_bytes = (16 if q else 64) << 20
    cfg.reps_loggers = 1 if q else 3

    if os.geteuid() != 0:
        sys.exit("run as root (the bench raises RLIMIT_NOFILE for both daemons)")
    for p in (PIDVISORD, PIDVISORCTL, HELPER):
        if not os.access(p, os.X_OK):
            sys.exit(f"missing {p}: run bench/run, which builds it")
    # Raise the soft limit to the hard one (a container may deny raising the hard one).
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    cfg.nofile = hard if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (cfg.nofile, hard))
    global NOFILE_HARD
    NOFILE_HARD = cfg.nofile
    os.environ["TZ"] = "UTC"  # main-log timestamps are parsed as UTC
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    load0 = loadavg()
    t0 = time.monotonic()
    res = Results()
    cfg.work = tempfile.mkdtemp(prefix="pidvisor-bench-")
    try:
        for name in cfg.only:
            log(f"scenario {name}")
            load = loadavg()
            SCENARIOS[name](cfg, res)
            res.note("load", f"{name}: load average {load} at start, {loadavg()} at end")
    finally:
        cleanup()
        shutil.rmtree(cfg.work, ignore_errors=True)
    cfg.elapsed = time.monotonic() - t0
    write_results(cfg, res, started, load0, cfg.out)
    print(res.table())
    log(f"wrote {cfg.out}")


if __name__ == "__main__":
    main()
