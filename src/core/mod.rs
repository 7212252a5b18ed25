//! The supervisor itself: a pure state machine (no I/O, no clock).
