//! A team store's address: `postgres://[user@]host[:port]/database[?options]`, with the
//! connection settings every PostgreSQL user expects from libpq: the `PG*` environment
//! variables, a service file (`service=` or `PGSERVICE`), and the password from `PGPASSWORD`
//! or `~/.pgpass` (`PGPASSFILE`), never from the address itself, which is shown and kept in
//! recent lists. TLS as `sslmode` says (`disable`, `prefer` (the default), `require`,
//! `verify-full` with `sslrootcert`, default `~/.postgresql/root.crt`).
//!
//! vitrine's own option `catalogue=NAME` names the catalogue in the store (see
//! [`super::identity`]); it is not sent to the server.

use crate::labels::StoreError;
use postgres::config::{Host, SslMode};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long connecting may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `text` is a team store's address rather than a file path.
pub fn is_team(text: &str) -> bool {
    let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// How the connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// Never.
    Disable,
    /// If the server offers it, without checking its certificate (libpq's default).
    Prefer,
    /// Always, without checking the certificate.
    Require,
    /// Always, the certificate checked against the root certificates and the host name.
    VerifyFull,
}

/// A parsed team store address with its connection settings filled in.
#[derive(Clone)]
pub struct TeamAddress {
    /// The address as shown: what was given, without any password.
    shown: String,
    config: postgres::Config,
    tls: Tls,
    root_cert: PathBuf,
    /// The catalogue's name in the store, when the address gives one.
    catalogue: Option<String>,
}

impl std::fmt::Debug for TeamAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("TeamAddress")
            .field("shown", &self.shown)
            .field("tls", &self.tls)
            .finish()
    }
}

/// Where the settings the address leaves out come from: the process's environment and the
/// user's home folder (separate so that tests can give their own).
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// `PG*` variables and `HOME`, as read.
    pub vars: Vec<(String, String)>,
}

