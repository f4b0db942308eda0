//! The ports the driver's helpers report through: where link and script tasks deliver inputs,
//! where events are published, what executes VIP decisions. Kept apart from the driver, so the
//! link and script tasks depend on these traits, not on the driver that owns them.

use crate::app::App;
use warden_core::{Input, Millis};

/// Where link and script tasks deliver their inputs (the [`App`] in production).
pub trait InputSink: Send + Sync {
    /// Feed one input to the core.
    fn input(&self, input: Input);
}

impl InputSink for App {
    fn input(&self, input: Input) {
        App::input(self, input);
    }
}

/// Publishes Sentinel events to pub/sub subscribers of the server.
pub trait EventPublisher: Send + Sync {
    /// Deliver `payload` to the subscribers of `channel`.
    fn publish(&self, channel: &str, payload: &str);
}

impl EventPublisher for warden_server::PubSubHub {
    fn publish(&self, channel: &str, payload: &str) {
        warden_server::PubSubHub::publish(self, channel, payload);
    }
}

/// Puts virtual IPs on this host and takes them off.
pub trait VipExecutor: Send {
    /// Claim the VIP of `master` for `epoch`, with a lease that ends at `until` (the core's
    /// clock, [`crate::app::now_ms`]; `None`: no end).
    fn claim(&mut self, master: &str, epoch: u64, until: Option<Millis>);
    /// The lease of `master`'s held VIP now ends at `until` (`None`: no end).
    fn lease(&mut self, master: &str, until: Option<Millis>);
    /// Release the VIP of `master` for `epoch`; `fence` also cuts clients that came through it.
    fn release(&mut self, master: &str, epoch: u64, fence: bool);
}
