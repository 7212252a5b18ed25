//! D-Bus errors: `org.pidvisor.Supervisor1.Error.<FAULT>`, carrying
//! Supervisor's fault names and texts, plus `AccessDenied`.

use crate::api::{Fault, FaultCode, Response};

/// Variant names are the error names' last element, so they are spelled
/// exactly as Supervisor's faults.
#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.pidvisor.Supervisor1.Error")]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum Error {
    #[zbus(error)]
    ZBus(zbus::Error),
    UNKNOWN_METHOD(String),
    INCORRECT_PARAMETERS(String),
    BAD_ARGUMENTS(String),
    SIGNATURE_UNSUPPORTED(String),
    SHUTDOWN_STATE(String),
    BAD_NAME(String),
    BAD_SIGNAL(String),
    NO_FILE(String),
    NOT_EXECUTABLE(String),
    FAILED(String),
    ABNORMAL_TERMINATION(String),
    SPAWN_ERROR(String),
    ALREADY_STARTED(String),
    NOT_RUNNING(String),
    SUCCESS(String),
    ALREADY_ADDED(String),
    STILL_RUNNING(String),
    CANT_REREAD(String),
    /// The caller may read but not change state.
    AccessDenied(String),
}

impl Error {
    /// A fault as the D-Bus error of the same name; the message is
    /// Supervisor's fault string (`BAD_NAME: foo`).
    pub fn from_fault(f: Fault) -> Error {
        let s = f.text;
        match f.code {
            FaultCode::UnknownMethod => Error::UNKNOWN_METHOD(s),
            FaultCode::IncorrectParameters => Error::INCORRECT_PARAMETERS(s),
            FaultCode::BadArguments => Error::BAD_ARGUMENTS(s),
            FaultCode::SignatureUnsupported => Error::SIGNATURE_UNSUPPORTED(s),
            FaultCode::ShutdownState => Error::SHUTDOWN_STATE(s),
            FaultCode::BadName => Error::BAD_NAME(s),
            FaultCode::BadSignal => Error::BAD_SIGNAL(s),
            FaultCode::NoFile => Error::NO_FILE(s),
            FaultCode::NotExecutable => Error::NOT_EXECUTABLE(s),
            FaultCode::AbnormalTermination => Error::ABNORMAL_TERMINATION(s),
            FaultCode::SpawnError => Error::SPAWN_ERROR(s),
            FaultCode::AlreadyStarted => Error::ALREADY_STARTED(s),
            FaultCode::NotRunning => Error::NOT_RUNNING(s),
            FaultCode::Success => Error::SUCCESS(s),
            FaultCode::AlreadyAdded => Error::ALREADY_ADDED(s),
            FaultCode::StillRunning => Error::STILL_RUNNING(s),
            FaultCode::CantReread => Error::CANT_REREAD(s),
            FaultCode::Failed => Error::FAILED(s),
        }
    }

    /// The reactor answered with a response of the wrong kind (a bug).
    pub fn unexpected(r: &Response) -> Error {
        Error::FAILED(format!("FAILED: unexpected answer {r:?}"))
    }

    /// For property getters, which must answer with an `fdo::Error`.
    pub fn into_fdo(self) -> zbus::fdo::Error {
        match self {
            Error::ZBus(e) => e.into(),
            Error::BAD_NAME(s) => zbus::fdo::Error::UnknownObject(s),
            other => zbus::fdo::Error::Failed(format!("{other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zbus::DBusError;

    #[test]
    fn faults_keep_their_names() {
        for c in FaultCode::ALL {
            let f = Fault::new(c, "x");
            let text = f.text.clone();
            let e = Error::from_fault(f);
            let name = e.name().to_string();
            let want = text.split(':').next().unwrap();
            assert_eq!(name, format!("org.pidvisor.Supervisor1.Error.{want}"));
            assert_eq!(e.description(), Some(text.as_str()));
        }
    }
}
