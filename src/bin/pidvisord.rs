//! pidvisord: the daemon. All the work is in the library (`pidvisor::daemon`).

fn main() {
    std::process::exit(pidvisor::daemon::main(std::env::args_os().collect()));
}
