//! D-Bus errors: `org.pidvisor.Supervisor1.Error.<FAULT>`, carrying
//! Supervisor's fault names and texts, plus `AccessDenied`.

use crate::control::xmlrpc::Fault as XmlFault;
use crate::core::FaultCode;

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

const CODES: &[FaultCode] = &[
    FaultCode::UnknownMethod,
    FaultCode::IncorrectParameters,
    FaultCode::BadArguments,
    FaultCode::SignatureUnsupported,
    FaultCode::ShutdownState,
    FaultCode::BadName,
    FaultCode::BadSignal,
    FaultCode::NoFile,
    FaultCode::NotExecutable,
    FaultCode::Failed,
    FaultCode::AbnormalTermination,
    FaultCode::SpawnError,
    FaultCode::AlreadyStarted,
    FaultCode::NotRunning,
    FaultCode::Success,
    FaultCode::AlreadyAdded,
    FaultCode::StillRunning,
    FaultCode::CantReread,
];

impl Error {
    /// An XML-RPC fault as the D-Bus error of the same name; the message is
    /// Supervisor's fault string (`BAD_NAME: foo`).
    pub fn from_fault(f: XmlFault) -> Error {
        let code = CODES
            .iter()
            .copied()
            .find(|c| i64::from(c.code()) == f.code);
        let s = f.string;
        match code {
            Some(FaultCode::UnknownMethod) => Error::UNKNOWN_METHOD(s),
            Some(FaultCode::IncorrectParameters) => Error::INCORRECT_PARAMETERS(s),
            Some(FaultCode::BadArguments) => Error::BAD_ARGUMENTS(s),
            Some(FaultCode::SignatureUnsupported) => Error::SIGNATURE_UNSUPPORTED(s),
            Some(FaultCode::ShutdownState) => Error::SHUTDOWN_STATE(s),
            Some(FaultCode::BadName) => Error::BAD_NAME(s),
            Some(FaultCode::BadSignal) => Error::BAD_SIGNAL(s),
            Some(FaultCode::NoFile) => Error::NO_FILE(s),
            Some(FaultCode::NotExecutable) => Error::NOT_EXECUTABLE(s),
            Some(FaultCode::AbnormalTermination) => Error::ABNORMAL_TERMINATION(s),
            Some(FaultCode::SpawnError) => Error::SPAWN_ERROR(s),
            Some(FaultCode::AlreadyStarted) => Error::ALREADY_STARTED(s),
            Some(FaultCode::NotRunning) => Error::NOT_RUNNING(s),
            Some(FaultCode::Success) => Error::SUCCESS(s),
            Some(FaultCode::AlreadyAdded) => Error::ALREADY_ADDED(s),
            Some(FaultCode::StillRunning) => Error::STILL_RUNNING(s),
            Some(FaultCode::CantReread) => Error::CANT_REREAD(s),
            Some(FaultCode::Failed) | None => Error::FAILED(s),
        }
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
        for &c in CODES {
            let f = crate::control::rpc::fault(c, "x");
            let text = f.string.clone();
            let e = Error::from_fault(f);
            let name = e.name().to_string();
            let want = text.split(':').next().unwrap();
            assert_eq!(name, format!("org.pidvisor.Supervisor1.Error.{want}"));
            assert_eq!(e.description(), Some(text.as_str()));
        }
    }
}
