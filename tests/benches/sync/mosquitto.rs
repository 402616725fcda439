//! Part d: Debian's Mosquitto under the same client load.

use super::*;

/// Part d: (messages/s received by the subscriber, PUBACKs/s to publishers).
pub(crate) async fn mosquitto_rate(
    dir: &Path,
    name: &str,
    extra_config: &str,
    payload_len: usize,
) -> Result<(f64, f64), String> {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

    let mosquitto = Path::new("/usr/sbin/mosquitto");
    if !mosquitto.exists() {
        return Err("/usr/sbin/mosquitto is not installed (apt-get install mosquitto)".into());
    }
    let port = free_port();
    let conf = dir.join(format!("{name}.conf"));
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n{extra_config}"
        ),
    )
    .map_err(|e| e.to_string())?;
    let log_path = dir.join(format!("{name}.log"));
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    let child = Command::new(mosquitto)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start mosquitto: {e}"))?;
    let _guard = KillOnDrop(child);
    if !wait_for_port(port, Duration::from_secs(10)).await {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        return Err(format!("mosquitto did not listen on {port}: {log}"));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicU64::new(0));
    let pubacks = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();

    // The subscriber.
    let mut options = MqttOptions::new(format!("{name}-sub"), "127.0.0.1", port);
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_max_packet_size(64 * 1024, 64 * 1024);
    let (sub, mut events) = AsyncClient::new(options, 10);
    nodelay(&mut events);
    sub.subscribe("bench/+", QoS::AtLeastOnce)
        .await
        .map_err(|e| e.to_string())?;
    let subscribed = Arc::new(tokio::sync::Notify::new());
    {
        let (received, subscribed, stop) = (received.clone(), subscribed.clone(), stop.clone());
        tasks.spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::Publish(_))) => {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => subscribed.notify_one(),
                    Ok(_) => {}
                    Err(e) => {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        eprintln!("d: subscriber: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
    }
    tokio::time::timeout(Duration::from_secs(10), subscribed.notified())
        .await
        .map_err(|_| "the subscriber got no SUBACK from mosquitto".to_owned())?;

    // The publishers.
    let payload = vec![0xa5u8; payload_len];
    let mut clients = Vec::new();
    for i in 0..LOAD_UNITS {
        let mut options = MqttOptions::new(format!("bench-pub-{i}"), "127.0.0.1", port);
        options
            .set_keep_alive(Duration::from_secs(30))
            .set_inflight(WINDOW as u16);
        let (client, mut events) = AsyncClient::new(options, 10);
        nodelay(&mut events);
        let (pubacks, stopping) = (pubacks.clone(), stop.clone());
        tasks.spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        pubacks.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        if stopping.load(Ordering::Relaxed) {
                            return;
                        }
                        eprintln!("d: publisher {i}: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        let (topic, payload, stop, publisher) = (
            format!("bench/{i}"),
            payload.clone(),
            stop.clone(),
            client.clone(),
        );
        tasks.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if publisher
                    .publish(topic.as_str(), QoS::AtLeastOnce, false, payload.clone())
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        clients.push(client);
    }
    tokio::time::sleep(Duration::from_secs(1)).await; // warm-up
    let (r0, a0, t0) = (
        received.load(Ordering::Relaxed),
        pubacks.load(Ordering::Relaxed),
        Instant::now(),
    );
    tokio::time::sleep(LOAD_FOR).await;
    let (r1, a1, elapsed) = (
        received.load(Ordering::Relaxed),
        pubacks.load(Ordering::Relaxed),
        t0.elapsed().as_secs_f64(),
    );
    stop.store(true, Ordering::Relaxed);
    for c in &clients {
        let _ = c.try_disconnect();
    }
    let _ = sub.try_disconnect();
    tasks.abort_all();
    Ok(((r1 - r0) as f64 / elapsed, (a1 - a0) as f64 / elapsed))
}

/// TCP_NODELAY on a client: without it the subscriber's small PUBACKs
/// wait for delayed ACKs and cap the relay at ~600 msg/s.
fn nodelay(events: &mut rumqttc::EventLoop) {
    let mut options = events.network_options();
    options.set_tcp_nodelay(true);
    events.set_network_options(options);
}

pub(crate) fn mosquitto_version() -> String {
    Command::new("/usr/sbin/mosquitto")
        .arg("-h")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("mosquitto version "))
                .map(str::to_owned)
        })
        .unwrap_or_default()
}
