//! Core tests on a virtual clock: `harness` drives the core like the reactor
//! would; `scenarios` are timelines (`notify`: those of issue 17); `prop` throws random inputs at it.

mod harness;
mod notify;
mod prop;
mod scenarios;
