//! The sensor simulator over real Unix sockets.

mod support;

use picket_proto::arming::ArmState;
use picket_proto::level::SensorKind;
use picket_proto::message::PowerEvent;
use picket_proto::sim::SimMessage;
use picket_sim::Error;
use picket_sim::control::{self, Client};
use picket_sim::sensors::{Outputs, Simulator};
use support::{Peer, eventually, other_unit, start, unit};

fn pir() -> SimMessage {
    SimMessage::Trigger {
        unit: unit(),
        sensor: "pir-1".into(),
        kind: SensorKind::Motion,
    }
}

#[tokio::test]
async fn trigger_reaches_the_agent_and_control_gets_delivered() {
    let sim = start().await;
    let mut agent = Peer::agent(&sim, unit()).await;

    control::trigger(&sim.socket, pir()).await.unwrap();
    let line = agent.next_line().await.unwrap();
    assert_eq!(line, pir().to_line().trim_end());
    assert_eq!(SimMessage::from_line(&line).unwrap(), pir());

    let power = SimMessage::Power {
        unit: unit(),
        event: PowerEvent::MainsLost,
    };
    control::trigger(&sim.socket, power.clone()).await.unwrap();
    assert_eq!(agent.next_message().await, power);
    agent.assert_silent().await;
}

