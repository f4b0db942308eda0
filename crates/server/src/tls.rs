//! TLS as Redis 7.0 configures it from the `tls-*` directives: the listener on `tls-port`, and,
//! with `tls-replication yes`, every outgoing link (to masters, replicas and other sentinels).
//!
//! Built on the system's OpenSSL, as Redis is, so `tls-ciphers`, `tls-ciphersuites` and
//! `tls-protocols` mean exactly what they mean there. The checks and their log lines follow
//! Redis's `tlsConfigure`: a server certificate and key are always required; a CA (file or
//! directory) when clients must authenticate or links use TLS. Outgoing links present the
//! client certificate (`tls-client-cert-file`) if one is configured, else the server's, and
//! verify the peer against the CA without a host name check (Redis does not check it either).

mod stream;

pub use stream::Stream;

use openssl::dh::Dh;
use openssl::error::ErrorStack;
use openssl::pkey::PKey;
use openssl::ssl::{
    Ssl, SslContext, SslContextBuilder, SslMethod, SslMode, SslOptions, SslSessionCacheMode,
    SslVerifyMode,
};
use std::io;
use std::path::Path;
use std::pin::Pin;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;
use warden_core::config::ServerConfig;

/// `tls-auth-clients`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// Clients need no certificate.
    No,
    /// A certificate is verified if the client sends one.
    Optional,
    /// Every client must present a certificate the CA signed (the default).
    Yes,
}

/// The `tls-*` directives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// `tls-port` (0: no TLS listener).
    pub port: u16,
    /// `tls-replication`: outgoing links use TLS.
    pub replication: bool,
    /// `tls-cluster` (no cluster bus in a sentinel, but it makes a CA mandatory, as in Redis).
    pub cluster: bool,
    /// `tls-auth-clients`.
    pub auth_clients: ClientAuth,
    cert_file: Option<String>,
    key_file: Option<String>,
    key_file_pass: Option<String>,
    client_cert_file: Option<String>,
    client_key_file: Option<String>,
    client_key_file_pass: Option<String>,
    dh_params_file: Option<String>,
    ca_cert_file: Option<String>,
    ca_cert_dir: Option<String>,
    protocols: Option<String>,
    ciphers: Option<String>,
    ciphersuites: Option<String>,
    prefer_server_ciphers: bool,
    session_caching: bool,
    session_cache_size: i32,
    session_cache_timeout: i64,
}

impl TlsSettings {
    /// The settings the parsed configuration holds (values were validated while parsing).
    pub fn new(config: &ServerConfig) -> TlsSettings {
        let text = |name: &str| {
            config
                .other
                .get(name)
                .and_then(|v| v.first())
                .filter(|v| !v.is_empty())
                .cloned()
        };
        let yes = |name: &str, default: bool| {
            text(name).map_or(default, |v| v.eq_ignore_ascii_case("yes"))
        };
        let number =
            |name: &str, default: i64| text(name).and_then(|v| v.parse().ok()).unwrap_or(default);
        TlsSettings {
            port: number("tls-port", 0) as u16,
            replication: yes("tls-replication", false),
            cluster: yes("tls-cluster", false),
            auth_clients: match text("tls-auth-clients").map(|v| v.to_ascii_lowercase()) {
                Some(v) if v == "no" => ClientAuth::No,
                Some(v) if v == "optional" => ClientAuth::Optional,
                _ => ClientAuth::Yes,
            },
            cert_file: text("tls-cert-file"),
            key_file: text("tls-key-file"),
            key_file_pass: text("tls-key-file-pass"),
            client_cert_file: text("tls-client-cert-file"),
            client_key_file: text("tls-client-key-file"),
            client_key_file_pass: text("tls-client-key-file-pass"),
            dh_params_file: text("tls-dh-params-file"),
            ca_cert_file: text("tls-ca-cert-file"),
            ca_cert_dir: text("tls-ca-cert-dir"),
            protocols: text("tls-protocols"),
            ciphers: text("tls-ciphers"),
            ciphersuites: text("tls-ciphersuites"),
            prefer_server_ciphers: yes("tls-prefer-server-ciphers", false),
            session_caching: yes("tls-session-caching", true),
            session_cache_size: number("tls-session-cache-size", 20480) as i32,
            session_cache_timeout: number("tls-session-cache-timeout", 300),
        }
    }

    /// Whether TLS must be set up at all (Redis configures it under the same condition).
    pub fn wanted(&self) -> bool {
        self.port != 0 || self.replication || self.cluster
    }
}

/// The configured TLS contexts.
pub struct Tls {
    /// `tls-port` (0: TLS for links only).
    port: u16,
    server: SslContext,
    /// A separate context for outgoing links when a client certificate is configured.
    client: Option<SslContext>,
    auth_clients: ClientAuth,
}

/// Which side a context is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Server,
    Client,
}

