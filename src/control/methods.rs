//! Supervisor's XML-RPC methods (spec §6) as a pure decode/encode pair
//! around the typed API: [`decode`] turns a method name and its params into
//! an [`api::Request`] (or answers on the spot: `system.*` introspection,
//! bad params), [`encode`] turns an [`api::Reply`] into the value and the
//! fault Supervisor sends. Nothing here knows how a request is answered.

use crate::api::{
    self, ConfigInfo, ConfigLogInfo, Fault, FaultCode, ProcResult, ProcessInfo, Request, Response,
    StdinData, Stream,
};
use crate::control::xmlrpc::{Fault as XmlFault, Value};

/// What one call is.
#[derive(Debug)]
pub enum Decoded {
    /// Answered on the spot.
    Now(Result<Value, XmlFault>),
    /// A request for the daemon.
    Call(Request),
    /// `system.multicall`: run these one after the other.
    Multi(Vec<Result<(String, Vec<Value>), XmlFault>>),
}

pub fn fault(code: FaultCode, detail: &str) -> XmlFault {
    xml_fault(&Fault::new(code, detail))
}

/// A fault as XML-RPC. Supervisor always passes the name or signal to
/// BAD_NAME and BAD_SIGNAL, so an empty one still gets its `: `.
pub fn xml_fault(f: &Fault) -> XmlFault {
    let string = match f.code {
        FaultCode::BadName | FaultCode::BadSignal if f.text == f.code.name() => {
            format!("{}: ", f.text)
        }
        _ => f.text.clone(),
    };
    XmlFault {
        code: i64::from(f.code.code()),
        string,
    }
}

/// A value as Python's `str()` shows it (fault details quote arguments).
pub fn py_str(v: &Value) -> String {
    crate::py::pystr::py_str(v, crate::py::pystr::Decoder::Supervisord)
}

fn incorrect() -> XmlFault {
    fault(FaultCode::IncorrectParameters, "")
}

fn str_arg(p: &[Value], i: usize) -> Result<String, XmlFault> {
    match p.get(i) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Int(n)) => Ok(n.to_string()),
        _ => Err(incorrect()),
    }
}

fn int_arg(p: &[Value], i: usize) -> Result<i64, XmlFault> {
    match p.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(Value::Bool(b)) => Ok(i64::from(*b)),
        _ => Err(incorrect()),
    }
}

/// `wait` defaults to true; anything but a false boolean/0 means true.
fn wait_arg(p: &[Value], i: usize) -> Result<bool, XmlFault> {
    match p.get(i) {
        None => Ok(true),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Int(n)) => Ok(*n != 0),
        Some(Value::String(s)) => Ok(!s.is_empty()),
        Some(_) => Ok(true),
    }
}

fn stream_of(method: &str) -> Stream {
    if method.contains("Stderr") {
        Stream::Stderr
    } else {
        Stream::Stdout
    }
}

/// `sendProcessStdin`'s `chars`: text (or base64 bytes), else how Python
/// shows what it got, for the fault the daemon raises after its own checks.
fn stdin_data(v: &Value) -> StdinData {
    match v {
        Value::String(s) => StdinData::Bytes(s.clone().into_bytes()),
        Value::Base64(b) => StdinData::Bytes(b.clone()),
        other => StdinData::NotText(py_str(other)),
    }
}

fn arity(p: &[Value], min: usize, max: usize) -> Result<(), XmlFault> {
    if p.len() < min || p.len() > max {
        return Err(incorrect());
    }
    Ok(())
}

/// What one call is. Unknown or private names are UNKNOWN_METHOD.
pub fn decode(method: &str, p: &[Value]) -> Decoded {
    let Some((ns, name)) = crate::control::xmlrpc::split_method_name(method) else {
        return Decoded::Now(Err(fault(FaultCode::UnknownMethod, "")));
    };
    let decoded = match ns {
        "supervisor" => supervisor_method(name, p).map(Decoded::Call),
        "pidvisor" => pidvisor_method(name, p).map(Decoded::Call),
        "system" => system_method(name, p),
        _ => Err(fault(FaultCode::UnknownMethod, "")),
    };
    decoded.unwrap_or_else(|f| Decoded::Now(Err(f)))
}

