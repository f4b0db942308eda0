//! Server sides of the connections sentinels open: simulated Redis instances (commands, pub/sub
//! fan-out, `CLIENT KILL`) and other sentinels' listeners (hello, `SENTINEL ...`; replies held
//! until the save they wait for is durable), plus the self-check's broken voter.

use super::{Ev, Persisted, World};
use crate::invariants::Hello;
use crate::link::{Dir, Endpoint, Segment, State};
use crate::node::{BrokenVoter, HeldReply};
use crate::redis::{self, Conn, Effect, HELLO_CHANNEL};
use crate::trace::Detail;
use bytes::Bytes;
use warden_core::Reply;

fn upper(word: &[u8]) -> String {
    String::from_utf8_lossy(word).to_ascii_uppercase()
}

impl World {
    pub(super) fn redis_serve(&mut self, key: u64, r: usize, commands: Vec<Vec<Bytes>>) {
        let Some(link) = self.links.get_mut(&key) else {
            return;
        };
        if !self.redis[r].up || self.redis[r].incarnation != link.target_incarnation {
            self.server_close(key, "Connection reset by peer");
            return;
        }
        let client = link.node;
        let mut subscribed = link.subscribed;
        let mut multi = link.multi.take();
        let mut replies = Vec::with_capacity(commands.len());
        for cmd in &commands {
            let mut effects = Vec::new();
            let conn = Conn {
                subscribed: &mut subscribed,
                multi: &mut multi,
            };
            let mut reply = redis::execute(&mut self.redis, r, conn, cmd, self.now, &mut effects);
            for effect in effects {
                match effect {
                    Effect::Publish { channel, payload } => {
                        self.observe_hello(client, &channel, &payload);
                        let count = self.publish(r, channel, payload);
                        if reply == Reply::Int(0) {
                            reply = Reply::Int(count);
                        }
                    }
                    Effect::Kill { pubsub } => {
                        let victims: Vec<u64> = self
                            .links_to(Endpoint::Redis(r))
                            .into_iter()
                            .filter(|k| {
                                *k != key
                                    && self.links.get(k).is_some_and(|l| {
                                        l.state == State::Up && l.subscribed == pubsub
                                    })
                            })
                            .collect();
                        for victim in &victims {
                            self.server_close(*victim, "Connection closed by CLIENT KILL");
                        }
                        if matches!(reply, Reply::Int(0)) {
                            reply = Reply::Int(victims.len() as i64);
                        }
                    }
                    Effect::RoleChanged(what) => {
                        self.trace
                            .log(Detail::Events, self.now, &format!("r{r}"), || what);
                    }
                }
            }
            replies.push(reply);
        }
        if let Some(link) = self.links.get_mut(&key) {
            link.subscribed = subscribed;
            link.multi = multi;
        }
        self.transmit(key, Dir::ToClient, Segment::Replies(replies));
    }

    /// Deliver a published message to every subscriber on instance `r`; returns their number.
    fn publish(&mut self, r: usize, channel: Bytes, payload: Bytes) -> i64 {
        if channel.as_ref() != HELLO_CHANNEL {
            return 0;
        }
        let incarnation = self.redis[r].incarnation;
        let subscribers: Vec<u64> = self
            .links_to(Endpoint::Redis(r))
            .into_iter()
            .filter(|k| {
                self.links.get(k).is_some_and(|l| {
                    l.state == State::Up && l.subscribed && l.target_incarnation == incarnation
                })
            })
            .collect();
        for &key in &subscribers {
            self.transmit(
                key,
                Dir::ToClient,
                Segment::Message {
                    channel: channel.clone(),
                    payload: payload.clone(),
                },
            );
            if self.net.duplicates(&mut self.rng) {
                let later = self.now + rand::Rng::gen_range(&mut self.rng, 50..3_000);
                let (channel, payload) = (channel.clone(), payload.clone());
                self.schedule(
                    later,
                    Ev::Redeliver {
                        key,
                        channel,
                        payload,
                    },
                );
            }
        }
        subscribers.len() as i64
    }

