//! `ac`: see the library for what it does; this is only the process's entry point.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(ac::main())
}
