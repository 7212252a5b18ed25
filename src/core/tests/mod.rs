//! Core tests on a virtual clock: `harness` drives the core like the reactor
//! would; `scenarios` are timelines (`notify`: those of issue 17,
//! `issue18`: dependencies, the restart policy and `exit_on_fatal`); `prop`
//! throws random inputs at it.

mod harness;
mod issue18;
mod notify;
mod prop;
mod scenarios;
