//! The fuzz soak (issue 17): every parser that reads untrusted bytes — client requests, the
//! replies and messages of instances and peers, `sentinel.conf`, the config journal, ACL rules,
//! hellos, INFO, the kernel's netlink notices and ARP messages — fed for as long as asked with
//! mutations of real traffic (`fuzz-corpus/`, captured from redis-server 7.0.15 and from the
//! kernel) and with random inputs over each format's alphabet. Each input must not panic, and
//! what the property tests state must hold on it: the request parser and the link codec give the
//! same outcome whatever the reads the bytes arrive in, the loader's errors name a line of its
//! input, a replay applies whole records only, an accepted ACL rule set is described by rules
//! that rebuild it, a datagram of the kernel's address and link notices cut short decodes to a
//! prefix of its events, an ARP message's sender depends on its header only.
//!
//! ```sh
//! WARDEN_FUZZ_SECONDS=1800 cargo test --release -p warden --bin warden fuzz_soak -- --ignored --nocapture
//! WARDEN_FUZZ_SEED=<seed> ...   # replay a run (the seed is printed first)
//! ```
//! CI runs it for 60 s (scripts/test.sh). A failure prints the seed, the target and the input.

use crate::journal;
use crate::links::codec::{decode_frame, FrameScanner};
use crate::testkit::{AnyEnv as Env, TempDir};
use bytes::{Bytes, BytesMut};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};
use warden_core::config::{self, SentinelConfig};
use warden_core::sentinel::{hello::Hello, info};
use warden_server::acl::User;
use warden_server::request::{self, Parsed};

/// A parser under test.
#[derive(Clone, Copy, Debug)]
enum Target {
    Request,
    Reply,
    Config,
    Journal,
    Acl,
    Hello,
    Info,
    Netlink,
    Arp,
}

const TARGETS: [Target; 9] = [
    Target::Request,
    Target::Reply,
    Target::Config,
    Target::Journal,
    Target::Acl,
    Target::Hello,
    Target::Info,
    Target::Netlink,
    Target::Arp,
];

/// The seeds of one target, and the bytes its format gives meaning to.
fn corpus(target: Target) -> (Vec<&'static [u8]>, &'static [u8]) {
    macro_rules! seed {
        ($name:literal) => {
            include_bytes!(concat!("../fuzz-corpus/", $name)).as_slice()
        };
    }
    let replies = vec![
        seed!("reply-info-master.resp"),
        seed!("reply-info-replica.resp"),
        seed!("reply-role-hello3.resp"),
        seed!("reply-pubsub.resp"),
        seed!("reply-errors.resp"),
    ];
    match target {
        Target::Request => (
            vec![seed!("request-sentinel.resp")],
            b"*$\r\n0123456789 \"'\\x",
        ),
        Target::Reply => (replies, b"*$%~>+-:_#,=!|(\r\n0123456789-"),
        Target::Config => (
            vec![seed!("config-harness.conf")],
            b"sentinel monitor \"'\\x\n\r\t0123456789.-",
        ),
        Target::Journal => (vec![], b"record 0123456789abcdef\nsentinel "),
        Target::Acl => (vec![seed!("acl.txt")], b"~%&+-@|()<>#!*? RWon"),
        Target::Hello => (vec![seed!("hello.txt")], b",.:0123456789abcdef"),
        Target::Info => (
            vec![
                seed!("reply-info-master.resp"),
                seed!("reply-info-replica.resp"),
            ],
            b":,=\r\nslave0ip=port=role",
        ),
        Target::Arp => (
            vec![
                seed!("arp-request.bin"),
                seed!("arp-garp-request.bin"),
                seed!("arp-garp-reply.bin"),
            ],
            b"\x00\x01\x02\x04\x06\x08\xff",
        ),
        Target::Netlink => (
            vec![seed!("netlink-notices.bin")],
            b"\x00\x01\x02\x04\x08\x10\x14\x18\x20\xff",
        ),
    }
}