impl Environment {
    /// The process's own environment.
    pub fn process() -> Self {
        Environment {
            vars: std::env::vars()
                .filter(|(k, _)| k.starts_with("PG") || k == "HOME")
                .collect(),
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn home_file(&self, name: &str) -> Option<PathBuf> {
        self.get("HOME").map(|home| Path::new(home).join(name))
    }
}

impl TeamAddress {
    /// Parses `given` and fills in what it leaves out from `env`. A password in the address is
    /// refused (it would be shown and remembered).
    pub fn parse(given: &str, env: &Environment) -> Result<TeamAddress, StoreError> {
        let bad = |reason: String| StoreError::Address {
            given: without_password(given),
            reason,
        };
        if !is_team(given) {
            return Err(bad("not a postgres:// address".into()));
        }
        let (base, query) = given.split_once('?').unwrap_or((given, ""));
        let authority = base.split_once("://").map_or("", |(_, rest)| rest);
        let authority = authority.split('/').next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && userinfo.contains(':')
        {
            return Err(bad(
                "a password in the address would be shown and remembered; put it in ~/.pgpass \
                 or PGPASSWORD instead"
                    .into(),
            ));
        }
        let mut passed = Vec::new();
        let mut tls_given = None;
        let mut root_cert = None;
        let mut catalogue = None;
        let mut service = env.get("PGSERVICE").map(String::from);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value).map_err(|e| bad(format!("option {key}: {e}")))?;
            match key {
                "password" => {
                    return Err(bad(
                        "a password in the address would be shown and remembered; put it in \
                         ~/.pgpass or PGPASSWORD instead"
                            .into(),
                    ));
                }
                "sslmode" => tls_given = Some(value),
                "sslrootcert" => root_cert = Some(PathBuf::from(value)),
                "catalogue" => catalogue = Some(value).filter(|v| !v.trim().is_empty()),
                "service" => service = Some(value),
                _ => passed.push(pair),
            }
        }
        let url = if passed.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", passed.join("&"))
        };
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| bad(e.to_string()))?;
        let service = match service {
            Some(name) => Some(read_service(&name, env).map_err(bad)?),
            None => None,
        };
        let from_service = |key: &str| {
            service
                .as_ref()
                .and_then(|s| s.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
        };
        if from_service("password").is_some() {
            return Err(bad(
                "the service file holds a password; vitrine reads passwords only from \
                 PGPASSWORD or ~/.pgpass"
                    .into(),
            ));
        }
        if config.get_hosts().is_empty() {
            let host = from_service("host")
                .or_else(|| env.get("PGHOST").map(String::from))
                .unwrap_or_else(default_host);
            config.host(&host);
        }
        if config.get_ports().is_empty() {
            let port = from_service("port").or_else(|| env.get("PGPORT").map(String::from));
            if let Some(port) = port {
                config.port(port.parse().map_err(|_| bad(format!("port '{port}'")))?);
            }
        }
        if config.get_user().is_none() {
            let user = from_service("user")
                .or_else(|| env.get("PGUSER").map(String::from))
                .unwrap_or_else(whoami_user);
            config.user(&user);
        }
        if config.get_dbname().is_none() {
            let db = from_service("dbname")
                .or_else(|| env.get("PGDATABASE").map(String::from))
                .or_else(|| config.get_user().map(String::from));
            if let Some(db) = db {
                config.dbname(&db);
            }
        }
        let tls_name = tls_given
            .or_else(|| from_service("sslmode"))
            .or_else(|| env.get("PGSSLMODE").map(String::from))
            .unwrap_or_else(|| "prefer".into());
        let tls = match tls_name.as_str() {
            "disable" => Tls::Disable,
            "allow" | "prefer" => Tls::Prefer,
            "require" => Tls::Require,
            "verify-full" => Tls::VerifyFull,
            "verify-ca" => {
                return Err(bad(
                    "sslmode=verify-ca is not supported: use verify-full (it also checks the \
                     host name)"
                        .into(),
                ));
            }
            other => return Err(bad(format!("unknown sslmode '{other}'"))),
        };
        config.ssl_mode(match tls {
            Tls::Disable => SslMode::Disable,
            Tls::Prefer => SslMode::Prefer,
            Tls::Require | Tls::VerifyFull => SslMode::Require,
        });
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        // A server that goes away mid-statement is noticed, not waited for.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(10));
        config.tcp_user_timeout(Duration::from_secs(30));
        if config.get_application_name().is_none() {
            config.application_name("vitrine");
        }
        let password = env
            .get("PGPASSWORD")
            .map(String::from)
            .or_else(|| pgpass_password(&config, env));
        if let Some(password) = password {
            config.password(password);
        }
        let root_cert = root_cert
            .or_else(|| env.get("PGSSLROOTCERT").map(PathBuf::from))
            .or_else(|| env.home_file(".postgresql/root.crt"))
            .unwrap_or_default();
        Ok(TeamAddress {
            shown: without_password(given),
            config,
            tls,
            root_cert,
            catalogue,
        })
    }

    /// The address as shown (never with a password).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The catalogue's name given by the address (`catalogue=NAME`).
    pub fn catalogue(&self) -> Option<&str> {
        self.catalogue.as_deref()
    }

    /// The encryption asked for.
    pub fn tls(&self) -> Tls {
        self.tls
    }

    /// Connects, encrypted as the address says.
    pub fn connect(&self) -> Result<postgres::Client, StoreError> {
        let unreachable = |e: postgres::Error| StoreError::Unreachable {
            address: self.shown.clone(),
            reason: super::describe(&e),
        };
        match self.tls {
            Tls::Disable => self.config.connect(postgres::NoTls).map_err(unreachable),
            Tls::Prefer | Tls::Require | Tls::VerifyFull => {
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new(self.client_config()?);
                self.config.connect(tls).map_err(unreachable)
            }
        }
    }

    /// The TLS settings: certificates checked (verify-full) or not.
    fn client_config(&self) -> Result<rustls::ClientConfig, StoreError> {
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Address {
                given: self.shown.clone(),
                reason: e.to_string(),
            })?;
        Ok(match self.tls {
            Tls::VerifyFull => {
                use rustls::pki_types::CertificateDer;
                use rustls::pki_types::pem::PemObject;
                let bad = |reason: String| StoreError::Address {
                    given: self.shown.clone(),
                    reason: format!(
                        "sslmode=verify-full: root certificates {}: {reason}",
                        self.root_cert.display()
                    ),
                };
                let mut roots = rustls::RootCertStore::empty();
                let certs = CertificateDer::pem_file_iter(&self.root_cert)
                    .map_err(|e| bad(e.to_string()))?;
                for cert in certs {
                    roots
                        .add(cert.map_err(|e| bad(e.to_string()))?)
                        .map_err(|e| bad(e.to_string()))?;
                }
                if roots.is_empty() {
                    return Err(bad("no certificate in the file".into()));
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            _ => builder
                .dangerous()
                .with_custom_certificate_verifier(std::sync::Arc::new(Unchecked(provider)))
                .with_no_client_auth(),
        })
    }
}

