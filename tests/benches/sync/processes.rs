//! Part e1/e2: the hub and the fleet in separate processes, for honest
//! per-process memory figures.

use super::*;

/// e1/e2: the hub and the fleet each in its own process.
pub(crate) async fn separate_processes(
    dir: &Path,
    ca: &Ca,
    hub_cert: &picket_deploy::IssuedCert,
    binaries: Result<(PathBuf, PathBuf), String>,
) -> Result<Vec<String>, String> {
    let (hub_bin, sim_bin) = binaries?;
    let base = dir.join("separate");
    let hub_dir = base.join("hub");
    let bundles = base.join("bundles");
    std::fs::create_dir_all(&hub_dir).map_err(|e| e.to_string())?;
    ca.write_cert(&hub_dir).map_err(|e| e.to_string())?;
    hub_cert
        .write(&hub_dir, "hub", ExistingFiles::Refuse)
        .map_err(|e| e.to_string())?;
    let port = free_port();
    std::fs::write(
        hub_dir.join("hub.toml"),
        format!(
            "data_dir = \"data\"\n\n[mqtt]\nlisten = \"127.0.0.1:{port}\"\nca = \"ca.pem\"\ncert = \"hub.pem\"\nkey = \"hub.key\"\n\n[api]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"operator.token\"\n"
        ),
    )
    .map_err(|e| e.to_string())?;

    let t = Instant::now();
    let site = SiteId::v7(jiff::Timestamp::now(), [0x5e; 10]);
    for i in 0..MANY {
        provision_unit(
            ca,
            &ProvisionRequest {
                site,
                unit: None,
                out_dir: bundles.join(format!("unit-{i:04}")),
                mqtt: format!("127.0.0.1:{port}"),
                https: "https://127.0.0.1:8443".to_owned(),
                hardware: Hardware::Sim {
                    socket: "sim.sock".to_owned(),
                },
                existing: ExistingFiles::Refuse,
            },
        )
        .map_err(|e| format!("provisioning unit {i}: {e}"))?;
    }
    println!(
        "(provisioned {MANY} unit bundles in {:.1} s; hub {}, fleet {})",
        t.elapsed().as_secs_f64(),
        hub_bin.display(),
        sim_bin.display()
    );

    let hub_log = std::fs::File::create(base.join("hub.log")).map_err(|e| e.to_string())?;
    let hub = Command::new(&hub_bin)
        .args(["serve", "--log", "warn", "--config"])
        .arg(hub_dir.join("hub.toml"))
        .stdout(Stdio::null())
        .stderr(hub_log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", hub_bin.display()))?;
    let hub = KillOnDrop(hub);
    let hub_pid = hub.0.id().to_string();
    if !wait_for_port(port, Duration::from_secs(15)).await {
        let log = std::fs::read_to_string(base.join("hub.log")).unwrap_or_default();
        return Err(format!("picket-hub serve did not listen on {port}: {log}"));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let hub_before = rss_kib(&hub_pid).ok_or("cannot read the hub's RSS")?;

    let fleet_log = std::fs::File::create(base.join("fleet.log")).map_err(|e| e.to_string())?;
    let mut fleet = Command::new(&sim_bin)
        .args([
            "fleet",
            "--rate",
            "0",
            "--duration",
            "120",
            "--connect-spread-s",
            "2",
        ])
        .args(["--count", &MANY.to_string(), "--bundles"])
        .arg(&bundles)
        .stdout(Stdio::piped())
        .stderr(fleet_log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", sim_bin.display()))?;
    let stdout = fleet.stdout.take().ok_or("no fleet stdout")?;
    let fleet = KillOnDrop(fleet);
    let fleet_pid = fleet.0.id().to_string();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    'connecting: loop {
        while let Ok(line) = lines_rx.try_recv() {
            let done = line.starts_with("all ") && line.contains("units connected");
            last = line;
            if done {
                break 'connecting;
            }
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(base.join("fleet.log")).unwrap_or_default();
            return Err(format!(
                "the fleet process did not connect all {MANY} units within 60 s; last line: {last:?}; log tail: {}",
                tail(&log, 600)
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("(fleet process: {last})");
    tokio::time::sleep(Duration::from_secs(6)).await; // one heartbeat round
    let hub_after = rss_kib(&hub_pid).ok_or("cannot read the hub's RSS")?;
    let fleet_rss = rss_kib(&fleet_pid).ok_or("cannot read the fleet's RSS")?;
    let status = last_status_line(&lines_rx);
    Ok(vec![
        format!(
            "e1. memory, HUB ONLY (picket-hub serve in its own process, {MANY} units from a separate picket-sim fleet process, after a heartbeat round): RSS {:.1} → {:.1} MiB = {:.1} KiB per connected unit",
            mib(hub_before),
            mib(hub_after),
            per_unit(hub_before, hub_after, MANY)
        ),
        format!(
            "e2. memory, fleet clients only (picket-sim fleet process, {MANY} units, rumqttc + rustls + outbox): RSS {:.1} MiB = {:.1} KiB per unit{}",
            mib(fleet_rss),
            fleet_rss as f64 / MANY as f64,
            status.map(|s| format!(" [{s}]")).unwrap_or_default()
        ),
    ])
}

/// The most recent progress line of the fleet process, if any arrived.
fn last_status_line(lines: &std::sync::mpsc::Receiver<String>) -> Option<String> {
    let mut last = None;
    while let Ok(line) = lines.try_recv() {
        if line.starts_with("t=") {
            last = Some(line.split(" | ").next().unwrap_or(&line).to_owned());
        }
    }
    last
}

/// The `picket-hub` and `picket-sim` binaries next to this bench (release),
/// or in the debug directory; builds them first unless told not to.
pub(crate) fn binaries() -> Result<(PathBuf, PathBuf), String> {
    let root = picket_tests::workspace_root();
    if std::env::var_os("PICKET_BENCH_NO_BUILD").is_none() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let t = Instant::now();
        let mut child = Command::new(cargo)
            .current_dir(&root)
            .args([
                "build",
                "--release",
                "-q",
                "-p",
                "picket-hub",
                "-p",
                "picket-sim",
                "--bins",
            ])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run cargo build: {e}"))?;
        let limit = Duration::from_secs(240);
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => break,
                Ok(Some(status)) => {
                    return Err(format!("cargo build of the binaries failed: {status}"));
                }
                Ok(None) if t.elapsed() > limit => {
                    let _ = child.kill();
                    let _ = child.wait();
                    println!("(building the binaries took over {limit:?}; using what is there)");
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(200)),
                Err(e) => return Err(e.to_string()),
            }
        }
        println!(
            "(cargo build --release -p picket-hub -p picket-sim for part e: {:.0} s, before the measurements)",
            t.elapsed().as_secs_f64()
        );
    }
    // This bench runs from <target>/release/deps/.
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent()?.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| root.join("target"));
    for profile in ["release", "debug"] {
        let hub = target.join(profile).join("picket-hub");
        let sim = target.join(profile).join("picket-sim");
        if hub.is_file() && sim.is_file() {
            return Ok((hub, sim));
        }
    }
    Err(format!(
        "no picket-hub and picket-sim binaries under {}; run `cargo build --release -p picket-hub -p picket-sim`",
        target.display()
    ))
}