    pub(super) fn sentinel_serve(&mut self, key: u64, t: usize, commands: Vec<Vec<Bytes>>) {
        let Some(link) = self.links.get(&key) else {
            return;
        };
        let client = link.node;
        if self.nodes[t].core.is_none() || self.nodes[t].incarnation != link.target_incarnation {
            self.server_close(key, "Connection reset by peer");
            return;
        }
        self.contact(t, client);
        let mut replies = Vec::with_capacity(commands.len());
        for cmd in &commands {
            let reply = self.sentinel_exec(t, client, cmd);
            let vote = self.announced_vote(cmd, &reply);
            if let Some((master, leader, epoch)) = &vote {
                self.note_grant(t, cmd, master, leader, *epoch);
            }
            self.checker.executing(None);
            replies.push(HeldReply { reply, vote });
            if self.stop || self.nodes[t].core.is_none() {
                return;
            }
        }
        // The core says whether these replies may be written now, or only once a save is
        // durable; later replies on the same connection queue behind held ones.
        let barrier = self.nodes[t].core.as_ref().and_then(|c| c.reply_barrier());
        if barrier.is_none() && !self.nodes[t].held.contains_key(&key) {
            self.send_replies(t, key, replies);
            return;
        }
        self.stats.held_replies += replies.len() as u64;
        self.nodes[t]
            .held
            .entry(key)
            .or_default()
            .push_back((barrier.unwrap_or(0), replies));
        self.release_held(t);
    }

    /// Write every held reply of node `t` whose save is durable now, in order per connection.
    pub(super) fn release_held(&mut self, t: usize) {
        let Some(durable) = self.nodes[t].core.as_ref().map(|c| c.durable_generation()) else {
            self.nodes[t].held.clear();
            return;
        };
        let keys: Vec<u64> = self.nodes[t].held.keys().copied().collect();
        for key in keys {
            while let Some(queue) = self.nodes[t].held.get_mut(&key) {
                match queue.front() {
                    Some((generation, _)) if *generation <= durable => {
                        let Some((_, replies)) = queue.pop_front() else {
                            break;
                        };
                        self.send_replies(t, key, replies);
                    }
                    Some(_) => break,
                    None => {
                        self.nodes[t].held.remove(&key);
                        break;
                    }
                }
            }
        }
    }

    /// Node `t` writes `replies` on connection `key`: a vote they announce must already be on
    /// its disk.
    fn send_replies(&mut self, t: usize, key: u64, replies: Vec<HeldReply>) {
        if !self.links.contains_key(&key) {
            return;
        }
        let mut out = Vec::with_capacity(replies.len());
        for HeldReply { reply, vote } in replies {
            if let Some((master, leader, epoch)) = vote {
                let disk = self.nodes[t].disk.lock();
                let view = Persisted {
                    cfg: &disk.saved,
                    index: &self.master_index,
                };
                self.checker
                    .vote_reply(self.now, t, &master, &leader, epoch, &view);
            }
            out.push(reply);
        }
        self.transmit(key, Dir::ToClient, Segment::Replies(out));
    }

    /// A reply of `t` names (leader, epoch) as its vote for `master`: if that is what `cmd`
    /// asked for and not what `t` answered before, `t` just granted it.
    fn note_grant(&mut self, t: usize, cmd: &[Bytes], master: &str, leader: &str, epoch: u64) {
        let asked_epoch: Option<u64> = std::str::from_utf8(&cmd[4])
            .ok()
            .and_then(|e| e.parse().ok());
        if asked_epoch != Some(epoch)
            || !leader.eq_ignore_ascii_case(&String::from_utf8_lossy(&cmd[5]))
        {
            return;
        }
        let known = &mut self.nodes[t].known_votes;
        let vote = (leader.to_ascii_lowercase(), epoch);
        if known.get(master) == Some(&vote) {
            return;
        }
        known.insert(master.to_string(), vote);
        self.checker.vote_granted(t, master, leader, epoch);
    }

    /// The master a `SENTINEL is-master-down-by-addr <ip> <port> ...` is about (by the
    /// deployment's addresses: every instance belongs to one shard).
    fn asked_master(&self, cmd: &[Bytes]) -> Option<String> {
        if cmd.len() != 6
            || upper(&cmd[0]) != "SENTINEL"
            || upper(&cmd[1]) != "IS-MASTER-DOWN-BY-ADDR"
        {
            return None;
        }
        let host = self
            .ips
            .iter()
            .position(|ip| ip.as_bytes() == cmd[2].as_ref())?;
        let port: u16 = std::str::from_utf8(&cmd[3]).ok()?.parse().ok()?;
        let r = *self.addr_index.get(&(host, port))?;
        Some(self.sc.layout.shard_of(r).name.clone())
    }

