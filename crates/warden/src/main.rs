//! `warden`: a Redis Sentinel drop-in that also owns the service's virtual IP.
//!
//! Start-up follows redis-sentinel's order: command line → config file (+ command-line
//! directives, checks, `dir`) → daemonize → logging → pid file → the sentinel core, the client
//! server, the action driver and the timer → readiness notification. The process then runs until
//! SIGTERM/SIGINT or `SHUTDOWN` (clean exit 0) or an exit the core asks for (its code, e.g. 99
//! for `SENTINEL SIMULATE-FAILURE`).
//!
//! Holds the wiring around the sans-IO core (`warden-core`): the shared `App`, the driver that
//! executes the core's actions, the outgoing links, scripts, the config file and its journal,
//! the VIP glue (`warden-vip`), the HTTP side and the doctor. The RESP server is
//! `warden-server`, reached through `App`'s `SentinelPort` implementation.

#![deny(unsafe_code)]

mod app;
mod cli;
mod conffile;
mod doctor;
mod driver;
#[cfg(test)]
mod fuzz;
mod http;
mod journal;
mod links;
mod logging;
mod metrics;
mod ports;
mod process;
mod scripts;
#[allow(unsafe_code)]
mod sys;
#[cfg(test)]
mod testkit;
mod vip;

use app::App;
use cli::{Command, StartArgs};
use conffile::{FilePersist, LoadError};
use driver::Driver;
use logging::LogTarget;
use process::{PidFile, Signals, Supervisor};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tracing_subscriber::filter::LevelFilter;
use warden_core::config::{SentinelConfig, ServerConfig};
use warden_core::{Options, Sentinel};
use warden_server::tls::{Tls, TlsSettings};
use warden_server::{PubSubHub, Server, ServerSettings, Shutdown};

/// Redis's pid file when daemonized without a `pidfile` directive.
const DEFAULT_PIDFILE: &str = "/var/run/redis.pid";
/// How long client connections get to close once shutdown starts.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

fn main() -> ExitCode {
    match cli::parse(std::env::args_os().collect()) {
        Ok(Command::Print(text)) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Ok(Command::Demo(args)) => run_demo(&args),
        Ok(Command::Doctor(args)) => doctor::run(&args),
        Ok(Command::Start(args)) => ExitCode::from(u8::try_from(start(args)).unwrap_or(1)),
        Err(usage) => {
            eprint!("{usage}");
            ExitCode::FAILURE
        }
    }
}

/// `warden demo ...`: runs `warden-demo` from beside this executable (the demo lives in its own
/// crate, so a packaged sentinel carries no demo code).
fn run_demo(args: &[String]) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let demo = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name("warden-demo"),
        Err(e) => {
            eprintln!("warden demo: cannot locate this executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let error = std::process::Command::new(&demo).args(args).exec();
    eprintln!(
        "warden demo: cannot run {}: {error} (build it with `cargo build --release -p warden-demo`, \
         or run scripts/demo.sh)",
        demo.display()
    );
    ExitCode::FAILURE
}

/// Everything before the async part; returns the exit code.
fn start(args: StartArgs) -> i32 {
    let loaded = match conffile::load(args.config.as_deref(), &args.options) {
        Ok(loaded) => loaded,
        Err(LoadError::Invalid(e)) => {
            eprint!("{}", e.stderr_text());
            return 1;
        }
        Err(e) => {
            log_before_setup(&e.to_string());
            return 1;
        }
    };
    let server_config = loaded.parsed.server;
    if let Some(dir) = &server_config.dir {
        // The loader checked that `dir` can be entered; failing now means it just changed.
        if let Err(e) = std::env::set_current_dir(dir) {
            let reason = warden_server::strerror(&e);
            log_before_setup(&format!("Can't chdir to '{dir}': {reason}"));
            return 1;
        }
    }
    let supervisor = Supervisor::from_config(&server_config.supervised);
    let background = server_config.daemonize && !supervisor.available();
    if background {
        if let Err(e) = process::daemonize() {
            let reason = warden_server::strerror(&e);
            log_before_setup(&format!("Can't daemonize: {reason}"));
            return 1;
        }
    }
    let target = LogTarget::from_logfile(&server_config.logfile, background);
    let level = logging::level_filter(&server_config.loglevel).unwrap_or(LevelFilter::INFO);
    if let Err(e) = logging::init(target.clone(), level) {
        target.write_line(&logging::line('#', &format!("Can't set up logging: {e}")));
        return 1;
    }
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!("{}", logging::panic_message(info));
        default_hook(info);
    }));

    tracing::warn!("oO0OoO0OoO0Oo Warden is starting oO0OoO0OoO0Oo");
    tracing::warn!(
        "Warden version={} (Redis Sentinel {} compatible), bits={}, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        warden_core::REDIS_VERSION,
        usize::BITS,
        std::process::id()
    );
    tracing::warn!("Configuration loaded");
    for warning in &loaded.parsed.warnings {
        tracing::warn!("{warning}");
    }

    // One event loop, like Redis Sentinel's: the clients' requests are small and the core is
    // behind one lock anyway; with the replies written after all ready clients were read (see
    // `warden_server`'s `conn`) it costs the same CPU per request as Redis Sentinel in the throughput bench
    // (docs/benchmarks.md) and leaves the other core to the clients.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::warn!("Can't start the async runtime: {e}");
            return 1;
        }
    };
    let pidfile = match (&server_config.pidfile, background) {
        (Some(path), _) => Some(PathBuf::from(path)),
        (None, true) => Some(PathBuf::from(DEFAULT_PIDFILE)),
        (None, false) => None,
    };
    let sentinel = Run {
        config_path: loaded.path,
        server_config,
        sentinel_config: loaded.parsed.sentinel,
        persist: loaded.persist,
        supervisor,
        pidfile,
    };
    let code = runtime.block_on(sentinel.run());
    // Leave at once: a task still blocked (a name lookup, a client write) must not delay exit.
    runtime.shutdown_background();
    code
}