/// A method's shape: fewest and most params, and how to read them.
type Shape = (usize, usize, fn(&[Value]) -> Result<Request, XmlFault>);

/// `supervisor.*`: the daemon's own calls, by family.
fn supervisor_method(name: &str, p: &[Value]) -> Result<Request, XmlFault> {
    daemon_call(name, p)
        .or_else(|| process_call(name, p))
        .or_else(|| log_call(name, p))
        .unwrap_or_else(|| Err(fault(FaultCode::UnknownMethod, "")))
}

/// The daemon itself and its configuration.
fn daemon_call(name: &str, p: &[Value]) -> Option<Result<Request, XmlFault>> {
    let (min, max, request): Shape = match name {
        "getAPIVersion" | "getVersion" => (0, 0, |_| Ok(Request::GetApiVersion)),
        "getSupervisorVersion" => (0, 0, |_| Ok(Request::GetSupervisorVersion)),
        "getIdentification" => (0, 0, |_| Ok(Request::GetIdentification)),
        "getState" => (0, 0, |_| Ok(Request::GetState)),
        "getPID" => (0, 0, |_| Ok(Request::GetPid)),
        "shutdown" => (0, 0, |_| Ok(Request::Shutdown)),
        "restart" => (0, 0, |_| Ok(Request::Restart)),
        "reloadConfig" => (0, 0, |_| Ok(Request::ReloadConfig)),
        "getAllConfigInfo" => (0, 0, |_| Ok(Request::GetAllConfigInfo)),
        "addProcessGroup" => (1, 1, |p| {
            let name = str_arg(p, 0)?;
            Ok(Request::AddProcessGroup { name })
        }),
        "removeProcessGroup" => (1, 1, |p| {
            let name = str_arg(p, 0)?;
            Ok(Request::RemoveProcessGroup { name })
        }),
        "sendRemoteCommEvent" => (2, 2, |p| {
            let (kind, data) = (str_arg(p, 0)?, str_arg(p, 1)?);
            Ok(Request::SendRemoteCommEvent { kind, data })
        }),
        _ => return None,
    };
    Some(arity(p, min, max).and_then(|()| request(p)))
}

/// Processes: state, start, stop, signal. The core takes `GROUP:*` and
/// `GROUP:` as names too (BAD_NAME then names them as given, as
/// Supervisor's lookup does).
fn process_call(name: &str, p: &[Value]) -> Option<Result<Request, XmlFault>> {
    let (min, max, request): Shape = match name {
        "getProcessInfo" => (1, 1, |p| {
            let name = str_arg(p, 0)?;
            Ok(Request::GetProcessInfo { name })
        }),
        "getAllProcessInfo" => (0, 0, |_| Ok(Request::GetAllProcessInfo)),
        "startProcess" => (1, 2, |p| {
            let (name, wait) = (str_arg(p, 0)?, wait_arg(p, 1)?);
            Ok(Request::StartProcess { name, wait })
        }),
        "startProcessGroup" => (1, 2, |p| {
            let (name, wait) = (str_arg(p, 0)?, wait_arg(p, 1)?);
            Ok(Request::StartProcessGroup { name, wait })
        }),
        "startAllProcesses" => (0, 1, |p| {
            let wait = wait_arg(p, 0)?;
            Ok(Request::StartAllProcesses { wait })
        }),
        "stopProcess" => (1, 2, |p| {
            let (name, wait) = (str_arg(p, 0)?, wait_arg(p, 1)?);
            Ok(Request::StopProcess { name, wait })
        }),
        "stopProcessGroup" => (1, 2, |p| {
            let (name, wait) = (str_arg(p, 0)?, wait_arg(p, 1)?);
            Ok(Request::StopProcessGroup { name, wait })
        }),
        "stopAllProcesses" => (0, 1, |p| {
            let wait = wait_arg(p, 0)?;
            Ok(Request::StopAllProcesses { wait })
        }),
        "signalProcess" => (2, 2, |p| {
            let (name, signal) = (str_arg(p, 0)?, str_arg(p, 1)?);
            Ok(Request::SignalProcess { name, signal })
        }),
        "signalProcessGroup" => (2, 2, |p| {
            let (name, signal) = (str_arg(p, 0)?, str_arg(p, 1)?);
            Ok(Request::SignalProcessGroup { name, signal })
        }),
        "signalAllProcesses" => (1, 1, |p| {
            let signal = str_arg(p, 0)?;
            Ok(Request::SignalAllProcesses { signal })
        }),
        "sendProcessStdin" => (2, 2, |p| {
            let name = str_arg(p, 0)?;
            let data = stdin_data(&p[1]);
            Ok(Request::SendProcessStdin { name, data })
        }),
        _ => return None,
    };
    Some(arity(p, min, max).and_then(|()| request(p)))
}

