//! `SUBSCRIBE`, `PSUBSCRIBE`, `UNSUBSCRIBE`, `PUNSUBSCRIBE`: one confirmation per channel,
//! `[kind, channel, total subscriptions]` (a push frame in RESP3).

use super::Outcome;
use crate::resp;
use crate::session::Ctx;
use crate::table::Spec;
use bytes::{Bytes, BytesMut};
use warden_core::Reply;

fn confirm(ctx: &mut Ctx, kind: &str, channel: Option<&Bytes>) {
    if !ctx.session.replies_on() {
        return;
    }
    let total = (ctx.session.channels.len() + ctx.session.patterns.len()) as i64;
    let out: &mut BytesMut = ctx.out;
    resp::put_array_header(out, ctx.session.proto, 3, true);
    resp::put_bulk(out, kind.as_bytes());
    match channel {
        Some(channel) => resp::put_bulk(out, channel),
        None => resp::encode(out, ctx.session.proto, &Reply::Null),
    }
    resp::put_header(out, b':', total);
}

/// Run one of the four commands (each writes its own confirmations).
pub fn run(ctx: &mut Ctx, spec: &'static Spec, args: &[Bytes]) -> Outcome {
    subscribe(ctx, spec, args);
    Outcome::Written
}

fn subscribe(ctx: &mut Ctx, spec: &Spec, args: &[Bytes]) {
    let hub = &ctx.shared.hub;
    let id = ctx.session.info.id;
    match spec.name {
        "subscribe" => {
            for channel in &args[1..] {
                if ctx.session.channels.insert(channel.clone()) {
                    hub.subscribe(channel, &ctx.session.subscriber);
                }
                confirm(ctx, "subscribe", Some(channel));
            }
        }
        "psubscribe" => {
            for pattern in &args[1..] {
                if ctx.session.patterns.insert(pattern.clone()) {
                    hub.psubscribe(pattern, &ctx.session.subscriber);
                }
                confirm(ctx, "psubscribe", Some(pattern));
            }
        }
        "unsubscribe" => {
            let targets: Vec<Bytes> = if args.len() > 1 {
                args[1..].to_vec()
            } else {
                ctx.session.channels.iter().cloned().collect()
            };
            if targets.is_empty() {
                confirm(ctx, "unsubscribe", None);
            }
            for channel in &targets {
                if ctx.session.channels.remove(channel) {
                    hub.unsubscribe(channel, id);
                }
                confirm(ctx, "unsubscribe", Some(channel));
            }
        }
        _ => {
            let targets: Vec<Bytes> = if args.len() > 1 {
                args[1..].to_vec()
            } else {
                ctx.session.patterns.iter().cloned().collect()
            };
            if targets.is_empty() {
                confirm(ctx, "punsubscribe", None);
            }
            for pattern in &targets {
                if ctx.session.patterns.remove(pattern) {
                    hub.punsubscribe(pattern, id);
                }
                confirm(ctx, "punsubscribe", Some(pattern));
            }
        }
    }
    ctx.session.sync_sub_counts();
}
