//! A throwaway PostgreSQL cluster for the team store's tests: the server binaries of the
//! machine (`initdb`, `pg_ctl`; as the `postgres` user when the tests run as root, since
//! initdb refuses root), a data folder and socket in a temporary folder, a free loopback port,
//! stopped when the test process exits. No mock: the tests talk to a real server.
//!
//! Where no server binaries are installed the team tests are skipped with one line, except
//! under CI (`CI` set), where that is a failure (`.ci/run` installs the server).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The superuser the cluster is made with (it runs the migrations).
pub const ADMIN: &str = "vitrine_admin";
/// The database the tests use.
pub const DATABASE: &str = "vitrine";

/// A running cluster.
pub struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    socket: PathBuf,
    port: u16,
    run_as_postgres: bool,
    roles: Mutex<Vec<String>>,
    /// The folder of the certificates (`ca.crt`, which signed the server's, for `localhost`
    /// and 127.0.0.1; `other-ca.crt`, which did not), where `openssl` made them.
    certificates: Option<PathBuf>,
}

static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
/// Whether the cluster syncs its writes to disk (benchmarks of durable writes); tests run
/// without, which is faster and tests the same statements.
static DURABLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// [`cluster`], syncing every commit to disk as a real server does (`fsync=on`), when it is
/// the first to start it.
pub fn durable_cluster() -> Option<&'static Cluster> {
    DURABLE.store(true, std::sync::atomic::Ordering::SeqCst);
    cluster()
}

/// The cluster shared by the tests of this process, started on first use; `None` (after one
/// line saying so) where the machine has no PostgreSQL server.
pub fn cluster() -> Option<&'static Cluster> {
    CLUSTER.get_or_init(start).as_ref()
}

fn server_binaries() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
    })
}

fn start() -> Option<Cluster> {
    let Some(bin) = server_binaries() else {
        let message = "no PostgreSQL server binaries (initdb, pg_ctl): team store tests skipped \
                       (install the postgresql package)";
        if std::env::var_os("CI").is_some() {
            panic!("{message}");
        }
        eprintln!("{message}");
        return None;
    };
    let root = unsafe { libc::geteuid() } == 0;
    let base = std::env::temp_dir().join(format!("vitrine-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let data = base.join("data");
    let socket = base.join("socket");
    std::fs::create_dir_all(&socket).unwrap();
    if root {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&base)
            .status()
            .unwrap();
        assert!(chown.success(), "chown to postgres failed");
    }
    let port = free_port();
    let cluster = Cluster {
        bin,
        data,
        socket,
        port,
        run_as_postgres: root,
        roles: Mutex::new(Vec::new()),
        certificates: None,
    };
    let mut cluster = cluster;
    let initdb = cluster
        .command("initdb")
        .args(["-U", ADMIN, "--auth=trust", "-E", "UTF8", "--no-sync", "-D"])
        .arg(&cluster.data)
        .output()
        .unwrap();
    assert!(
        initdb.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&initdb.stderr)
    );
    // Loopback connections need a password (the password tests); the socket trusts.
    std::fs::write(
        cluster.data.join("pg_hba.conf"),
        format!(
            "local all all trust\nhost all {ADMIN} 127.0.0.1/32 trust\n\
             host all all 127.0.0.1/32 scram-sha-256\n"
        ),
    )
    .unwrap();
    cluster.certificates = certificates(&base, &cluster);
    cluster.pg_ctl_start();
    extern "C" fn stop_at_exit() {
        if let Some(Some(cluster)) = CLUSTER.get() {
            cluster.stop();
            let _ =
                std::fs::remove_dir_all(cluster.data.parent().unwrap_or(Path::new("/nonexistent")));
        }
    }
    unsafe {
        libc::atexit(stop_at_exit);
    }
    cluster.admin_sql(&format!("CREATE DATABASE {DATABASE}"));
    Some(cluster)
}

