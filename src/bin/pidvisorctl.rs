//! pidvisorctl: supervisorctl-compatible control client (see `pidvisor::ctl`).

fn main() {
    std::process::exit(pidvisor::ctl::run(std::env::args_os().collect()));
}