impl Tls {
    /// Build the contexts; the error is the line Redis logs before "Failed to configure TLS".
    pub fn configure(s: &TlsSettings) -> Result<Tls, String> {
        if s.cert_file.is_none() {
            return Err("No tls-cert-file configured!".into());
        }
        if s.key_file.is_none() {
            return Err("No tls-key-file configured!".into());
        }
        if (s.auth_clients != ClientAuth::No || s.cluster || s.replication)
            && s.ca_cert_file.is_none()
            && s.ca_cert_dir.is_none()
        {
            return Err("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!".into());
        }
        let disabled = disabled_protocols(s.protocols.as_deref())?;
        let mut server = context(s, Side::Server, disabled)?;
        if s.session_caching {
            server.set_session_cache_mode(SslSessionCacheMode::SERVER);
            server.set_session_cache_size(s.session_cache_size);
            crate::sys::set_session_timeout(&mut server, s.session_cache_timeout);
            server.set_session_id_context(b"redis").map_err(|e| {
                format!("Failed to set the session id context: {}", first_error(&e))
            })?;
        } else {
            server.set_session_cache_mode(SslSessionCacheMode::OFF);
        }
        let mut options = SslOptions::NO_RENEGOTIATION | SslOptions::SINGLE_DH_USE;
        if s.prefer_server_ciphers {
            options |= SslOptions::CIPHER_SERVER_PREFERENCE;
        }
        server.set_options(options);
        match &s.dh_params_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| format!("Failed to load {path}: {}", crate::strerror(&e)))?;
                let dh = Dh::params_from_pem(&pem)
                    .map_err(|_| format!("{path}: failed to read DH params."))?;
                server.set_tmp_dh(&dh).map_err(|e| {
                    format!("Failed to load DH params file: {path}: {}", first_error(&e))
                })?;
            }
            None => crate::sys::set_dh_auto(&mut server),
        }
        let client = match (&s.client_cert_file, &s.client_key_file) {
            (Some(_), Some(_)) => Some(context(s, Side::Client, disabled)?.build()),
            _ => None,
        };
        Ok(Tls {
            port: s.port,
            server: server.build(),
            client,
            auth_clients: s.auth_clients,
        })
    }

    /// The port clients connect to with TLS (`tls-port`), if any.
    pub fn port(&self) -> Option<u16> {
        (self.port != 0).then_some(self.port)
    }

    /// Complete the server side of the handshake on an accepted connection.
    pub async fn accept(&self, tcp: TcpStream) -> io::Result<SslStream<TcpStream>> {
        let mut ssl = Ssl::new(&self.server).map_err(io::Error::other)?;
        ssl.set_verify(match self.auth_clients {
            ClientAuth::No => SslVerifyMode::NONE,
            ClientAuth::Optional => SslVerifyMode::PEER,
            ClientAuth::Yes => SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
        });
        handshake(ssl, tcp, Side::Server).await
    }

    /// Complete the client side of the handshake on an outgoing link.
    pub async fn connect(&self, tcp: TcpStream) -> io::Result<SslStream<TcpStream>> {
        let ssl =
            Ssl::new(self.client.as_ref().unwrap_or(&self.server)).map_err(io::Error::other)?;
        handshake(ssl, tcp, Side::Client).await
    }
}

/// Run the handshake of `side` over `tcp`.
async fn handshake(ssl: Ssl, tcp: TcpStream, side: Side) -> io::Result<SslStream<TcpStream>> {
    let mut stream = SslStream::new(ssl, tcp).map_err(io::Error::other)?;
    let pinned = Pin::new(&mut stream);
    let done = match side {
        Side::Server => pinned.accept().await,
        Side::Client => pinned.connect().await,
    };
    done.map_err(handshake_error)?;
    Ok(stream)
}

/// A failed handshake as an I/O error carrying OpenSSL's reason.
fn handshake_error(e: openssl::ssl::Error) -> io::Error {
    match e.ssl_error() {
        Some(stack) => io::Error::new(io::ErrorKind::ConnectionAborted, stack.to_string()),
        None => e
            .into_io_error()
            .unwrap_or_else(|e| io::Error::new(io::ErrorKind::ConnectionAborted, e.to_string())),
    }
}

/// The oldest error of the queue the way Redis prints it (`ERR_error_string_n` of OpenSSL 3:
/// `error:<code>:<library>::<reason>`).
fn first_error(stack: &ErrorStack) -> String {
    let Some(e) = stack.errors().first() else {
        return "unknown error".into();
    };
    let code = e.code();
    if code & ERR_SYSTEM_FLAG != 0 {
        return system_error(code & !ERR_SYSTEM_FLAG);
    }
    let reason = e
        .reason()
        .map_or_else(|| format!("reason({})", code & 0x7F_FFFF), str::to_string);
    format!("error:{code:08X}:{}::{reason}", e.library().unwrap_or(""))
}

