//! Issue 17: the config tokenizer (`warden_core::config::tokenize::split_args`) against the real
//! `sdssplitargs` of Redis 7.0.15. `redis-cli` splits each line it reads with that very function
//! and sends the arguments as one command; here it reads thousands of random lines over the
//! characters the quoting rules give meaning to (quotes, escapes, `\xHH`, every C blank, UTF-8)
//! and talks to a listener of this test that records each command. A line redis-cli refuses
//! ("Invalid argument(s)") sends nothing; `split_args` must refuse exactly those lines and split
//! every other one into the same arguments.
//!
//! Needs `redis-cli` on PATH. `WARDEN_SPLIT_SEED=<seed>` replays a run (the seed is printed).

use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::thread;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use warden_core::config::tokenize::split_args;
use warden_integration::resp::{read_value, Value};

/// Random lines per run.
const LINES: usize = 5_000;
/// The first argument of every line, so each recorded command names its line.
const MARK: &str = "LINE";

/// A random line over the characters that matter to the quoting rules (never `\n`, which ends
/// redis-cli's line, nor NUL, which ends its C string).
fn random_line(rng: &mut SmallRng) -> String {
    const PIECES: &[&str] = &[
        "a", "b", "x", "n", "r", "t", "0", "7", "f", "G", " ", " ", "\t", "\r", "\x0b", "\x0c",
        "\"", "'", "\\", "\\", "\\x", "\\x4", "\\x41", "\\xff", "\\'", "\\\"", "é", "€",
    ];
    (0..rng.gen_range(0..14))
        .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
        .collect()
}

/// The arguments of every command `redis-cli` sent over its connection, answering each `+OK`.
fn record(listener: TcpListener) -> Vec<Vec<Vec<u8>>> {
    let (conn, _) = listener.accept().expect("redis-cli's connection");
    let mut writer = conn.try_clone().unwrap();
    let mut reader = BufReader::new(conn);
    let mut commands = Vec::new();
    while let Ok(value) = read_value(&mut reader) {
        let Value::Array(items) = value else {
            panic!("redis-cli sent {value}")
        };
        let args = items
            .into_iter()
            .map(|item| match item {
                Value::Bulk(bytes) => bytes,
                other => panic!("redis-cli sent an argument {other}"),
            })
            .collect();
        commands.push(args);
        if writer.write_all(b"+OK\r\n").is_err() {
            break;
        }
    }
    commands
}

#[test]
fn split_args_splits_like_redis_sdssplitargs() {
    let seed = std::env::var("WARDEN_SPLIT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    println!("sdssplitargs: seed {seed}");
    let mut rng = SmallRng::seed_from_u64(seed);
    let lines: Vec<String> = (0..LINES)
        .map(|i| format!("{MARK} {i} {}", random_line(&mut rng)))
        .collect();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let recorder = thread::spawn(move || record(listener));
    let mut cli = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-cli on PATH");
    let mut stdin = cli.stdin.take().unwrap();
    for line in &lines {
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
    }
    drop(stdin);
    assert!(cli.wait().unwrap().success(), "redis-cli failed");
    let commands = recorder.join().expect("the recorder panicked");

    // redis-cli's own commands (e.g. COMMAND DOCS for its hints) are not lines of ours.
    let mut theirs: Vec<Option<Vec<String>>> = vec![None; LINES];
    for args in commands
        .iter()
        .filter(|a| a.first().map(Vec::as_slice) == Some(MARK.as_bytes()))
    {
        let index: usize = std::str::from_utf8(&args[1]).unwrap().parse().unwrap();
        let split = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        assert!(
            theirs[index].replace(split).is_none(),
            "line {index} sent twice"
        );
    }
    let refused = theirs.iter().filter(|t| t.is_none()).count();
    let mut differences = Vec::new();
    for (line, theirs) in lines.iter().zip(&theirs) {
        let ours = split_args(line);
        if ours != *theirs {
            differences.push(format!(
                "{line:?}: sdssplitargs {theirs:?}, split_args {ours:?}"
            ));
        }
    }
    println!(
        "sdssplitargs: {LINES} lines, {refused} refused by redis-cli, {} differences",
        differences.len()
    );
    assert!(
        refused > LINES / 20 && refused < LINES * 19 / 20,
        "the generator must make both kinds of line ({refused} of {LINES} refused)"
    );
    assert!(
        differences.is_empty(),
        "{} lines split differently (seed {seed}):\n{}",
        differences.len(),
        differences[..differences.len().min(20)].join("\n")
    );
}
