use std::process::ExitCode;

use clap::Parser;

use vapr::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    vapr::cli::init_logging(cli.verbose, cli.quiet);
    match cli.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line, the whole cause chain: `vapr: what failed: why`.
            eprintln!("vapr: {err:#}");
            ExitCode::from(1)
        }
    }
}