/// Log a fatal start-up problem on stdout, where Redis logs before its log file is set up.
fn log_before_setup(message: &str) {
    LogTarget::Stdout.write_line(&logging::line('#', message));
}

/// A configured sentinel, ready to run.
struct Run {
    config_path: PathBuf,
    server_config: ServerConfig,
    sentinel_config: SentinelConfig,
    persist: FilePersist,
    supervisor: Supervisor,
    pidfile: Option<PathBuf>,
}

impl Run {
    /// `bind-source-addr`, the address outgoing links leave from (ignored with a warning when it
    /// is not an IP address).
    fn source_addr(&self) -> Option<std::net::IpAddr> {
        let value = self.server_config.other.get("bind-source-addr")?.first()?;
        match value.parse() {
            Ok(addr) => Some(addr),
            Err(_) => {
                tracing::warn!("bind-source-addr {value} is not an IP address, ignoring it");
                None
            }
        }
    }

    /// Serve until shutdown; returns the exit code.
    async fn run(self) -> i32 {
        let mut signals = match Signals::install() {
            Ok(signals) => signals,
            Err(e) => {
                tracing::warn!("Can't install signal handlers: {e}");
                return 1;
            }
        };
        let pidfile = self.pidfile.as_deref().and_then(|path| {
            PidFile::create(path)
                .map_err(|e| {
                    tracing::warn!("Failed to write PID file: {}", warden_server::strerror(&e))
                })
                .ok()
        });
        let port = self.server_config.port;
        let source = self.source_addr();
        let tls_settings = TlsSettings::new(&self.server_config);
        let tls = match tls_settings.wanted().then(|| Tls::configure(&tls_settings)) {
            None => None,
            Some(Ok(tls)) => Some(Arc::new(tls)),
            Some(Err(reason)) => {
                tracing::warn!("{reason}");
                tracing::warn!("Failed to configure TLS. Check logs for more info.");
                return 1;
            }
        };
        // Peers are told the port they can reach us on with the links' protocol (Redis: the TLS
        // port under tls-replication).
        let announced = if tls_settings.replication && tls_settings.port != 0 {
            tls_settings.port
        } else {
            port
        };
        let options = Options {
            resolver: links::resolve_host,
            is_executable: scripts::is_executable,
            compat: warden_server::effective_compat(&self.server_config),
            loglevel: self.server_config.loglevel.clone(),
            ..Options::new(
                announced,
                self.server_config.requirepass.clone(),
                rand::random(),
            )
        };
        let now = app::now_ms();
        // Saves the core does not wait for are written by a thread of their own; their end
        // releases what waited for them (see App::saved).
        let (saved_tx, mut saved_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut persist = self.persist;
        if let Err(e) = persist.write_in_background(move |generation| {
            let _ = saved_tx.send(generation);
        }) {
            tracing::warn!("Can't start the config writer thread: {e}");
            return 1;
        }
        let compactor = persist.compactor();
        let metrics = Arc::new(metrics::Metrics::default());
        let flushes = metrics.clone();
        persist.observe_flushes(move |took| flushes.observe_flush(took));
        let core = match Sentinel::new(self.sentinel_config, options, Box::new(persist), now) {
            Ok(core) => core,
            Err(e) => {
                tracing::warn!("{e}");
                return 1;
            }
        };
        let (app, actions) = App::new(core);
        let saver = app.clone();
        tokio::spawn(async move {
            while let Some(generation) = saved_rx.recv().await {
                saver.saved(generation);
            }
        });
        let hub = PubSubHub::new();
        // Every event reaches subscribers through the metrics, which count it.
        let events = Arc::new(metrics::Observed {
            next: hub.clone(),
            metrics: metrics.clone(),
        });
        let shutdown = Shutdown::new();
        // VIPs first: a stray VIP is removed before anything is answered, a predecessor's
        // leased one adopted; missing capabilities stop start-up with a message naming them.
        let vip = match vip::KernelVip::start(app.clone(), events.clone(), metrics.clone()).await {
            Ok(vip) => vip,
            Err(e) => {
                tracing::warn!("Cannot manage the configured virtual IPs: {e}. Exiting...");
                return 1;
            }
        };
        let http = match bind_http(&self.server_config).await {
            Ok(listeners) => listeners,
            Err(e) => {
                tracing::warn!("Metrics port: {e}");
                return 1;
            }
        };
        let settings = ServerSettings::new(&self.server_config, self.config_path);
        let server = match Server::bind(
            app.clone(),
            hub.clone(),
            settings,
            shutdown.clone(),
            tls.clone(),
        )
        .await
        {
            Ok(server) => server,
            Err(e) => {
                for line in e.to_string().lines() {
                    tracing::warn!("{line}");
                }
                return 1;
            }
        };
        if !http.is_empty() {
            let endpoints = http::Endpoints {
                app: app.clone(),
                metrics: metrics.clone(),
            };
            tokio::spawn(http::serve(http, endpoints));
        }
        tracing::info!("Running mode=sentinel, port={port}.");
        tracing::warn!("Sentinel ID is {}", app.myid());

        // Links speak TLS only under tls-replication, as Redis's do: a sentinel may serve clients
        // over TLS while the instances it monitors speak plain RESP.
        let outgoing = links::Outgoing {
            source,
            tls: tls.filter(|_| tls_settings.replication),
        };
        let driver =
            Driver::new(app.clone(), events, Box::new(vip.clone()), outgoing).with_metrics(metrics);
        tokio::spawn(driver::run_timer(app));
        let server = tokio::spawn(server.run());
        self.supervisor.ready();

        tokio::select! {
            code = driver.run(actions) => {
                if let Some(code) = code {
                    return code;
                }
            }
            signal = signals.recv() => {
                tracing::warn!("Received {} scheduling shutdown...", signal.name());
                tracing::warn!("User requested shutdown...");
            }
            // SHUTDOWN logged its own "User requested shutdown...".
            () = shutdown.wait() => {}
        }
        shutdown.trigger();
        self.supervisor.stopping();
        vip.shutdown(shutdown.releases_vips()).await;
        if let Some(pidfile) = pidfile {
            tracing::info!("Removing the pid file.");
            pidfile.remove();
        }
        let _ = tokio::time::timeout(CLOSE_GRACE, server).await;
        // Leave the whole state in the config file, where a redis-sentinel would look for it.
        compactor.compact();
        tracing::warn!("Sentinel is now ready to exit, bye bye...");
        0
    }
}

/// The HTTP side's listeners: none unless `metrics-port` is set; on `metrics-bind`'s
/// addresses, else on `bind`'s.
async fn bind_http(config: &ServerConfig) -> std::io::Result<Vec<tokio::net::TcpListener>> {
    let port = config.metrics_port();
    if port == 0 {
        return Ok(Vec::new());
    }
    let bind = match config.metrics_bind() {
        [] => &config.bind[..],
        addrs => addrs,
    };
    warden_server::bind_all(bind, port).await
}
