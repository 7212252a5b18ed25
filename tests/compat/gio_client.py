"""A typed Gio client for pidvisord's D-Bus API (issue 19).

Gio's GDBusProxy, given the interface's introspection data (as every
gdbus-codegen client is), checks each method reply against the declared
out arguments and refuses one that differs ("returned type '(as)' but
expected '(asasas)'"). This script introspects the service, builds such a
proxy for the manager and for one process object, calls every method and
reads every property, and checks Properties.Set on a read-only property.

Usage: python3 gio_client.py BUS_ADDRESS PROCESS_PATH PROCESS_NAME
Prints one line per check and exits 1 if any failed. Needs python3-gi.
"""

import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

NAME = "org.pidvisor.Supervisor1"
MANAGER = "/org/pidvisor/Supervisor1"
MIFACE = "org.pidvisor.Supervisor1.Manager"
PIFACE = "org.pidvisor.Supervisor1.Process"

# Methods run last, in this order: they change or end the daemon.
LAST = ["Update", "Reload", "Shutdown"]

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def connect(address):
    flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
             | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
    return Gio.DBusConnection.new_for_address_sync(address, flags, None, None)


def interface_info(conn, path, iface):
    reply = conn.call_sync(NAME, path, "org.freedesktop.DBus.Introspectable",
                           "Introspect", None, GLib.VariantType("(s)"),
                           Gio.DBusCallFlags.NONE, 10000, None)
    node = Gio.DBusNodeInfo.new_for_xml(reply.unpack()[0])
    info = node.lookup_interface(iface)
    if info is None:
        raise SystemExit(f"{path} does not introspect {iface}")
    return info


def arg_value(method, arg, name, pid):
    """A sensible value for one in-argument, by its name and type."""
    sig = arg.signature
    if sig == "s":
        if arg.name in ("signal",):
            return "HUP"
        if arg.name in ("stream",):
            return "stdout"
        if method.endswith("Group"):
            return name
        return name
    if sig == "b":
        return True
    if sig == "x":
        return 100 if arg.name == "length" else 0
    if sig == "u":
        return pid
    if sig == "as":
        return []
    raise SystemExit(f"{method}: no test value for {arg.name}: {sig}")


def call_all(proxy, info, name, pid):
    methods = sorted(info.methods, key=lambda m: (m.name in LAST, LAST.index(m.name) if m.name in LAST else 0, m.name))
    for m in methods:
        sig = "(" + "".join(a.signature for a in m.in_args) + ")"
        args = tuple(arg_value(m.name, a, name, pid) for a in m.in_args)
        want = "(" + "".join(a.signature for a in m.out_args) + ")"
        try:
            reply = proxy.call_sync(m.name, GLib.Variant(sig, args),
                                    Gio.DBusCallFlags.NONE, 30000, None)
            got = reply.get_type_string()
            check(got == want, f"{info.name}.{m.name} replies {got}, declared {want}")
        except GLib.Error as e:
            remote = Gio.DBusError.get_remote_error(e) or ""
            # A fault of the service is a typed D-Bus error; a reply that
            # does not match its declaration is Gio's own refusal.
            typed = remote.startswith("org.pidvisor.Supervisor1.Error.")
            check(typed, f"{info.name}.{m.name}: {remote or e.message}")


def read_properties(conn, path, info):
    for p in info.properties:
        reply = conn.call_sync(NAME, path, "org.freedesktop.DBus.Properties", "Get",
                               GLib.Variant("(ss)", (info.name, p.name)),
                               GLib.VariantType("(v)"), Gio.DBusCallFlags.NONE, 10000, None)
        got = reply.get_child_value(0).get_variant().get_type_string()
        check(got == p.signature, f"{info.name}.{p.name} is {got}, declared {p.signature}")
    reply = conn.call_sync(NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                           GLib.Variant("(s)", (info.name,)), GLib.VariantType("(a{sv})"),
                           Gio.DBusCallFlags.NONE, 10000, None)
    names = set(reply.unpack()[0].keys())
    declared = {p.name for p in info.properties}
    check(names == declared, f"{info.name} GetAll gives every declared property")


def set_read_only(conn, path, info):
    p = info.properties[0]
    try:
        conn.call_sync(NAME, path, "org.freedesktop.DBus.Properties", "Set",
                       GLib.Variant("(ssv)", (info.name, p.name, GLib.Variant("s", "x"))),
                       None, Gio.DBusCallFlags.NONE, 10000, None)
        check(False, f"Set {p.name} succeeded")
    except GLib.Error as e:
        remote = Gio.DBusError.get_remote_error(e)
        check(remote == "org.freedesktop.DBus.Error.PropertyReadOnly",
              f"Set {info.name}.{p.name} answers {remote}")


def main():
    address, path, name = sys.argv[1:4]
    conn = connect(address)
    pinfo = interface_info(conn, path, PIFACE)
    minfo = interface_info(conn, MANAGER, MIFACE)
    read_properties(conn, path, pinfo)
    set_read_only(conn, path, pinfo)
    pid = conn.call_sync(NAME, path, "org.freedesktop.DBus.Properties", "Get",
                         GLib.Variant("(ss)", (PIFACE, "MainPID")), GLib.VariantType("(v)"),
                         Gio.DBusCallFlags.NONE, 10000, None).unpack()[0]
    flags = Gio.DBusProxyFlags.DO_NOT_AUTO_START
    process = Gio.DBusProxy.new_sync(conn, flags, pinfo, NAME, path, PIFACE, None)
    call_all(process, pinfo, name, pid)
    manager = Gio.DBusProxy.new_sync(conn, flags, minfo, NAME, MANAGER, MIFACE, None)
    call_all(manager, minfo, name, pid)
    print(f"{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