/// A mutation of `seed`: bytes flipped, inserted (from `alphabet`), deleted, duplicated,
/// numbers replaced by extreme ones, or a cut.
fn mutate(rng: &mut SmallRng, seed: &[u8], alphabet: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..rng.gen_range(1..8) {
        let at = rng.gen_range(0..=out.len());
        match rng.gen_range(0..7) {
            0 if at < out.len() => out[at] ^= 1 << rng.gen_range(0..8),
            1 => out.insert(at, alphabet[rng.gen_range(0..alphabet.len())]),
            2 if at < out.len() => {
                let end = rng.gen_range(at..=out.len().min(at + 16));
                out.drain(at..end);
            }
            3 if at < out.len() => {
                let end = rng.gen_range(at..=out.len().min(at + 32));
                let copy = out[at..end].to_vec();
                out.splice(at..at, copy);
            }
            4 => {
                let number = [
                    "-1",
                    "0",
                    "4294967296",
                    "99999999999999999999",
                    "-9223372036854775808",
                ][rng.gen_range(0..5)];
                out.splice(at..at, number.bytes());
            }
            5 => out.truncate(at),
            _ => out.insert(at, rng.gen()),
        }
    }
    out
}

/// Random bytes, mostly from `alphabet`.
fn random(rng: &mut SmallRng, alphabet: &[u8]) -> Vec<u8> {
    (0..rng.gen_range(0..300))
        .map(|_| {
            if rng.gen_bool(0.7) {
                alphabet[rng.gen_range(0..alphabet.len())]
            } else {
                rng.gen()
            }
        })
        .collect()
}

/// Requests fed in one read and in two (cut at `cut`): the commands, or the first error.
fn requests(input: &[u8], cut: usize, authenticated: bool) -> Result<Vec<Vec<Bytes>>, String> {
    let (mut buf, mut args, mut out) = (BytesMut::new(), Vec::new(), Vec::new());
    for piece in [&input[..cut], &input[cut..]] {
        buf.extend_from_slice(piece);
        while !buf.is_empty() {
            let before = buf.len();
            match request::parse(&mut buf, authenticated, &mut args).map_err(|e| e.0)? {
                Parsed::Command if buf.len() < before => out.push(args.clone()),
                Parsed::Command => return Err("a command consumed nothing".into()),
                Parsed::Incomplete { .. } => break,
            }
        }
    }
    Ok(out)
}