/// `first_error` of a failed system call (OpenSSL 3 queues them as `ERR_SYSTEM_FLAG | errno`).
fn system_error(errno: u64) -> String {
    format!(
        "error:{:08X}:system library::{}",
        ERR_SYSTEM_FLAG | errno,
        crate::strerror(&std::io::Error::from_raw_os_error(errno as i32))
    )
}

/// OpenSSL 3's mark of an error code that carries an `errno`.
const ERR_SYSTEM_FLAG: u64 = 0x8000_0000;

/// The protocol versions `tls-protocols` leaves out (default: only TLSv1.2 and TLSv1.3 allowed).
fn disabled_protocols(protocols: Option<&str>) -> Result<SslOptions, String> {
    const INVALID: &str = "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.";
    let versions = [
        ("tlsv1", SslOptions::NO_TLSV1),
        ("tlsv1.1", SslOptions::NO_TLSV1_1),
        ("tlsv1.2", SslOptions::NO_TLSV1_2),
        ("tlsv1.3", SslOptions::NO_TLSV1_3),
    ];
    let Some(protocols) = protocols else {
        return Ok(SslOptions::NO_TLSV1 | SslOptions::NO_TLSV1_1);
    };
    let all = versions
        .iter()
        .fold(SslOptions::empty(), |acc, (_, no)| acc | *no);
    let mut disabled = all;
    for word in protocols.split_whitespace() {
        let (_, no) = versions
            .iter()
            .find(|(name, _)| word.eq_ignore_ascii_case(name))
            .ok_or(INVALID)?;
        disabled.remove(*no);
    }
    if disabled == all {
        return Err(INVALID.into());
    }
    Ok(disabled)
}

/// A context with Redis's common settings, the side's certificate and key, the CA and ciphers.
fn context(s: &TlsSettings, side: Side, disabled: SslOptions) -> Result<SslContextBuilder, String> {
    let (cert, key, pass) = match side {
        Side::Server => (&s.cert_file, &s.key_file, &s.key_file_pass),
        Side::Client => (
            &s.client_cert_file,
            &s.client_key_file,
            &s.client_key_file_pass,
        ),
    };
    let (Some(cert), Some(key)) = (cert, key) else {
        unreachable!("checked by Tls::configure");
    };
    let mut ctx = SslContextBuilder::new(SslMethod::tls()).map_err(|e| e.to_string())?;
    ctx.set_options(
        SslOptions::NO_SSLV2
            | SslOptions::NO_SSLV3
            | SslOptions::DONT_INSERT_EMPTY_FRAGMENTS
            | SslOptions::NO_COMPRESSION
            | disabled,
    );
    ctx.set_mode(SslMode::ENABLE_PARTIAL_WRITE | SslMode::ACCEPT_MOVING_WRITE_BUFFER);
    // One `recv` for whatever arrived instead of one per record header and body (and, as the
    // read then comes back short, no further `recv` that would only return EAGAIN). Safe here:
    // both the server and the links call SSL_read until it wants more from the socket.
    ctx.set_read_ahead(true);
    ctx.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    ctx.set_certificate_chain_file(cert)
        .map_err(|e| format!("Failed to load certificate: {cert}: {}", first_error(&e)))?;
    let pem = std::fs::read(key).map_err(|e| {
        let errno = e.raw_os_error().unwrap_or(0) as u64;
        format!("Failed to load private key: {key}: {}", system_error(errno))
    })?;
    // Without a passphrase an encrypted key fails (OpenSSL would otherwise prompt on the tty).
    let private = PKey::private_key_from_pem_callback(&pem, |buf| {
        let pass = pass.as_deref().unwrap_or("").as_bytes();
        let n = pass.len().min(buf.len());
        buf[..n].copy_from_slice(&pass[..n]);
        Ok(n)
    })
    .map_err(|e| format!("Failed to load private key: {key}: {}", first_error(&e)))?;
    ctx.set_private_key(&private)
        .map_err(|e| format!("Failed to load private key: {key}: {}", first_error(&e)))?;
    if s.ca_cert_file.is_some() || s.ca_cert_dir.is_some() {
        ctx.load_verify_locations(
            s.ca_cert_file.as_deref().map(Path::new),
            s.ca_cert_dir.as_deref().map(Path::new),
        )
        .map_err(|e| {
            format!(
                "Failed to configure CA certificate(s) file/directory: {}",
                first_error(&e)
            )
        })?;
    }
    if let Some(ciphers) = &s.ciphers {
        ctx.set_cipher_list(ciphers)
            .map_err(|_| format!("Failed to configure ciphers: {ciphers}"))?;
    }
    if let Some(suites) = &s.ciphersuites {
        ctx.set_ciphersuites(suites)
            .map_err(|_| format!("Failed to configure ciphersuites: {suites}"))?;
    }
    Ok(ctx)
}

#[cfg(test)]
mod tests;