/// The main log and the processes' logs.
fn log_call(name: &str, p: &[Value]) -> Option<Result<Request, XmlFault>> {
    let stream = stream_of(name);
    let result = match name {
        "readLog" | "readMainLog" => arity(p, 2, 2).and_then(|()| {
            let (offset, length) = (int_arg(p, 0)?, int_arg(p, 1)?);
            Ok(Request::ReadMainLog { offset, length })
        }),
        "clearLog" => arity(p, 0, 0).map(|()| Request::ClearMainLog),
        "readProcessStdoutLog" | "readProcessLog" | "readProcessStderrLog" => arity(p, 3, 3)
            .and_then(|()| {
                let name = str_arg(p, 0)?;
                let (offset, length) = (int_arg(p, 1)?, int_arg(p, 2)?);
                Ok(Request::ReadProcessLog {
                    name,
                    stream,
                    offset,
                    length,
                })
            }),
        "tailProcessStdoutLog" | "tailProcessLog" | "tailProcessStderrLog" => arity(p, 3, 3)
            .and_then(|()| {
                let name = str_arg(p, 0)?;
                let (offset, length) = (int_arg(p, 1)?, int_arg(p, 2)?);
                Ok(Request::TailProcessLog {
                    name,
                    stream,
                    offset,
                    length,
                })
            }),
        "clearProcessLogs" | "clearProcessLog" => arity(p, 1, 1).and_then(|()| {
            let name = str_arg(p, 0)?;
            Ok(Request::ClearProcessLogs { name })
        }),
        "clearAllProcessLogs" => arity(p, 0, 0).map(|()| Request::ClearAllProcessLogs),
        _ => return None,
    };
    Some(result)
}

/// `pidvisor.*`: our additions.
fn pidvisor_method(name: &str, p: &[Value]) -> Result<Request, XmlFault> {
    match name {
        "listProcessPids" => {
            arity(p, 1, 1)?;
            Ok(Request::ListProcessPids {
                name: str_arg(p, 0)?,
            })
        }
        _ => Err(fault(FaultCode::UnknownMethod, "")),
    }
}

/// `system.*`: introspection and multicall, answered by the codec.
fn system_method(name: &str, p: &[Value]) -> Result<Decoded, XmlFault> {
    let now = |v: Value| Ok(Decoded::Now(Ok(v)));
    match name {
        "listMethods" => {
            arity(p, 0, 0)?;
            let mut names: Vec<Value> = METHODS.iter().map(|m| Value::from(m.0)).collect();
            names.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            now(Value::Array(names))
        }
        "methodHelp" => {
            arity(p, 1, 1)?;
            let m = str_arg(p, 0)?;
            match METHODS.iter().find(|x| x.0 == m) {
                Some(x) => now(x.2.into()),
                None => Err(fault(FaultCode::SignatureUnsupported, "")),
            }
        }
        "methodSignature" => {
            arity(p, 1, 1)?;
            let m = str_arg(p, 0)?;
            match METHODS.iter().find(|x| x.0 == m) {
                Some(x) => now(Value::Array(x.1.iter().map(|t| Value::from(*t)).collect())),
                None => Err(fault(FaultCode::SignatureUnsupported, "")),
            }
        }
        "multicall" => {
            arity(p, 1, 1)?;
            let Some(Value::Array(calls)) = p.first() else {
                return Err(incorrect());
            };
            let calls = calls
                .iter()
                .map(|c| {
                    let name = match c.get("methodName") {
                        Some(Value::String(s)) => s.clone(),
                        _ => return Err(fault(FaultCode::IncorrectParameters, "No methodName")),
                    };
                    if name == "system.multicall" {
                        return Err(fault(
                            FaultCode::IncorrectParameters,
                            "Recursive system.multicall forbidden",
                        ));
                    }
                    let params = match c.get("params") {
                        Some(Value::Array(a)) => a.clone(),
                        None => Vec::new(),
                        Some(_) => return Err(incorrect()),
                    };
                    Ok((name, params))
                })
                .collect();
            Ok(Decoded::Multi(calls))
        }
        _ => Err(fault(FaultCode::UnknownMethod, "")),
    }
}