/// libpq's `require`: the connection is encrypted and the server's handshake signatures are
/// checked, but not who signed its certificate.
#[derive(Debug)]
struct Unchecked(std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `given` with any `user:password@` reduced to `user@` and any `password=` option left out.
fn without_password(given: &str) -> String {
    let (base, query) = match given.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (given, None),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find('/').unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(end);
            match authority.rsplit_once('@') {
                Some((userinfo, host)) if userinfo.contains(':') => {
                    let user = userinfo.split(':').next().unwrap_or("");
                    format!("{scheme}://{user}@{host}{tail}")
                }
                _ => base.to_string(),
            }
        }
        None => base.to_string(),
    };
    match query {
        Some(query) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|pair| !pair.starts_with("password="))
                .collect();
            if kept.is_empty() {
                base
            } else {
                format!("{base}?{}", kept.join("&"))
            }
        }
        None => base,
    }
}

/// Decodes `%XX` escapes.
fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).ok_or("a cut-off % escape")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("bad escape %{hex}"))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "not UTF-8".into())
}

/// libpq's default host: the local socket folder where it exists, else `localhost`.
fn default_host() -> String {
    ["/var/run/postgresql", "/tmp"]
        .into_iter()
        .find(|d| Path::new(d).is_dir())
        .unwrap_or("localhost")
        .to_string()
}

/// The operating system user, libpq's default role name.
fn whoami_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "postgres".into())
}

