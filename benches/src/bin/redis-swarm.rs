//! `redis-swarm --control PORT --pairs MASTER:REPLICA,...`: simulated Redis shards on loopback
//! (see `warden_benches::swarm`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (control, pairs) = match warden_benches::swarm::parse_args(&args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = warden_benches::machine::raise_open_files_limit() {
        eprintln!("cannot raise the open files limit: {e}");
    }
    match warden_benches::swarm::server::run(control, &pairs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("redis-swarm: {e}");
            ExitCode::FAILURE
        }
    }
}