#[tokio::test]
async fn a_tamper_and_its_restore_reach_the_agent_in_order() {
    let sim = start().await;
    let mut agent = Peer::agent(&sim, unit()).await;
    let tamper = SimMessage::Trigger {
        unit: unit(),
        sensor: "tamper-1".into(),
        kind: SensorKind::Tamper,
    };
    let restored = SimMessage::TamperRestored {
        unit: unit(),
        sensor: "tamper-1".into(),
    };
    let mut client = Client::connect(&sim.socket).await.unwrap();
    for message in [&tamper, &restored] {
        client.request(message).await.unwrap();
        assert_eq!(&agent.next_message().await, message);
    }
    agent.assert_silent().await;

    let err = control::trigger(
        &sim.socket,
        SimMessage::TamperRestored {
            unit: other_unit(),
            sensor: "tamper-1".into(),
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("is not connected"), "{err}");
}

#[tokio::test]
async fn only_the_addressed_unit_receives_the_trigger() {
    let sim = start().await;
    let mut agent = Peer::agent(&sim, unit()).await;
    let mut other = Peer::agent(&sim, other_unit()).await;

    control::trigger(&sim.socket, pir()).await.unwrap();
    assert_eq!(agent.next_message().await, pir());
    other.assert_silent().await;
}

#[tokio::test]
async fn triggering_an_unconnected_unit_fails_with_the_reason() {
    let sim = start().await;
    let err = control::trigger(&sim.socket, pir()).await.unwrap_err();
    match err {
        Error::NotDelivered { reason } => {
            assert_eq!(reason, format!("unit {} is not connected", unit()));
        }
        other => panic!("expected NotDelivered, got {other:?}"),
    }
}

#[tokio::test]
async fn garbage_is_refused_and_the_control_connection_keeps_working() {
    let sim = start().await;
    let mut agent = Peer::agent(&sim, unit()).await;
    let mut control = Peer::connect(&sim).await;

    control.send_raw(b"this is not json\n").await;
    let SimMessage::Failed { reason } = control.next_message().await else {
        panic!("expected Failed");
    };
    assert!(reason.contains("not a simulator message"), "{reason}");

    let mut long = vec![b'x'; 5000];
    long.push(b'\n');
    control.send_raw(&long).await;
    let SimMessage::Failed { reason } = control.next_message().await else {
        panic!("expected Failed");
    };
    assert_eq!(reason, "line of 5000 bytes exceeds 4096");

    control.send_raw(b"\xff\xfe\n").await;
    assert!(matches!(
        control.next_message().await,
        SimMessage::Failed { .. }
    ));

    assert_eq!(control.request(&pir()).await, SimMessage::Delivered);
    assert_eq!(agent.next_message().await, pir());
}

#[tokio::test]
async fn one_control_connection_sends_several_requests() {
    let sim = start().await;
    let mut agent = Peer::agent(&sim, unit()).await;
    let mut client = Client::connect(&sim.socket).await.unwrap();
    for _ in 0..3 {
        client.request(&pir()).await.unwrap();
        assert_eq!(agent.next_message().await, pir());
    }
    let err = client
        .request(&SimMessage::Trigger {
            unit: other_unit(),
            sensor: "door-1".into(),
            kind: SensorKind::Door,
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is not connected"), "{err}");
    client.request(&pir()).await.unwrap();
}

#[tokio::test]
async fn control_messages_out_of_place_are_refused() {
    let sim = start().await;
    let mut control = Peer::connect(&sim).await;
    let outputs = SimMessage::Outputs {
        state: ArmState::Armed,
        siren: false,
        strobe: false,
    };
    let SimMessage::Failed { reason } = control.request(&outputs).await else {
        panic!("expected Failed");
    };
    assert!(reason.contains("hello first"), "{reason}");

    // After a request, a connection cannot become an agent.
    let _ = control.request(&pir()).await;
    let answer = control.request(&SimMessage::Hello { unit: unit() }).await;
    assert!(matches!(answer, SimMessage::Failed { .. }), "{answer:?}");
    assert!(sim.running.handle().connected_units().await.is_empty());
}

#[tokio::test]
async fn outputs_reported_by_the_agent_are_visible_via_the_handle() {
    let sim = start().await;
    let handle = sim.running.handle().clone();
    assert_eq!(handle.outputs(unit()).await, None);

    let mut agent = Peer::agent(&sim, unit()).await;
    agent
        .send(&SimMessage::Outputs {
            state: ArmState::Armed,
            siren: true,
            strobe: false,
        })
        .await;
    let expected = Outputs {
        state: ArmState::Armed,
        siren: true,
        strobe: false,
    };
    eventually("outputs recorded", || {
        let handle = handle.clone();
        async move { handle.outputs(unit()).await == Some(expected) }
    })
    .await;
    assert_eq!(handle.outputs(other_unit()).await, None);

    // Kept after the agent leaves: the last thing it showed.
    drop(agent);
    eventually("agent gone", || {
        let handle = handle.clone();
        async move { handle.connected_units().await.is_empty() }
    })
    .await;
    assert_eq!(handle.outputs(unit()).await, Some(expected));
}

#[tokio::test]
async fn a_reconnecting_unit_replaces_the_old_connection() {
    let sim = start().await;
    let handle = sim.running.handle().clone();
    let mut old = Peer::agent(&sim, unit()).await;
    let mut new = Peer::agent(&sim, unit()).await;

    // The old connection is closed by the simulator.
    assert_eq!(old.next_line().await, None);
    assert_eq!(handle.connected_units().await, [unit()]);

    control::trigger(&sim.socket, pir()).await.unwrap();
    assert_eq!(new.next_message().await, pir());

    // Outputs and disconnects of the old connection no longer count; the
    // new one's do.
    new.send(&SimMessage::Outputs {
        state: ArmState::Disarmed,
        siren: false,
        strobe: true,
    })
    .await;
    eventually("new outputs recorded", || {
        let handle = handle.clone();
        async move { handle.outputs(unit()).await.is_some_and(|o| o.strobe) }
    })
    .await;
    drop(old);
    control::trigger(&sim.socket, pir()).await.unwrap();
    assert_eq!(new.next_message().await, pir());
}

#[tokio::test]
async fn a_second_simulator_on_a_live_socket_is_refused_and_shutdown_cleans_up() {
    let sim = start().await;
    let mut agent = Peer::agent(&sim, unit()).await;
    assert!(matches!(
        Simulator::bind(&sim.socket),
        Err(Error::InUse { .. })
    ));

    let socket = sim.socket.clone();
    sim.running.shutdown().await.unwrap();
    assert_eq!(agent.next_line().await, None, "agents are disconnected");
    assert!(!socket.exists(), "socket file removed");
    let err = control::trigger(&socket, pir()).await.unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
}

#[tokio::test]
async fn a_trigger_counts_as_delivered_only_once_the_unit_recorded_it() {
    let sim = support::start().await;
    let mut agent = Peer::forgetful_agent(&sim, unit()).await;
    let mut control = Peer::connect(&sim).await;
    control.send(&pir()).await;
    assert_eq!(agent.next_message().await, pir());
    control.assert_silent().await;
    // The agent goes away without recording it: the request fails.
    drop(agent);
    let SimMessage::Failed { reason } = control.next_message().await else {
        panic!("expected Failed");
    };
    assert!(reason.contains("disconnected before recording"), "{reason}");
}
