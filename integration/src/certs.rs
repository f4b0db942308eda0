//! A throwaway certificate authority for TLS tests: the file set Redis's own
//! `utils/gen-test-certs.sh` makes (`ca.crt`, `server.crt`/`server.key` usable by servers and
//! as a client certificate, `client.crt`/`client.key`, and `redis.dh`), in a scratch directory.

use crate::tempdir::TempDir;
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::dh::Dh;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509Name, X509};
use std::io;
use std::path::{Path, PathBuf};

/// The certificate files, removed with their directory on drop.
#[derive(Debug)]
pub struct TestCerts {
    dir: TempDir,
}

impl TestCerts {
    /// Creates a CA and the certificates it signed (valid for `127.0.0.1` and `localhost`).
    pub fn create() -> io::Result<TestCerts> {
        let dir = TempDir::new("certs")?;
        let (ca_key, ca) = issue("Warden test CA", None, Role::Ca).map_err(io::Error::other)?;
        write(dir.path(), "ca", &ca_key, &ca)?;
        for (name, role) in [("server", Role::Server), ("client", Role::Client)] {
            let (key, cert) = issue(&format!("Warden test {name}"), Some((&ca_key, &ca)), role)
                .map_err(io::Error::other)?;
            write(dir.path(), name, &key, &cert)?;
        }
        // A fixed, well-known group (RFC 7919 ffdhe2048): generating one takes seconds.
        let dh = Dh::get_2048_256()
            .and_then(|dh| dh.params_to_pem())
            .map_err(io::Error::other)?;
        std::fs::write(dir.path().join("redis.dh"), dh)?;
        Ok(TestCerts { dir })
    }

    /// `<dir>/<name>`, e.g. `ca.crt`, `server.key`.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The `tls-*` directives of a server that serves TLS on `tls_port` and uses it for its own
    /// links, requiring client certificates (as `--name value` pairs: redis-server arguments,
    /// or config lines without the dashes).
    pub fn directives(&self, tls_port: u16) -> Vec<(String, String)> {
        let path = |name: &str| self.file(name).display().to_string();
        vec![
            ("tls-port".into(), tls_port.to_string()),
            ("tls-replication".into(), "yes".into()),
            ("tls-cert-file".into(), path("server.crt")),
            ("tls-key-file".into(), path("server.key")),
            ("tls-client-cert-file".into(), path("client.crt")),
            ("tls-client-key-file".into(), path("client.key")),
            ("tls-ca-cert-file".into(), path("ca.crt")),
            ("tls-dh-params-file".into(), path("redis.dh")),
        ]
    }
}

/// What a certificate is for.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Ca,
    /// Server and client authentication (servers present it on their own links too).
    Server,
    Client,
}

fn issue(
    common_name: &str,
    issuer: Option<(&PKey<Private>, &X509)>,
    role: Role,
) -> Result<(PKey<Private>, X509), openssl::error::ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let mut name = X509Name::builder()?;
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)?;
    let name = name.build();
    let mut cert = X509::builder()?;
    cert.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(64, openssl::bn::MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    cert.set_serial_number(&serial)?;
    cert.set_subject_name(&name)?;
    cert.set_issuer_name(issuer.map_or(&name, |(_, ca)| ca.subject_name()))?;
    cert.set_pubkey(&key)?;
    // Valid from an hour ago, so that a second of clock difference never matters.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (from, to) = (
        Asn1Time::from_unix(now - 3600)?,
        Asn1Time::days_from_now(2)?,
    );
    cert.set_not_before(&from)?;
    cert.set_not_after(&to)?;
    match role {
        Role::Ca => {
            cert.append_extension(BasicConstraints::new().critical().ca().build()?)?;
            cert.append_extension(KeyUsage::new().key_cert_sign().crl_sign().build()?)?;
        }
        Role::Server | Role::Client => {
            cert.append_extension(KeyUsage::new().digital_signature().build()?)?;
            let mut usage = ExtendedKeyUsage::new();
            usage.client_auth();
            if role == Role::Server {
                usage.server_auth();
            }
            cert.append_extension(usage.build()?)?;
            let san = SubjectAlternativeName::new()
                .ip("127.0.0.1")
                .dns("localhost")
                .build(&cert.x509v3_context(issuer.map(|(_, ca)| &**ca), None))?;
            cert.append_extension(san)?;
        }
    }
    cert.sign(
        issuer.map_or(&key, |(ca_key, _)| ca_key),
        MessageDigest::sha256(),
    )?;
    Ok((key, cert.build()))
}

fn write(dir: &Path, name: &str, key: &PKey<Private>, cert: &X509) -> io::Result<()> {
    let pem = |r: Result<Vec<u8>, _>| r.map_err(io::Error::other);
    std::fs::write(
        dir.join(format!("{name}.key")),
        pem(key.private_key_to_pem_pkcs8())?,
    )?;
    std::fs::write(dir.join(format!("{name}.crt")), pem(cert.to_pem())?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_certificate_verifies_against_the_ca() {
        let certs = TestCerts::create().unwrap();
        let read = |name: &str| X509::from_pem(&std::fs::read(certs.file(name)).unwrap()).unwrap();
        let ca = read("ca.crt");
        for name in ["server.crt", "client.crt"] {
            let cert = read(name);
            let ca_key = ca.public_key().unwrap();
            assert!(cert.verify(&ca_key).unwrap(), "{name}");
        }
        assert!(certs.file("redis.dh").exists() && certs.file("client.key").exists());
    }
}