/// Every method with its signature (`[return, params...]`) and help text:
/// the docstring exactly as Supervisor's `system.methodHelp` returns it,
/// indentation included (clients print it as is).
pub const METHODS: &[(&str, &[&str], &str)] = &[
    ("pidvisor.listProcessPids", &["array", "string"], " List every pid of a process: its cgroup leaf, or without cgroups the main\n        pid and its descendants\n\n        @param string name   The name of the process (or 'group:name')\n        @return array result  An array of structs {pid: int, cmdline: string}\n        "),
    ("supervisor.addProcessGroup", &["boolean", "string"], " Update the config for a running process from config file.\n\n        @param string name         name of process group to add\n        @return boolean result     true if successful\n        "),
    ("supervisor.clearAllProcessLogs", &["array"], " Clear all process log files\n\n        @return array result   An array of process status info structs\n        "),
    ("supervisor.clearLog", &["boolean"], " Clear the main log.\n\n        @return boolean result always returns True unless error\n        "),
    ("supervisor.clearProcessLog", &["boolean", "string"], " Clear the stdout and stderr logs for the named process and\n        reopen them.\n\n        @param string name   The name of the process (or 'group:name')\n        @return boolean result      Always True unless error\n        "),
    ("supervisor.clearProcessLogs", &["boolean", "string"], " Clear the stdout and stderr logs for the named process and\n        reopen them.\n\n        @param string name   The name of the process (or 'group:name')\n        @return boolean result      Always True unless error\n        "),
    ("supervisor.getAPIVersion", &["string"], " Return the version of the RPC API used by supervisord\n\n        @return string version id\n        "),
    ("supervisor.getAllConfigInfo", &["array"], " Get info about all available process configurations. Each struct\n        represents a single process (i.e. groups get flattened).\n\n        @return array result  An array of process config info structs\n        "),
    ("supervisor.getAllProcessInfo", &["array"], " Get info about all processes\n\n        @return array result  An array of process status results\n        "),
    ("supervisor.getIdentification", &["string"], " Return identifying string of supervisord\n\n        @return string identifier identifying string\n        "),
    ("supervisor.getPID", &["int"], " Return the PID of supervisord\n\n        @return int PID\n        "),
    ("supervisor.getProcessInfo", &["struct", "string"], " Get info about a process named name\n\n        @param string name The name of the process (or 'group:name')\n        @return struct result     A structure containing data about the process\n        "),
    ("supervisor.getState", &["struct"], " Return current state of supervisord as a struct\n\n        @return struct A struct with keys int statecode, string statename\n        "),
    ("supervisor.getSupervisorVersion", &["string"], " Return the version of the supervisor package in use by supervisord\n\n        @return string version id\n        "),
    ("supervisor.getVersion", &["string"], " Return the version of the RPC API used by supervisord\n\n        @return string version id\n        "),
    ("supervisor.readLog", &["string", "int", "int"], " Read length bytes from the main log starting at offset\n\n        @param int offset         offset to start reading from.\n        @param int length         number of bytes to read from the log.\n        @return string result     Bytes of log\n        "),
    ("supervisor.readMainLog", &["string", "int", "int"], " Read length bytes from the main log starting at offset\n\n        @param int offset         offset to start reading from.\n        @param int length         number of bytes to read from the log.\n        @return string result     Bytes of log\n        "),
    ("supervisor.readProcessLog", &["string", "string", "int", "int"], " Read length bytes from name's stdout log starting at offset\n\n        @param string name        the name of the process (or 'group:name')\n        @param int offset         offset to start reading from.\n        @param int length         number of bytes to read from the log.\n        @return string result     Bytes of log\n        "),
    ("supervisor.readProcessStderrLog", &["string", "string", "int", "int"], " Read length bytes from name's stderr log starting at offset\n\n        @param string name        the name of the process (or 'group:name')\n        @param int offset         offset to start reading from.\n        @param int length         number of bytes to read from the log.\n        @return string result     Bytes of log\n        "),
    ("supervisor.readProcessStdoutLog", &["string", "string", "int", "int"], " Read length bytes from name's stdout log starting at offset\n\n        @param string name        the name of the process (or 'group:name')\n        @param int offset         offset to start reading from.\n        @param int length         number of bytes to read from the log.\n        @return string result     Bytes of log\n        "),
    ("supervisor.reloadConfig", &["array"], "\n        Reload the configuration.\n\n        The result contains three arrays containing names of process\n        groups:\n\n        * `added` gives the process groups that have been added\n        * `changed` gives the process groups whose contents have\n          changed\n        * `removed` gives the process groups that are no longer\n          in the configuration\n\n        @return array result  [[added, changed, removed]]\n\n        "),
    ("supervisor.removeProcessGroup", &["boolean", "string"], " Remove a stopped process from the active configuration.\n\n        @param string name         name of process group to remove\n        @return boolean result     Indicates whether the removal was successful\n        "),
    ("supervisor.restart", &["boolean"], " Restart the supervisor process\n\n        @return boolean result  always return True unless error\n        "),
    ("supervisor.sendProcessStdin", &["boolean", "string", "string"], " Send a string of chars to the stdin of the process name.\n        If non-7-bit data is sent (unicode), it is encoded to utf-8\n        before being sent to the process' stdin.  If chars is not a\n        string or is not unicode, raise INCORRECT_PARAMETERS.  If the\n        process is not running, raise NOT_RUNNING.  If the process'\n        stdin cannot accept input (e.g. it was closed by the child\n        process), raise NO_FILE.\n\n        @param string name        The process name to send to (or 'group:name')\n        @param string chars       The character data to send to the process\n        @return boolean result    Always return True unless error\n        "),
    ("supervisor.sendRemoteCommEvent", &["boolean", "string", "string"], " Send an event that will be received by event listener\n        subprocesses subscribing to the RemoteCommunicationEvent.\n\n        @param  string  type  String for the \"type\" key in the event header\n        @param  string  data  Data for the event body\n        @return boolean       Always return True unless error\n        "),
    ("supervisor.shutdown", &["boolean"], " Shut down the supervisor process\n\n        @return boolean result always returns True unless error\n        "),
    ("supervisor.signalAllProcesses", &["array", "string"], " Send a signal to all processes in the process list\n\n        @param string signal  Signal to send, as name ('HUP') or number ('1')\n        @return array         An array of process status info structs\n        "),
    ("supervisor.signalProcess", &["boolean", "string", "string"], " Send an arbitrary UNIX signal to the process named by name\n\n        @param string name    Name of the process to signal (or 'group:name')\n        @param string signal  Signal to send, as name ('HUP') or number ('1')\n        @return boolean\n        "),
    ("supervisor.signalProcessGroup", &["array", "string", "string"], " Send a signal to all processes in the group named 'name'\n\n        @param string name    The group name\n        @param string signal  Signal to send, as name ('HUP') or number ('1')\n        @return array\n        "),
    ("supervisor.startAllProcesses", &["array", "boolean"], " Start all processes listed in the configuration file\n\n        @param boolean wait    Wait for each process to be fully started\n        @return array result   An array of process status info structs\n        "),
    ("supervisor.startProcess", &["boolean", "string", "boolean"], " Start a process\n\n        @param string name Process name (or ``group:name``, or ``group:*``)\n        @param boolean wait Wait for process to be fully started\n        @return boolean result     Always true unless error\n\n        "),
    ("supervisor.startProcessGroup", &["array", "string", "boolean"], " Start all processes in the group named 'name'\n\n        @param string name     The group name\n        @param boolean wait    Wait for each process to be fully started\n        @return array result   An array of process status info structs\n        "),
    ("supervisor.stopAllProcesses", &["array", "boolean"], " Stop all processes in the process list\n\n        @param  boolean wait   Wait for each process to be fully stopped\n        @return array result   An array of process status info structs\n        "),
    ("supervisor.stopProcess", &["boolean", "string", "boolean"], " Stop a process named by name\n\n        @param string name  The name of the process to stop (or 'group:name')\n        @param boolean wait        Wait for the process to be fully stopped\n        @return boolean result     Always return True unless error\n        "),
    ("supervisor.stopProcessGroup", &["array", "string", "boolean"], " Stop all processes in the process group named 'name'\n\n        @param string name     The group name\n        @param boolean wait    Wait for each process to be fully stopped\n        @return array result   An array of process status info structs\n        "),
    ("supervisor.tailProcessLog", &["array", "string", "int", "int"], "\n        Provides a more efficient way to tail the (stdout) log than\n        readProcessStdoutLog().  Use readProcessStdoutLog() to read\n        chunks and tailProcessStdoutLog() to tail.\n\n        Requests (length) bytes from the (name)'s log, starting at\n        (offset).  If the total log size is greater than (offset +\n        length), the overflow flag is set and the (offset) is\n        automatically increased to position the buffer at the end of\n        the log.  If less than (length) bytes are available, the\n        maximum number of available bytes will be returned.  (offset)\n        returned is always the last offset in the log +1.\n\n        @param string name         the name of the process (or 'group:name')\n        @param int offset          offset to start reading from\n        @param int length          maximum number of bytes to return\n        @return array result       [string bytes, int offset, bool overflow]\n        "),
    ("supervisor.tailProcessStderrLog", &["array", "string", "int", "int"], "\n        Provides a more efficient way to tail the (stderr) log than\n        readProcessStderrLog().  Use readProcessStderrLog() to read\n        chunks and tailProcessStderrLog() to tail.\n\n        Requests (length) bytes from the (name)'s log, starting at\n        (offset).  If the total log size is greater than (offset +\n        length), the overflow flag is set and the (offset) is\n        automatically increased to position the buffer at the end of\n        the log.  If less than (length) bytes are available, the\n        maximum number of available bytes will be returned.  (offset)\n        returned is always the last offset in the log +1.\n\n        @param string name         the name of the process (or 'group:name')\n        @param int offset          offset to start reading from\n        @param int length          maximum number of bytes to return\n        @return array result       [string bytes, int offset, bool overflow]\n        "),
    ("supervisor.tailProcessStdoutLog", &["array", "string", "int", "int"], "\n        Provides a more efficient way to tail the (stdout) log than\n        readProcessStdoutLog().  Use readProcessStdoutLog() to read\n        chunks and tailProcessStdoutLog() to tail.\n\n        Requests (length) bytes from the (name)'s log, starting at\n        (offset).  If the total log size is greater than (offset +\n        length), the overflow flag is set and the (offset) is\n        automatically increased to position the buffer at the end of\n        the log.  If less than (length) bytes are available, the\n        maximum number of available bytes will be returned.  (offset)\n        returned is always the last offset in the log +1.\n\n        @param string name         the name of the process (or 'group:name')\n        @param int offset          offset to start reading from\n        @param int length          maximum number of bytes to return\n        @return array result       [string bytes, int offset, bool overflow]\n        "),
    ("system.listMethods", &["array"], " Return an array listing the available method names\n\n        @return array result  An array of method names available (strings).\n        "),
    ("system.methodHelp", &["string", "string"], " Return a string showing the method's documentation\n\n        @param string name   The name of the method.\n        @return string result The documentation for the method name.\n        "),
    ("system.methodSignature", &["array", "string"], " Return an array describing the method signature in the\n        form [rtype, ptype, ptype...] where rtype is the return data type\n        of the method, and ptypes are the parameter data types that the\n        method accepts in method argument order.\n\n        @param string name  The name of the method.\n        @return array result  The result.\n        "),
    ("system.multicall", &["array", "array"], "Process an array of calls, and return an array of\n        results. Calls should be structs of the form {'methodName':\n        string, 'params': array}. Each result will either be a\n        single-item array containing the result value, or a struct of\n        the form {'faultCode': int, 'faultString': string}. This is\n        useful when you need to make lots of small calls without lots\n        of round trips.\n\n        @param array calls  An array of call requests\n        @return array result  An array of results\n        "),
];

