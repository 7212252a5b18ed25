//! Core tests on a virtual clock: `harness` drives the core like the reactor
//! would; `scenarios` are timelines; `prop` throws random inputs at it.

mod harness;
mod prop;
mod scenarios;
