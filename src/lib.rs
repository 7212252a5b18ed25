//! pidvisor: a Linux service manager that is a drop-in successor to Supervisor.
//!
//! The crate is one library with two thin binaries (`pidvisord`, `pidvisorctl`).
//! `core` decides everything Supervisor decides and does no I/O; `reactor` does
//! the I/O; `sys` is the only module allowed `unsafe`.
#![deny(unsafe_code)]

pub mod api;
pub mod cgroup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod core;
pub mod ctl;
pub mod daemon;
pub mod dbus;
pub mod http;
pub mod logs;
pub mod reactor;
pub mod spawn;
pub mod sys;
pub mod web;
