//! Certificates for the HTTPS and mutual-TLS tests, made by the `openssl` command: a test CA
//! ([`TestCa`]) and the server and client certificates it signs (P-256 keys, valid two
//! days, PEM files in a directory the test owns).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `openssl` with `args` in `dir`; panics with its output when it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is required for the TLS tests (Debian package openssl)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A certificate and its private key, PEM files.
#[derive(Debug, Clone)]
pub struct CertifiedKey {
    /// The certificate.
    pub cert: PathBuf,
    /// Its private key (SEC1).
    pub key: PathBuf,
}

/// A self-signed test CA in a directory of the test's.
#[derive(Debug, Clone)]
pub struct TestCa {
    dir: PathBuf,
    name: String,
    /// The CA's certificate (PEM), what clients or servers trust.
    pub cert: PathBuf,
    key: PathBuf,
}

impl TestCa {
    /// A new CA, `CN=<name> test CA`, its files named `<name>-ca*.pem` in `dir`.
    pub fn new(dir: &Path, name: &str) -> TestCa {
        let key = format!("{name}-ca-key.pem");
        let cert = format!("{name}-ca.pem");
        openssl(
            dir,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                &key,
            ],
        );
        let subject = format!("/CN={name} test CA");
        openssl(
            dir,
            &[
                "req", "-x509", "-new", "-key", &key, "-subj", &subject, "-days", "2", "-out",
                &cert,
            ],
        );
        TestCa {
            dir: dir.to_owned(),
            name: name.to_owned(),
            cert: dir.join(cert),
            key: dir.join(key),
        }
    }

    /// A server certificate for 127.0.0.1 (`<name>-server-*.pem`).
    pub fn server(&self) -> CertifiedKey {
        self.issue(
            "server",
            "/CN=127.0.0.1",
            "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n",
        )
    }

    /// A client certificate with subject `CN=<common_name>` and these subject alternative
    /// names (`DNS:…`, `email:…`, comma-separated; none when empty), its files named after
    /// `stem`.
    pub fn client(&self, stem: &str, common_name: &str, alternative_names: &str) -> CertifiedKey {
        let mut extensions = "extendedKeyUsage = clientAuth\n".to_owned();
        if !alternative_names.is_empty() {
            extensions.push_str(&format!("subjectAltName = {alternative_names}\n"));
        }
        self.issue(stem, &format!("/CN={common_name}"), &extensions)
    }

    /// A certificate for `subject` with these `openssl x509 -extfile` lines, signed by
    /// this CA now (a new key each call).
    pub fn issue(&self, stem: &str, subject: &str, extensions: &str) -> CertifiedKey {
        let name = &self.name;
        let key = format!("{name}-{stem}-key.pem");
        let cert = format!("{name}-{stem}-cert.pem");
        let csr = format!("{name}-{stem}.csr");
        let ext = format!("{name}-{stem}.ext");
        let dir = &self.dir;
        openssl(
            dir,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                &key,
            ],
        );
        openssl(
            dir,
            &["req", "-new", "-key", &key, "-subj", subject, "-out", &csr],
        );
        std::fs::write(dir.join(&ext), extensions).expect("write the extensions file");
        let (ca_cert, ca_key) = (
            self.cert.display().to_string(),
            self.key.display().to_string(),
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca_cert,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &ext,
                "-out",
                &cert,
            ],
        );
        CertifiedKey {
            cert: dir.join(cert),
            key: dir.join(key),
        }
    }
}
