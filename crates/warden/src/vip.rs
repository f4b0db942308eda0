//! The kernel side of the VIP: one [`VipManager`] per master with a configured VIP, driven by
//! the core's `VipClaim` / `VipRelease` actions, plus the host address watcher that tells the
//! core which master addresses are local.

use crate::app::App;
use crate::metrics::Metrics;
use crate::ports::{EventPublisher, VipExecutor};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use warden_core::config::{VipConfig, VipMode};
use warden_core::{Input, Millis};
use warden_vip::{LinuxBackend, VipAddr, VipBackend, VipError, VipManager, VipReport, VipSettings};

/// How often the host's addresses are re-read.
const ADDR_POLL: Duration = Duration::from_secs(1);
/// How long start-up waits for each VIP's first reconciliation (stray copy removed, or a
/// predecessor's leased copy adopted).
const RECONCILE_WAIT: Duration = Duration::from_secs(2);

struct Managed {
    config: VipConfig,
    manager: VipManager,
}

struct Inner {
    backend: Option<Arc<dyn VipBackend>>,
    managers: HashMap<String, Managed>,
}

/// Shared handle: the driver executes actions through it, `main` shuts it down.
#[derive(Clone)]
pub struct KernelVip {
    app: Arc<App>,
    events: Arc<dyn EventPublisher + Send + Sync>,
    metrics: Arc<Metrics>,
    inner: Arc<Mutex<Inner>>,
    observed: mpsc::UnboundedSender<String>,
}

fn settings(config: &VipConfig) -> Result<VipSettings, VipError> {
    Ok(VipSettings {
        vip: VipAddr::new(config.addr, config.prefix, &config.interface)?,
        garp_count: config.garp_count,
        garp_interval: Duration::from_millis(config.garp_interval_ms),
        garp_repeat_delay: Duration::from_millis(config.garp_repeat_delay_ms),
        garp_refresh: Duration::from_millis(config.garp_refresh_ms),
        reply_form: true,
        routed: config.mode == VipMode::Routed,
    })
}

/// A master's VIP.
struct ConfiguredVip {
    master: String,
    config: VipConfig,
}

/// The configured VIPs of every master (one configuration snapshot, at start-up).
fn configured(app: &App) -> Vec<ConfiguredVip> {
    app.with_core(|core, _| {
        core.config()
            .masters
            .into_iter()
            .filter_map(|m| {
                Some(ConfiguredVip {
                    config: m.vip?,
                    master: m.name,
                })
            })
            .collect()
    })
}

impl KernelVip {
    /// Set up VIP handling. When VIPs are configured this checks CAP_NET_ADMIN/CAP_NET_RAW and
    /// opens the netlink/packet sockets (an error says exactly what is missing), starts a
    /// manager per VIP and waits until each has looked at its interface: a stray copy (no
    /// lifetime) is removed before anything is answered; a predecessor's leased copy is
    /// adopted and left to the core's decision (`Input::VipFound`). The host's addresses reach
    /// the core first, so it can tell at once whether an adopted copy's master is local.
    pub async fn start(
        app: Arc<App>,
        events: Arc<dyn EventPublisher + Send + Sync>,
        metrics: Arc<Metrics>,
    ) -> Result<KernelVip, VipError> {
        let (observed, mut first_reports) = mpsc::unbounded_channel();
        let vip = KernelVip {
            app: app.clone(),
            events,
            metrics,
            inner: Arc::new(Mutex::new(Inner {
                backend: None,
                managers: HashMap::new(),
            })),
            observed,
        };
        let mut last = Vec::new();
        feed_local_addrs(&app, &mut last);
        let wanted = configured(&app);
        if !wanted.is_empty() {
            warden_vip::check_capabilities()?;
            vip.backend()?;
            for v in &wanted {
                vip.ensure_manager(&v.master, &v.config)?;
            }
            let mut pending = wanted.len();
            let deadline = tokio::time::Instant::now() + RECONCILE_WAIT;
            while pending > 0 {
                match tokio::time::timeout_at(deadline, first_reports.recv()).await {
                    Ok(Some(_)) => pending -= 1,
                    _ => break,
                }
            }
        }
        let watcher = app.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(ADDR_POLL).await;
                feed_local_addrs(&watcher, &mut last);
            }
        });
        Ok(vip)
    }

    fn backend(&self) -> Result<Arc<dyn VipBackend>, VipError> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(backend) = &inner.backend {
            return Ok(backend.clone());
        }
        let backend: Arc<dyn VipBackend> = Arc::new(LinuxBackend::new()?);
        inner.backend = Some(backend.clone());
        Ok(backend)
    }

    /// Make sure a manager runs for `master` with `config` (restarting it if the VIP changed).
    fn ensure_manager(&self, master: &str, config: &VipConfig) -> Result<(), VipError> {
        if let Some(m) = self
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .managers
            .get(master)
        {
            if &m.config == config {
                return Ok(());
            }
        }
        let backend = self.backend()?;
        let app = self.app.clone();
        let events = self.events.clone();
        let metrics = self.metrics.clone();
        let name = master.to_string();
        let first = self.observed.clone();
        let addr = config.addr_spec();
        let mut reported_first = false;
        let manager = VipManager::start(backend, settings(config)?, move |report| match report {
            VipReport::Observed { present } => {
                if !reported_first {
                    reported_first = true;
                    let _ = first.send(name.clone());
                }
                app.input(Input::VipObserved {
                    master: name.clone(),
                    present,
                });
            }
            VipReport::Reasserted => {
                tracing::warn!("+vip-reasserted {name} {addr}");
                events.publish("+vip-reasserted", &format!("{name} {addr}"));
            }
            VipReport::Conflict { mac } => {
                let mac: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
                let message = format!("{name} {addr} {}", mac.join(":"));
                tracing::warn!("-vip-conflict {message}");
                events.publish("-vip-conflict", &message);
            }
            VipReport::Announced { frames } => metrics.observe_announcements(&name, frames),
            VipReport::Found { lifetime } => {
                tracing::warn!(
                    "Found VIP {addr} of master {name} on the interface with {} s of kernel \
                     lifetime left: kept until the peers confirm this node holds it",
                    lifetime.as_secs()
                );
                app.input(Input::VipFound {
                    master: name.clone(),
                    lifetime_ms: u64::try_from(lifetime.as_millis()).unwrap_or(u64::MAX),
                });
            }
            VipReport::Route { present } => {
                tracing::info!(
                    "Route to VIP {addr} of master {name} from another node {}",
                    if present { "installed" } else { "withdrawn" }
                );
                app.input(Input::VipRoute {
                    master: name.clone(),
                    present,
                });
            }
            VipReport::RemovedStray => {
                tracing::warn!("Removed VIP {addr} of master {name}: this node does not hold it");
            }
            other => tracing::warn!("VIP {addr} of master {name}: {other:?}"),
        })?;
        let old = self
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .managers
            .insert(
                master.to_string(),
                Managed {
                    config: config.clone(),
                    manager,
                },
            );
        if let Some(old) = old {
            tokio::spawn(old.manager.shutdown());
        }
        Ok(())
    }

    /// An orderly stop: the VIPs the core says must go (all of them with `release`) are
    /// removed, and waited for; the others are left on their interfaces with their kernel
    /// lifetime, for a restarted Warden to adopt (the kernel removes them when the lease runs
    /// out if none does).
    pub async fn shutdown(&self, release: bool) {
        let (actions, kept) = self.app.with_core(|core, _| core.shutdown_vips(release));
        for action in actions {
            if let warden_core::Action::Event(e) = action {
                tracing::warn!("{} {}", e.kind, e.message);
                self.events.publish(&e.kind, &e.message);
            }
        }
        let managers: Vec<(String, Managed)> = self
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .managers
            .drain()
            .collect();
        for (master, m) in managers {
            if kept.contains(&master) {
                tracing::warn!(
                    "Leaving VIP {} of master {master} in place for a restart: its kernel \
                     lifetime removes it when the lease runs out unless a restarted Warden \
                     confirms it first (SHUTDOWN RELEASE removes it)",
                    m.config.addr_spec()
                );
                m.manager.detach().await;
            } else {
                m.manager.shutdown().await;
            }
        }
    }
}