/// Makes a certificate authority and a server certificate it signs (for `localhost` and
/// 127.0.0.1), and another authority, in `base`, and turns the server's TLS on. `None` (and
/// no TLS) where `openssl` is missing, except under CI, where that fails.
fn certificates(base: &Path, cluster: &Cluster) -> Option<PathBuf> {
    if Command::new("openssl").arg("version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no openssl: the TLS tests need it (.ci/run installs it)"
        );
        eprintln!("no openssl: the team store's TLS tests are skipped");
        return None;
    }
    let dir = base.join("certificates");
    std::fs::create_dir_all(&dir).unwrap();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(&dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for ca in ["ca", "other-ca"] {
        openssl(&[
            "req",
            "-x509",
            "-new",
            "-nodes",
            "-newkey",
            "rsa:2048",
            "-days",
            "2",
            "-keyout",
            &format!("{ca}.key"),
            "-out",
            &format!("{ca}.crt"),
            "-subj",
            &format!("/CN=vitrine test {ca}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
    }
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "req",
        "-new",
        "-nodes",
        "-newkey",
        "rsa:2048",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "server.crt",
        "-extfile",
        "server.ext",
    ]);
    for file in ["server.crt", "server.key"] {
        std::fs::copy(dir.join(file), cluster.data.join(file)).unwrap();
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let key = cluster.data.join("server.key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    if cluster.run_as_postgres {
        let chown = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(cluster.data.join("server.crt"))
            .arg(cluster.data.join("server.key"))
            .status()
            .unwrap();
        assert!(chown.success());
    }
    use std::io::Write;
    let mut conf = std::fs::OpenOptions::new()
        .append(true)
        .open(cluster.data.join("postgresql.conf"))
        .unwrap();
    writeln!(
        conf,
        "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'"
    )
    .unwrap();
    Some(dir)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Cluster {
    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        if self.run_as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn pg_ctl_start(&self) {
        let fsync = if DURABLE.load(std::sync::atomic::Ordering::SeqCst) {
            "on"
        } else {
            "off"
        };
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync={fsync}",
            self.port,
            self.socket.display()
        );
        let output = self
            .command("pg_ctl")
            .args(["-w", "-t", "60", "-D"])
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.join("server.log"))
            .args(["-o", &options, "start"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Stops the server at once (as a crash would: `immediate`).
    pub fn stop(&self) {
        let _ = self
            .command("pg_ctl")
            .args(["-w", "-D"])
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }

    /// Ends every connection of `role` (as a network cut would, the server staying up).
    pub fn cut(&self, role: &str) {
        self.client(ADMIN)
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
                &[&role],
            )
            .unwrap();
    }

    /// Starts the server again after [`Cluster::stop`].
    pub fn start_again(&self) {
        self.pg_ctl_start();
    }

    /// The socket folder, percent-encoded for an address's host.
    fn host(&self) -> String {
        self.socket.to_string_lossy().replace('/', "%2F")
    }

    /// The address connecting as `role` over the socket (trusted: no password).
    pub fn url(&self, role: &str) -> String {
        format!("postgres://{role}@{}:{}/{DATABASE}", self.host(), self.port)
    }

    /// The address connecting as `role` over loopback TCP (a password is needed).
    pub fn tcp_url(&self, role: &str) -> String {
        format!(
            "postgres://{role}@127.0.0.1:{}/{DATABASE}?sslmode=disable",
            self.port
        )
    }

    /// The certificates' folder (see [`certificates`]), where the server has TLS.
    pub fn certificates(&self) -> Option<&Path> {
        self.certificates.as_deref()
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address of the administrator (it migrates the schema).
    pub fn admin_url(&self) -> String {
        self.url(ADMIN)
    }

    /// A plain client as `role`, for statements the tests make themselves.
    pub fn client(&self, role: &str) -> postgres::Client {
        postgres::Config::new()
            .host_path(&self.socket)
            .port(self.port)
            .user(role)
            .dbname(DATABASE)
            .connect(postgres::NoTls)
            .unwrap()
    }

    /// Runs `sql` as the administrator in the `postgres` database.
    fn admin_sql(&self, sql: &str) {
        let mut client = postgres::Config::new()
            .host_path(&self.socket)
            .port(self.port)
            .user(ADMIN)
            .dbname("postgres")
            .connect(postgres::NoTls)
            .unwrap();
        client.batch_execute(sql).unwrap();
    }

    /// Makes sure the schema exists (migrated through vitrine's own open, as the
    /// administrator) and that login role `name` exists in group `group`
    /// (`vitrine_moderator`, `vitrine_reader`...), with `password` for TCP connections.
    pub fn role(&self, name: &str, group: &str, password: &str) {
        let mut roles = self.roles.lock().unwrap();
        if roles.iter().any(|r| r == name) {
            return;
        }
        if roles.is_empty() {
            migrate(self);
        }
        let mut admin = self.client(ADMIN);
        admin
            .batch_execute(&format!(
                "CREATE ROLE {name} LOGIN PASSWORD '{password}' IN ROLE {group}"
            ))
            .unwrap();
        roles.push(name.to_string());
    }
}

/// Opens a store as the administrator once, which creates the schema and the group roles.
fn migrate(cluster: &Cluster) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(&manifest, "product_id,name,images,colour\np0,One,,Red\n").unwrap();
    let store = PathBuf::from(cluster.admin_url());
    vitrine::labels::open_workspace(
        &manifest,
        &vitrine::catalog::import::ImportOptions::default(),
        Some(&store),
    )
    .unwrap();
}

/// The engines the store suite runs on: the file, and the team store where a server is
/// installed.
pub enum Engine {
    /// The SQLite file beside the catalogue.
    File,
    /// The team store on the shared cluster.
    Team(&'static Cluster),
}

impl Engine {
    /// The file engine, and the team engine where a server is installed.
    pub fn all() -> Vec<Engine> {
        let mut engines = vec![Engine::File];
        engines.extend(cluster().map(Engine::Team));
        engines
    }

    /// The `--store` for writer `author`: none for a file (the author is a name the caller
    /// gives); the address connecting as role `author` (a moderator) for the team store.
    pub fn store(&self, author: &str) -> Option<PathBuf> {
        match self {
            Engine::File => None,
            Engine::Team(cluster) => {
                cluster.role(author, "vitrine_moderator", "pw");
                Some(PathBuf::from(cluster.url(author)))
            }
        }
    }

    /// [`Engine::store`] for a reviewer (in the team store, a member of the reviewer role).
    pub fn reviewer(&self, author: &str) -> Option<PathBuf> {
        match self {
            Engine::File => None,
            Engine::Team(cluster) => {
                cluster.role(author, "vitrine_reviewer", "pw");
                Some(PathBuf::from(cluster.url(author)))
            }
        }
    }

    /// A name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Engine::File => "file",
            Engine::Team(_) => "team",
        }
    }
}