/// XML-RPC ints are 32-bit: clamp timestamps like Supervisor does.
fn int32(v: i64) -> Value {
    Value::Int(v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)))
}

pub fn info_value(i: &ProcessInfo) -> Value {
    Value::record([
        ("name", Value::from(i.name.as_str())),
        ("group", i.group.as_str().into()),
        ("start", int32(i.start)),
        ("stop", int32(i.stop)),
        ("now", int32(i.now)),
        ("state", Value::Int(i64::from(i.state.code()))),
        ("statename", i.state.name().into()),
        ("spawnerr", i.spawnerr.as_str().into()),
        ("exitstatus", Value::Int(i64::from(i.exitstatus))),
        ("logfile", i.logfile.as_str().into()),
        ("stdout_logfile", i.stdout_logfile.as_str().into()),
        ("stderr_logfile", i.stderr_logfile.as_str().into()),
        ("pid", Value::Int(i64::from(i.pid))),
        ("description", i.description.as_str().into()),
    ])
}

fn log_fields(out: &mut Vec<(String, Value)>, prefix: &str, l: &ConfigLogInfo) {
    out.push((
        format!("{prefix}_capture_maxbytes"),
        Value::Int(l.capture_maxbytes),
    ));
    out.push((format!("{prefix}_events_enabled"), l.events_enabled.into()));
    out.push((format!("{prefix}_logfile"), l.logfile.as_str().into()));
    out.push((
        format!("{prefix}_logfile_backups"),
        Value::Int(l.logfile_backups),
    ));
    out.push((
        format!("{prefix}_logfile_maxbytes"),
        Value::Int(l.logfile_maxbytes),
    ));
    out.push((format!("{prefix}_syslog"), l.syslog.into()));
}

