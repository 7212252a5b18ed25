//! Core tests on a virtual clock: `harness` drives the core like the reactor
//! would; `scenarios` are timelines; `prop` throws random inputs at it;
//! `issue18` are the timelines of dependencies, the restart policy and
//! `exit_on_fatal`.

mod harness;
mod issue18;
mod prop;
mod scenarios;
