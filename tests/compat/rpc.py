"""Drive or observe a supervisord (the real one, or pidvisord) through plain
XML-RPC, with Python's own xmlrpc.client: the tests' oracle never asks
pidvisorctl (or pidvisor's codec) what the real supervisord did.

Stdlib only, so the system python3 runs it as well as the venv's:

    rpc.py URL call METHOD [JSON_PARAM ...]   one call; prints a JSON record
    rpc.py URL wait NAME STATE [SECONDS]      poll until NAME is in STATE
    rpc.py decode                             decode responses (see below)

URL is unix:///path/to.sock or http://host:port. USER and PASS come from
the environment variables RPC_USER and RPC_PASS when set.

`call` prints {"result": VALUE} or {"fault": CODE, "string": TEXT}; VALUE is
the result as JSON (binary and dates as strings). `wait` exits 0 once the
state is reached (for RUNNING: once the process has also exec'd its
command, see wait_exec), or 1 with the last info after the deadline.

`decode` reads, from stdin, responses framed as "LENGTH\\n" + LENGTH bytes
and answers each on stdout with one JSON line: {"result": VALUE},
{"fault": CODE, "string": TEXT} or {"error": TEXT} when xmlrpc.client
cannot decode it.
"""

import base64
import http.client
import json
import os
import socket
import sys
import time
import xmlrpc.client


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        http.client.HTTPConnection.__init__(self, "localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


class Transport(xmlrpc.client.Transport):
    """xmlrpc.client's transport over a unix socket or TCP, with basic
    auth from the environment."""

    def __init__(self, url):
        xmlrpc.client.Transport.__init__(self)
        self.url = url

    def make_connection(self, host):
        if self.url.startswith("unix://"):
            return UnixHTTPConnection(self.url[len("unix://"):])
        return http.client.HTTPConnection(self.url.split("://", 1)[1].rstrip("/"))

    def send_headers(self, connection, headers):
        user = os.environ.get("RPC_USER")
        if user is not None:
            token = "%s:%s" % (user, os.environ.get("RPC_PASS", ""))
            auth = base64.b64encode(token.encode()).decode()
            headers = list(headers) + [("Authorization", "Basic " + auth)]
        xmlrpc.client.Transport.send_headers(self, connection, headers)


def server(url):
    return xmlrpc.client.ServerProxy("http://localhost/RPC2", transport=Transport(url))


def plain(v):
    """A JSON-able copy of an XML-RPC value."""
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, xmlrpc.client.Binary):
        return v.data.decode("latin-1")
    if isinstance(v, xmlrpc.client.DateTime):
        return v.value
    return v


def call(url, method, params):
    fn = server(url)
    for part in method.split("."):
        fn = getattr(fn, part)
    try:
        return {"result": plain(fn(*params))}
    except xmlrpc.client.Fault as f:
        return {"fault": f.faultCode, "string": f.faultString}


def exe(pid):
    try:
        return os.readlink("/proc/%d/exe" % pid)
    except OSError:
        return None


def wait(url, name, state, seconds):
    """Poll until NAME is in STATE. For RUNNING, also until its process runs
    its own command rather than the daemon's binary: supervisord loses a
    SIGTERM that arrives between its fork and exec (the child still runs
    Python's handler, which only sets a flag)."""
    s = server(url)
    deadline = time.monotonic() + seconds
    info = None
    while True:
        try:
            info = s.supervisor.getProcessInfo(name)
            if info["statename"] == state:
                if state != "RUNNING":
                    return 0
                daemon = exe(s.supervisor.getPID())
                child = exe(info["pid"]) if info["pid"] else None
                if daemon and child and daemon != child:
                    return 0
        except (OSError, xmlrpc.client.Fault) as e:
            info = repr(e)
        if time.monotonic() > deadline:
            print("timed out waiting for %s %s; last: %s" % (name, state, info),
                  file=sys.stderr)
            return 1
        time.sleep(0.02)


def decode():
    """Decode framed responses from stdin until it ends."""
    inp = sys.stdin.buffer
    while True:
        line = inp.readline()
        if not line:
            return 0
        body = inp.read(int(line))
        try:
            (value,), _ = xmlrpc.client.loads(body)
            rec = {"result": plain(value)}
        except xmlrpc.client.Fault as f:
            rec = {"fault": f.faultCode, "string": f.faultString}
        except Exception as e:  # anything xmlrpc.client refuses
            rec = {"error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(rec), flush=True)


def main(argv):
    if argv[1:2] == ["decode"]:
        return decode()
    url, what = argv[1], argv[2]
    if what == "call":
        params = [json.loads(p) for p in argv[4:]]
        print(json.dumps(call(url, argv[3], params)), flush=True)
        return 0
    if what == "wait":
        seconds = float(argv[5]) if len(argv) > 5 else 20.0
        return wait(url, argv[3], argv[4], seconds)
    print("unknown command %r" % what, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