pub fn config_value(c: &ConfigInfo) -> Value {
    let none = || Value::from("none");
    let mut m: Vec<(String, Value)> = vec![
        ("autostart".into(), c.autostart.into()),
        (
            "directory".into(),
            c.directory.as_deref().map(Value::from).unwrap_or_else(none),
        ),
        (
            "uid".into(),
            c.uid.map(|u| Value::Int(i64::from(u))).unwrap_or_else(none),
        ),
        ("command".into(), c.command.as_str().into()),
        (
            "exitcodes".into(),
            Value::Array(
                c.exitcodes
                    .iter()
                    .map(|&e| Value::Int(i64::from(e)))
                    .collect(),
            ),
        ),
        ("group".into(), c.group.as_str().into()),
        ("group_prio".into(), Value::Int(c.group_prio)),
        ("inuse".into(), c.inuse.into()),
        ("killasgroup".into(), c.killasgroup.into()),
        ("name".into(), c.name.as_str().into()),
        ("process_prio".into(), Value::Int(c.process_prio)),
        ("redirect_stderr".into(), c.redirect_stderr.into()),
        ("startretries".into(), Value::Int(c.startretries)),
        ("startsecs".into(), Value::Int(c.startsecs)),
        ("stopsignal".into(), Value::Int(i64::from(c.stopsignal))),
        ("stopwaitsecs".into(), Value::Int(c.stopwaitsecs)),
        ("serverurl".into(), c.serverurl.as_str().into()),
    ];
    log_fields(&mut m, "stdout", &c.stdout);
    log_fields(&mut m, "stderr", &c.stderr);
    for (key, v) in &c.extensions {
        let v = match v {
            api::ConfigValue::Bool(b) => Value::Bool(*b),
            api::ConfigValue::Int(i) => Value::Int(*i),
            api::ConfigValue::Str(s) => s.as_str().into(),
            api::ConfigValue::Ints(v) => Value::Array(v.iter().map(|&i| Value::Int(i)).collect()),
        };
        m.push((key.clone(), v));
    }
    Value::Struct(m)
}

