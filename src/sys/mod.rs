//! The only module allowed `unsafe`: thin, documented syscall wrappers.
#![allow(unsafe_code)]