    /// The vote an answer to `is-master-down-by-addr` announces: (master, leader, epoch).
    fn announced_vote(&self, cmd: &[Bytes], reply: &Reply) -> Option<(String, String, u64)> {
        let master = self.asked_master(cmd)?;
        let Reply::Array(items) = reply else {
            return None;
        };
        let [_, leader, Reply::Int(epoch)] = items.as_slice() else {
            return None;
        };
        let leader = leader.as_str()?.to_string();
        (leader != "*").then(|| (master, leader, (*epoch).max(0) as u64))
    }

    fn sentinel_exec(&mut self, t: usize, client: usize, cmd: &[Bytes]) -> Reply {
        let Some(name) = cmd.first().map(|w| upper(w)) else {
            return Reply::err("ERR empty command");
        };
        match name.as_str() {
            "PING" => Reply::Status("PONG".into()),
            "CLIENT" => Reply::ok(),
            "AUTH" => Reply::err(
                "ERR AUTH <password> called without any password configured for the default user. \
                 Are you sure your configuration is correct?",
            ),
            "PUBLISH" if cmd.len() == 3 => {
                if cmd[1].as_ref() != HELLO_CHANNEL {
                    return Reply::Int(0);
                }
                self.observe_hello(client, &cmd[1], &cmd[2]);
                let payload = cmd[2].clone();
                self.step(t, |c, now| c.receive_hello(&payload, now));
                Reply::Int(1)
            }
            "SENTINEL" => {
                if let Some(master) = self.asked_master(cmd) {
                    let epoch = std::str::from_utf8(&cmd[4])
                        .ok()
                        .and_then(|e| e.parse().ok());
                    let candidate = String::from_utf8_lossy(&cmd[5]).into_owned();
                    if let (Some(epoch), false) = (epoch, candidate == "*") {
                        self.checker
                            .executing(Some((t, &master, &candidate, epoch)));
                    }
                }
                if let Some(reply) = self.forged_vote(t, cmd) {
                    return reply;
                }
                let args = cmd[1..].to_vec();
                self.step(t, |c, now| c.command(&args, now))
                    .unwrap_or_else(|| Reply::err("ERR sentinel process gone"))
            }
            "INFO" => self.step(t, |c, now| c.info_section(now)).map_or_else(
                || Reply::err("ERR sentinel process gone"),
                |s| Reply::bulk(format!("# Sentinel\r\n{s}\r\n")),
            ),
            _ => Reply::err(format!(
                "ERR unknown command '{}'",
                String::from_utf8_lossy(&cmd[0])
            )),
        }
    }

    /// Hand the master configuration a sentinel advertises in a hello it sends to the checker.
    fn observe_hello(&mut self, sender: usize, channel: &[u8], payload: &[u8]) {
        if channel != HELLO_CHANNEL {
            return;
        }
        let text = String::from_utf8_lossy(payload);
        match Hello::parse(&text) {
            Some(hello) => {
                let disk = self.nodes[sender].disk.lock();
                let view = Persisted {
                    cfg: &disk.saved,
                    index: &self.master_index,
                };
                self.checker.hello(self.now, sender, &hello, &view);
            }
            None => {
                self.checker
                    .report(self.now, Some(sender), "malformed-hello", text.into_owned())
            }
        }
    }

    /// The self-check's broken participant: answers every vote request with a vote for the
    /// requester (logging it or not, see [`BrokenVoter`]), so it votes more than once per epoch
    /// whenever two candidates ask.
    fn forged_vote(&mut self, t: usize, cmd: &[Bytes]) -> Option<Reply> {
        let broken = self.nodes[t].broken;
        if broken == BrokenVoter::No
            || cmd.len() != 6
            || upper(&cmd[1]) != "IS-MASTER-DOWN-BY-ADDR"
            || cmd[5].as_ref() == b"*"
        {
            return None;
        }
        let epoch: u64 = std::str::from_utf8(&cmd[4]).ok()?.parse().ok()?;
        let runid = String::from_utf8_lossy(&cmd[5]).into_owned();
        let message = format!("{runid} {epoch}");
        self.trace
            .log(Detail::Events, self.now, &format!("s{t}"), || {
                format!("+vote-for-leader {message} (forged)")
            });
        if broken == BrokenVoter::Logged {
            let disk = crate::invariants::Epochs(u64::MAX);
            self.checker
                .event(self.now, t, "+vote-for-leader", &message, &disk);
        }
        Some(Reply::Array(vec![
            Reply::Int(1),
            Reply::bulk(&runid),
            Reply::Int(epoch as i64),
        ]))
    }
}