impl KernelVip {
    /// Run `f` on the manager of `master`'s VIP, if one runs.
    fn with_manager(&self, master: &str, f: impl FnOnce(&VipManager)) {
        if let Some(m) = self
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .managers
            .get(master)
        {
            f(&m.manager);
        }
    }
}

/// The instant of the tokio clock at which a lease ending at `until` (the core's clock) ends.
fn lease_instant(until: Option<Millis>) -> Option<Instant> {
    until.map(|until| {
        Instant::now() + Duration::from_millis(until.saturating_sub(crate::app::now_ms()))
    })
}

impl VipExecutor for KernelVip {
    fn claim(&mut self, master: &str, epoch: u64, until: Option<Millis>) {
        let Some(config) = self
            .app
            .with_core(|core, _| core.vip_config(master).cloned())
        else {
            return;
        };
        if let Err(e) = self.ensure_manager(master, &config) {
            tracing::warn!("Cannot claim the VIP of master {master} (epoch {epoch}): {e}");
            return;
        }
        self.with_manager(master, |m| m.claim(lease_instant(until)));
    }

    fn lease(&mut self, master: &str, until: Option<Millis>) {
        self.with_manager(master, |m| m.lease(lease_instant(until)));
    }

    /// Fencing (killing the clients that came through the VIP, pausing writes) is the core's:
    /// it goes over the sentinel's own link to the instance (`sentinel/fence.rs`).
    fn release(&mut self, master: &str, _epoch: u64, _fence: bool) {
        self.with_manager(master, VipManager::release);
    }
}

/// Send the host's addresses to the core if they changed.
fn feed_local_addrs(app: &App, last: &mut Vec<IpAddr>) {
    let mut addrs = host_addrs();
    addrs.sort();
    addrs.dedup();
    if &addrs != last || last.is_empty() {
        *last = addrs.clone();
        app.input(Input::LocalAddrs { addrs });
    }
}

/// Every address assigned to an interface of this host (getifaddrs).
fn host_addrs() -> Vec<IpAddr> {
    crate::sys::host_interfaces()
        .into_iter()
        .map(|a| a.addr)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_addrs_include_loopback() {
        assert!(host_addrs().contains(&IpAddr::from([127, 0, 0, 1])));
        let lo = crate::sys::host_interfaces()
            .into_iter()
            .find(|a| a.addr == IpAddr::from([127, 0, 0, 1]))
            .unwrap();
        assert_eq!((lo.interface.as_str(), lo.prefix), ("lo", 8));
    }
}