/// The settings of service `name` from the user's service file (`PGSERVICEFILE`, default
/// `~/.pg_service.conf`) or the system one (`PGSYSCONFDIR/pg_service.conf`).
fn read_service(name: &str, env: &Environment) -> Result<Vec<(String, String)>, String> {
    let files: Vec<PathBuf> = [
        env.get("PGSERVICEFILE")
            .map(PathBuf::from)
            .or_else(|| env.home_file(".pg_service.conf")),
        env.get("PGSYSCONFDIR")
            .map(|d| Path::new(d).join("pg_service.conf")),
        Some(PathBuf::from("/etc/postgresql-common/pg_service.conf")),
    ]
    .into_iter()
    .flatten()
    .collect();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let mut in_section = false;
        let mut found = None;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                in_section = section == name;
                if in_section {
                    found = Some(Vec::new());
                }
                continue;
            }
            if in_section {
                let Some((key, value)) = line.split_once('=') else {
                    return Err(format!(
                        "service file {} line {}: not key=value",
                        file.display(),
                        number + 1
                    ));
                };
                if let Some(settings) = found.as_mut() {
                    settings.push((key.trim().to_string(), value.trim().to_string()));
                }
            }
        }
        if let Some(settings) = found {
            return Ok(settings);
        }
    }
    Err(format!(
        "no service '{name}' in {}",
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The password for this connection from the password file (`PGPASSFILE`, default
/// `~/.pgpass`): the first line whose host, port, database and user match (`*` matches
/// anything; `localhost` matches a local socket). Like libpq, a file that others may read is
/// ignored.
fn pgpass_password(config: &postgres::Config, env: &Environment) -> Option<String> {
    let file = env
        .get("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| env.home_file(".pgpass"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            return None;
        }
    }
    let text = std::fs::read_to_string(&file).ok()?;
    let host = match config.get_hosts().first()? {
        Host::Tcp(name) => name.clone(),
        #[cfg(unix)]
        Host::Unix(_) => "localhost".into(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let db = config.get_dbname().unwrap_or("");
    let user = config.get_user().unwrap_or("");
    let wanted = [host.as_str(), port.as_str(), db, user];
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|line| {
            let fields = pgpass_fields(line);
            if fields.len() != 5 {
                return None;
            }
            let matches = fields[..4]
                .iter()
                .zip(wanted)
                .all(|(field, want)| field == "*" || field == want);
            matches.then(|| fields[4].clone())
        })
}

/// The `:`-separated fields of a password file line (`\:` and `\\` escape).
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next()
                    && let Some(field) = fields.last_mut()
                {
                    field.push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => {
                if let Some(field) = fields.last_mut() {
                    field.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Environment {
        Environment {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn a_password_in_the_address_is_refused_and_not_repeated() {
        for given in [
            "postgres://ann:secret@db.example/team",
            "postgres://db.example/team?password=secret",
        ] {
            let error = TeamAddress::parse(given, &env(&[]))
                .unwrap_err()
                .to_string();
            assert!(error.contains("~/.pgpass"), "{error}");
            assert!(!error.contains("secret"), "{error}");
        }
    }

    #[test]
    fn settings_come_from_the_address_then_the_environment() {
        let vars = env(&[
            ("PGHOST", "envhost"),
            ("PGPORT", "6543"),
            ("PGUSER", "bob"),
            ("PGPASSWORD", "pw"),
        ]);
        let a = TeamAddress::parse("postgres:///labels?catalogue=myntra", &vars).unwrap();
        assert_eq!(a.config.get_hosts(), [Host::Tcp("envhost".into())]);
        assert_eq!(a.config.get_ports(), [6543]);
        assert_eq!(a.config.get_user(), Some("bob"));
        assert_eq!(a.config.get_dbname(), Some("labels"));
        assert_eq!(a.config.get_password(), Some(&b"pw"[..]));
        assert_eq!(a.catalogue(), Some("myntra"));
        assert_eq!(a.tls(), Tls::Prefer);
        let b =
            TeamAddress::parse("postgresql://ann@db:5433/team?sslmode=verify-full", &vars).unwrap();
        assert_eq!(b.config.get_hosts(), [Host::Tcp("db".into())]);
        assert_eq!(b.config.get_ports(), [5433]);
        assert_eq!(b.config.get_user(), Some("ann"));
        assert_eq!(b.tls(), Tls::VerifyFull);
        assert!(format!("{b:?}").contains("postgresql://ann@db:5433/team"));
        assert!(
            !format!("{a:?}").contains("pw"),
            "no password in debug output"
        );
        assert!(TeamAddress::parse("postgres://db/x?sslmode=sometimes", &vars).is_err());
        assert!(!is_team("/tmp/postgres://x") && is_team("POSTGRES://db/x"));
    }

    #[test]
    fn the_password_file_is_matched_field_by_field() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:team:ann:wrong\ndb:5432:team:ann:right\\:one\n*:*:*:*:any\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let vars = env(&[("PGPASSFILE", file.to_str().unwrap())]);
        let a = TeamAddress::parse("postgres://ann@db/team", &vars).unwrap();
        assert_eq!(a.config.get_password(), Some(&b"right:one"[..]));
        let b = TeamAddress::parse("postgres://zed@elsewhere/x", &vars).unwrap();
        assert_eq!(b.config.get_password(), Some(&b"any"[..]));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let c = TeamAddress::parse("postgres://ann@db/team", &vars).unwrap();
        assert_eq!(
            c.config.get_password(),
            None,
            "a file others can read is ignored"
        );
    }

    #[test]
    fn a_service_file_gives_the_settings() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("services");
        std::fs::write(
            &file,
            "[other]\nhost=x\n[team]\nhost=svc-host\nport=7000\ndbname=labels\nuser=cara\n",
        )
        .unwrap();
        let vars = env(&[("PGSERVICEFILE", file.to_str().unwrap())]);
        let a = TeamAddress::parse("postgres://?service=team", &vars).unwrap();
        assert_eq!(a.config.get_hosts(), [Host::Tcp("svc-host".into())]);
        assert_eq!(a.config.get_ports(), [7000]);
        assert_eq!(a.config.get_dbname(), Some("labels"));
        assert_eq!(a.config.get_user(), Some("cara"));
        let missing = TeamAddress::parse("postgres://?service=nope", &vars).unwrap_err();
        assert!(
            missing.to_string().contains("no service 'nope'"),
            "{missing}"
        );
    }
}
