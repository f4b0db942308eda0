use super::*;

fn settings(lines: &[(&str, &str)]) -> TlsSettings {
    let mut config = ServerConfig::default();
    for (name, value) in lines {
        config
            .other
            .insert(name.to_string(), vec![value.to_string()]);
    }
    TlsSettings::new(&config)
}

fn configure_error(lines: &[(&str, &str)]) -> String {
    match Tls::configure(&settings(lines)) {
        Ok(_) => panic!("configured with {lines:?}"),
        Err(e) => e,
    }
}

#[test]
fn defaults_are_redis_defaults() {
    let s = settings(&[]);
    assert!(!s.wanted());
    assert_eq!((s.port, s.replication, s.cluster), (0, false, false));
    assert_eq!(s.auth_clients, ClientAuth::Yes);
    assert!(s.session_caching);
    assert_eq!(
        (s.session_cache_size, s.session_cache_timeout),
        (20480, 300)
    );
    let s = settings(&[("tls-port", "6380"), ("tls-auth-clients", "optional")]);
    assert!(s.wanted() && s.port == 6380 && s.auth_clients == ClientAuth::Optional);
    assert!(settings(&[("tls-replication", "yes")]).wanted());
    // An empty path is no path, as in Redis.
    assert_eq!(settings(&[("tls-cert-file", "")]).cert_file, None);
}

#[test]
fn configuration_errors_are_redis_log_lines() {
    assert_eq!(
        configure_error(&[("tls-port", "1")]),
        "No tls-cert-file configured!"
    );
    assert_eq!(
        configure_error(&[("tls-cert-file", "c.pem")]),
        "No tls-key-file configured!"
    );
    let files = [("tls-cert-file", "c.pem"), ("tls-key-file", "k.pem")];
    assert_eq!(
        configure_error(&files),
        "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!"
    );
    let without_ca = [files[0], files[1], ("tls-auth-clients", "no")];
    let missing = configure_error(&without_ca);
    assert!(
        missing.starts_with("Failed to load certificate: c.pem: "),
        "{missing}"
    );
    let bad_protocols = [
        files[0],
        files[1],
        ("tls-auth-clients", "no"),
        ("tls-protocols", "SSLv3"),
    ];
    assert!(configure_error(&bad_protocols).starts_with("Invalid tls-protocols specified."));
}

#[test]
fn protocols_choose_what_stays_enabled() {
    let all = SslOptions::NO_TLSV1
        | SslOptions::NO_TLSV1_1
        | SslOptions::NO_TLSV1_2
        | SslOptions::NO_TLSV1_3;
    assert_eq!(
        disabled_protocols(None),
        Ok(SslOptions::NO_TLSV1 | SslOptions::NO_TLSV1_1)
    );
    assert_eq!(
        disabled_protocols(Some("TLSv1.3")),
        Ok(all - SslOptions::NO_TLSV1_3)
    );
    assert_eq!(
        disabled_protocols(Some("tlsv1.2  TLSv1.3")),
        Ok(SslOptions::NO_TLSV1 | SslOptions::NO_TLSV1_1)
    );
    assert!(disabled_protocols(Some("TLSv1.4")).is_err());
    assert!(disabled_protocols(Some(" ")).is_err());
}
