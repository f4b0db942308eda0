//! The server's only way into the sentinel: what a `SENTINEL` command, a peer's hello, `INFO`'s
//! sentinel section and `ROLE` need, and when a reply that reveals a change may be written.

use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use warden_core::Reply;

/// A future the server awaits without knowing its type.
pub type Wait<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// The sentinel behind the server (the binary's `App` around the core; a stub in tests).
pub trait SentinelPort: Send + Sync + 'static {
    /// `SENTINEL <args...>` (`args` excludes the word SENTINEL; the subcommand and its arity
    /// are already checked): the reply, and the save generation that must be durable before
    /// the reply is written, if any.
    fn sentinel_command(&self, args: &[Bytes]) -> (Reply, Option<u64>);

    /// A peer's `PUBLISH __sentinel__:hello <payload>` to this sentinel.
    fn receive_hello(&self, payload: &[u8]);

    /// The body of `INFO`'s `# Sentinel` section.
    fn info_sentinel(&self) -> String;

    /// The names of the monitored masters (`ROLE`).
    fn master_names(&self) -> Vec<String>;

    /// Resolves once save generation `generation` is durable.
    fn durable(&self, generation: u64) -> Wait<'_>;
}