/// Reply frames fed in one read and in two: each frame's length and whether it decodes, up to
/// the scanner's first error. (Decoded values are not compared: the decoder keeps RESP3 maps and
/// sets in hash tables, so their order — and which of two equal keys wins — varies from one
/// decode of the same bytes to the next.)
fn replies(input: &[u8], cut: usize) -> Vec<Result<(usize, bool), String>> {
    let (mut buf, mut scanner, mut out) = (BytesMut::new(), FrameScanner::default(), Vec::new());
    for piece in [&input[..cut], &input[cut..]] {
        buf.extend_from_slice(piece);
        loop {
            match scanner.scan(&buf) {
                Ok(Some(len)) => {
                    let decoded = decode_frame(&buf.split_to(len).freeze()).is_ok();
                    out.push(Ok((len, decoded)));
                    scanner = FrameScanner::default();
                }
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
    }
    out
}

/// Where two outcomes of the same bytes (read split at `cut`, and in one read) part.
fn first_difference<T: std::fmt::Debug + PartialEq>(
    cut: usize,
    split: &[T],
    whole: &[T],
) -> String {
    let at = split.iter().zip(whole).take_while(|(a, b)| a == b).count();
    format!(
        "split at {cut}: outcome {at} is {:?}, in one read {:?} ({} vs {} outcomes)",
        split.get(at),
        whole.get(at),
        split.len(),
        whole.len()
    )
}

/// Runs `input` through `target`'s parser; a broken property is an `Err`.
fn check(target: Target, input: &[u8], rng: &mut SmallRng) -> Result<(), String> {
    let cut = rng.gen_range(0..=input.len());
    match target {
        Target::Request => {
            let authenticated = rng.gen();
            let (whole, split) = (
                requests(input, input.len(), authenticated),
                requests(input, cut, authenticated),
            );
            if whole != split {
                return Err(format!("split at {cut}: {split:?}, in one read: {whole:?}"));
            }
        }
        Target::Reply => {
            let (whole, split) = (replies(input, input.len()), replies(input, cut));
            if whole != split {
                return Err(first_difference(cut, &split, &whole));
            }
        }
        Target::Config => {
            let text = String::from_utf8_lossy(input);
            if let Err(e) = config::parse(&text, &Env) {
                if e.line == 0 || e.line > text.split('\n').count() {
                    return Err(format!(
                        "error at line {} of {}",
                        e.line,
                        text.lines().count()
                    ));
                }
            }
        }
        Target::Journal => {
            let dir = TempDir::new("fuzz");
            let path = dir.0.join("sentinel.conf");
            let mut bytes = format!(
                "# Warden config journal, base {}\n",
                config::sha256_hex(b"")
            )
            .into_bytes();
            bytes.extend_from_slice(input);
            std::fs::write(journal::path_for(&path), bytes).map_err(|e| e.to_string())?;
            let mut cfg = SentinelConfig::new();
            let _ = journal::replay(&path, "", None, &mut cfg, &Env);
        }
        Target::Acl => {
            let text = String::from_utf8_lossy(input);
            let mut user = User::new("u");
            if user.apply_rules(text.split_ascii_whitespace()).is_ok() {
                let line = user.describe();
                let mut again = User::new("u");
                let rebuilt = again.apply_rules(line.split(' ').skip(2));
                if rebuilt.is_err() || again.describe() != line {
                    return Err(format!(
                        "{line} rebuilds as {:?} {}",
                        rebuilt,
                        again.describe()
                    ));
                }
            }
        }
        Target::Hello => {
            let _ = Hello::parse(input);
        }
        Target::Info => {
            let parsed = info::parse(&String::from_utf8_lossy(input));
            if parsed.replicas.len() > info::MAX_REPLICAS_PER_INFO {
                return Err("unbounded replicas".into());
            }
        }
        Target::Netlink => {
            let (whole, cut_short) = (
                warden_vip::decode_notices(input),
                warden_vip::decode_notices(&input[..cut]),
            );
            if whole.len() > input.len() / 16 {
                return Err(format!("{} events from {} bytes", whole.len(), input.len()));
            }
            if !whole.starts_with(&cut_short) {
                return Err(format!("cut at {cut}: {cut_short:?}, whole: {whole:?}"));
            }
        }
        Target::Arp => {
            let sender = warden_vip::frames::arp_sender(input);
            if sender.is_some() && sender != warden_vip::frames::arp_sender(&input[..28]) {
                return Err(format!("{sender:?} depends on the bytes after the header"));
            }
        }
    }
    Ok(())
}

/// Seconds to run, from `WARDEN_FUZZ_SECONDS` (default 60).
fn seconds() -> u64 {
    std::env::var("WARDEN_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

#[test]
#[ignore = "a soak: run with --ignored (scripts/test.sh runs it for 60 s)"]
fn fuzz_soak() {
    let seed = std::env::var("WARDEN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    println!("fuzz soak: seed {seed}, {} s", seconds());
    let mut rng = SmallRng::seed_from_u64(seed);
    let corpora: Vec<_> = TARGETS.iter().map(|&t| (t, corpus(t))).collect();
    let deadline = Instant::now() + Duration::from_secs(seconds());
    let mut runs = [0u64; TARGETS.len()];
    let started = Instant::now();
    while Instant::now() < deadline {
        for _ in 0..64 {
            let which = rng.gen_range(0..corpora.len());
            let (target, (seeds, alphabet)) = &corpora[which];
            let input = if !seeds.is_empty() && rng.gen_bool(0.6) {
                let seed = seeds[rng.gen_range(0..seeds.len())];
                mutate(&mut rng, seed, alphabet)
            } else {
                random(&mut rng, alphabet)
            };
            let mut check_rng = SmallRng::seed_from_u64(rng.gen());
            let outcome = catch_unwind(AssertUnwindSafe(|| check(*target, &input, &mut check_rng)));
            let failure = match outcome {
                Ok(Ok(())) => None,
                Ok(Err(broken)) => Some(broken),
                Err(_) => Some("panicked".to_string()),
            };
            if let Some(failure) = failure {
                panic!(
                    "fuzz soak seed {seed}: {target:?} after {} inputs: {failure}\ninput: {:?}",
                    runs.iter().sum::<u64>(),
                    String::from_utf8_lossy(&input)
                );
            }
            runs[which] += 1;
        }
    }
    let total: u64 = runs.iter().sum();
    let per_second = total as f64 / started.elapsed().as_secs_f64();
    println!("fuzz soak: {total} inputs ({per_second:.0}/s), 0 failures");
    for (t, n) in TARGETS.iter().zip(runs) {
        println!("  {t:?}: {n}");
    }
}
