//! Faults: Supervisor's codes (spec §6.3) and texts, the one error type a
//! request can end in, whichever face asked.

/// Supervisor's fault codes (spec §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultCode {
    UnknownMethod = 1,
    IncorrectParameters = 2,
    BadArguments = 3,
    SignatureUnsupported = 4,
    ShutdownState = 6,
    BadName = 10,
    BadSignal = 11,
    NoFile = 20,
    NotExecutable = 21,
    Failed = 30,
    AbnormalTermination = 40,
    SpawnError = 50,
    AlreadyStarted = 60,
    NotRunning = 70,
    Success = 80,
    AlreadyAdded = 90,
    StillRunning = 91,
    CantReread = 92,
}

impl FaultCode {
    pub const ALL: [FaultCode; 18] = {
        use FaultCode::*;
        [
            UnknownMethod,
            IncorrectParameters,
            BadArguments,
            SignatureUnsupported,
            ShutdownState,
            BadName,
            BadSignal,
            NoFile,
            NotExecutable,
            Failed,
            AbnormalTermination,
            SpawnError,
            AlreadyStarted,
            NotRunning,
            Success,
            AlreadyAdded,
            StillRunning,
            CantReread,
        ]
    };

    pub fn code(self) -> i32 {
        self as i32
    }

    /// The code with this number, if Supervisor has one.
    pub fn from_code(code: i64) -> Option<FaultCode> {
        FaultCode::ALL
            .into_iter()
            .find(|c| i64::from(c.code()) == code)
    }

    pub fn name(self) -> &'static str {
        use FaultCode::*;
        match self {
            UnknownMethod => "UNKNOWN_METHOD",
            IncorrectParameters => "INCORRECT_PARAMETERS",
            BadArguments => "BAD_ARGUMENTS",
            SignatureUnsupported => "SIGNATURE_UNSUPPORTED",
            ShutdownState => "SHUTDOWN_STATE",
            BadName => "BAD_NAME",
            BadSignal => "BAD_SIGNAL",
            NoFile => "NO_FILE",
            NotExecutable => "NOT_EXECUTABLE",
            Failed => "FAILED",
            AbnormalTermination => "ABNORMAL_TERMINATION",
            SpawnError => "SPAWN_ERROR",
            AlreadyStarted => "ALREADY_STARTED",
            NotRunning => "NOT_RUNNING",
            Success => "SUCCESS",
            AlreadyAdded => "ALREADY_ADDED",
            StillRunning => "STILL_RUNNING",
            CantReread => "CANT_REREAD",
        }
    }
}

/// A fault: its code and Supervisor's text (`NAME` or `NAME: detail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: FaultCode,
    pub text: String,
}

impl Fault {
    pub fn new(code: FaultCode, detail: &str) -> Fault {
        let text = if detail.is_empty() {
            code.name().to_string()
        } else {
            format!("{}: {}", code.name(), detail)
        };
        Fault { code, text }
    }

    /// The text after `NAME: `, or empty.
    pub fn detail(&self) -> &str {
        self.text
            .strip_prefix(self.code.name())
            .and_then(|t| t.strip_prefix(": "))
            .unwrap_or("")
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Fault {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_texts() {
        for c in FaultCode::ALL {
            assert_eq!(FaultCode::from_code(c.code().into()), Some(c));
        }
        assert_eq!(FaultCode::from_code(5), None);
        let f = Fault::new(FaultCode::BadName, "foo");
        assert_eq!(f.text, "BAD_NAME: foo");
        assert_eq!(f.detail(), "foo");
        assert_eq!(
            Fault::new(FaultCode::ShutdownState, "").text,
            "SHUTDOWN_STATE"
        );
    }
}
