//! vitrine's command line entry point; all logic lives in the library and in `cli`.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    restore_broken_pipe_default();
    match cli::run(cli::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Rust ignores SIGPIPE, which turns `vitrine import ... | head` into a panic on the next
/// write; restoring the default makes the process end quietly like other command-line tools.
fn restore_broken_pipe_default() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