pub fn result_value(r: &ProcResult) -> Value {
    Value::record([
        ("name", Value::from(r.name.as_str())),
        ("group", r.group.as_str().into()),
        ("status", Value::Int(i64::from(r.status()))),
        ("description", r.description().into()),
    ])
}

/// A reply as Supervisor's XML-RPC answer.
pub fn encode(reply: &api::Reply) -> Result<Value, XmlFault> {
    let strings = |v: &[String]| Value::Array(v.iter().map(|s| Value::from(s.as_str())).collect());
    match reply {
        Err(f) => Err(xml_fault(f)),
        Ok(r) => Ok(match r {
            Response::Bool(b) => Value::Bool(*b),
            Response::State(s) => Value::record([
                ("statecode", Value::Int(i64::from(s.code()))),
                ("statename", s.name().into()),
            ]),
            Response::Text(t) => Value::from(t.as_str()),
            Response::Pid(p) => Value::Int(i64::from(*p)),
            Response::Info(i) => info_value(i),
            Response::Infos(v) => Value::Array(v.iter().map(info_value).collect()),
            Response::Results(v) => Value::Array(v.iter().map(result_value).collect()),
            Response::Diff(d) => Value::Array(vec![Value::Array(vec![
                strings(&d.added),
                strings(&d.changed),
                strings(&d.removed),
            ])]),
            Response::ConfigInfos(v) => Value::Array(v.iter().map(config_value).collect()),
            Response::Tail(t) => Value::Array(vec![
                Value::from(t.text.as_str()),
                Value::Int(t.offset),
                Value::Bool(t.overflow),
            ]),
            Response::Pids(v) => Value::Array(
                v.iter()
                    .map(|p| {
                        Value::record([
                            ("pid", Value::Int(i64::from(p.pid))),
                            ("cmdline", Value::from(p.cmdline.as_str())),
                        ])
                    })
                    .collect(),
            ),
            // No XML-RPC method asks for these.
            Response::Snapshots(_) | Response::LogFile(_) => {
                return Err(fault(FaultCode::Failed, "no XML-RPC form"))
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_forms_go_to_the_core_as_given() {
        // The core resolves `GROUP:*` / `GROUP:` itself, so that BAD_NAME
        // carries the name as given (`BAD_NAME: nosuch:*`).
        let p = [Value::from("grp:*")];
        assert!(
            matches!(decode("supervisor.startProcess", &p), Decoded::Call(Request::StartProcess { ref name, wait: true }) if name == "grp:*")
        );
        let p = [Value::from("grp:"), Value::Bool(false)];
        assert!(
            matches!(decode("supervisor.stopProcess", &p), Decoded::Call(Request::StopProcess { ref name, wait: false }) if name == "grp:")
        );
    }

    #[test]
    fn unknown_private_and_badly_shaped_methods() {
        for m in ["supervisor.nope", "supervisor._private", "a.b.c", "nodot"] {
            match decode(m, &[]) {
                Decoded::Now(Err(f)) => {
                    assert_eq!((f.code, f.string.as_str()), (1, "UNKNOWN_METHOD"), "{m}")
                }
                other => panic!("{m}: {other:?}"),
            }
        }
        match decode("supervisor.getProcessInfo", &[]) {
            Decoded::Now(Err(f)) => assert_eq!(f.string, "INCORRECT_PARAMETERS"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn list_methods_is_sorted_and_complete() {
        let Decoded::Now(Ok(Value::Array(v))) = decode("system.listMethods", &[]) else {
            panic!()
        };
        let names: Vec<&str> = v.iter().map(|x| x.as_str().unwrap()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(
            names.len(),
            41 + 1,
            "Supervisor lists 41 methods in a stock setup; pidvisor.listProcessPids is ours"
        );
    }

    #[test]
    fn multicall_checks_each_call() {
        let calls = Value::Array(vec![
            Value::record([("methodName", Value::from("supervisor.getPID"))]),
            Value::record([("params", Value::Array(vec![]))]),
            Value::record([("methodName", Value::from("system.multicall"))]),
        ]);
        let Decoded::Multi(v) = decode("system.multicall", &[calls]) else {
            panic!()
        };
        assert!(v[0].is_ok());
        assert_eq!(
            v[1].as_ref().unwrap_err().string,
            "INCORRECT_PARAMETERS: No methodName"
        );
        assert_eq!(
            v[2].as_ref().unwrap_err().string,
            "INCORRECT_PARAMETERS: Recursive system.multicall forbidden"
        );
    }
}
