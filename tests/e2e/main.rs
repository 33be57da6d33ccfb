//! End-to-end tests: the real binary against the real simulator on 127.0.0.1:0.
//! One test binary (each tests/*.rs links separately, which is slow on 2 cores).

mod support;

mod audit;
mod config;
mod core;
mod hostile;
mod locations;
mod migration;
mod nightly;
mod ops;
mod partner;
mod predict;
mod python;
mod rate;
mod reliability;
mod soak;
mod storage;
