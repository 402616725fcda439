//! The relay in simulated time: frames carry their sequence number in
//! their capture instant, so a viewer's deliveries can be checked against
//! what the upstream sent.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use picket_proto::ids::{CameraId, UnitId};
use picket_proto::media::{MediaFrame, VideoCodec};
use proptest::prelude::*;

use super::*;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap() + SignedDuration::from_millis(ms)
}

/// Frame `seq` of the upstream, `size` bytes of access unit.
fn frame(seq: u64, key: bool, size: usize) -> MediaFrame {
    MediaFrame {
        codec: VideoCodec::H264,
        captured_at: at(seq as i64),
        parameter_sets: if key {
            vec![vec![0x67].into(), vec![0x68].into()]
        } else {
            Vec::new()
        },
        data: vec![seq as u8; size].into(),
    }
}

fn seq(frame: &MediaFrame) -> u64 {
    (frame.captured_at.as_millisecond() - at(0).as_millisecond()) as u64
}

fn seqs(frames: &[MediaFrame]) -> Vec<u64> {
    frames.iter().map(seq).collect()
}

fn events(stream: &mut Stream) -> Vec<Event> {
    std::iter::from_fn(|| stream.poll_event()).collect()
}

#[test]
fn a_new_viewer_starts_at_the_cached_keyframe() {
    let mut stream = Stream::new(RelayPolicy::default());
    let first = stream.join(at(0)).unwrap();
    assert_eq!(events(&mut stream), [Event::StartUpstream]);
    for n in 0..5 {
        stream.push(frame(n, n == 2, 100), at(n as i64));
    }
    assert_eq!(seqs(&stream.take(first).unwrap()), [2, 3, 4]);
    let late = stream.join(at(10)).unwrap();
    let got = stream.take(late).unwrap();
    assert!(got[0].is_key());
    assert_eq!(seqs(&got), [2, 3, 4]);
    assert!(events(&mut stream).is_empty(), "one upstream");
}

#[test]
fn a_new_viewer_without_a_cache_waits_for_the_next_keyframe() {
    let mut stream = Stream::new(RelayPolicy::default());
    let viewer = stream.join(at(0)).unwrap();
    stream.push(frame(0, false, 100), at(0));
    stream.push(frame(1, false, 100), at(1));
    assert_eq!(stream.take(viewer), Some(Vec::new()));
    stream.push(frame(2, true, 100), at(2));
    stream.push(frame(3, false, 100), at(3));
    assert_eq!(seqs(&stream.take(viewer).unwrap()), [2, 3]);
    assert_eq!(stream.viewer(viewer).unwrap().dropped_to_key, 0);
}

#[test]
fn a_gop_over_the_cache_cap_is_cut_and_new_viewers_wait() {
    let policy = RelayPolicy {
        gop_cache_bytes: 1000,
        ..RelayPolicy::default()
    };
    let mut stream = Stream::new(policy);
    stream.join(at(0)).unwrap();
    stream.push(frame(0, true, 400), at(0));
    stream.push(frame(1, false, 400), at(1));
    assert!(stream.metrics().cached_bytes > 0);
    stream.push(frame(2, false, 400), at(2));
    assert_eq!(stream.metrics().cached_bytes, 0, "cut whole");
    stream.push(frame(3, false, 10), at(3));
    let late = stream.join(at(4)).unwrap();
    assert_eq!(stream.take(late), Some(Vec::new()));
    stream.push(frame(4, true, 10), at(4));
    assert_eq!(seqs(&stream.take(late).unwrap()), [4]);
}

/// 25 frames a second, a keyframe a second.
fn camera(n: u64) -> MediaFrame {
    let key = n.is_multiple_of(25);
    frame(n, key, if key { 4000 } else { 800 })
}

#[test]
fn ten_viewers_one_never_reads() {
    let policy = RelayPolicy {
        viewer_queue_bytes: 16_000,
        max_viewers: 10,
        ..RelayPolicy::default()
    };
    let bound = policy.bound();
    let mut stream = Stream::new(policy);
    let viewers: Vec<ViewerId> = (0..10).map(|_| stream.join(at(0)).unwrap()).collect();
    assert_eq!(events(&mut stream), [Event::StartUpstream]);
    let (slow, fast) = viewers.split_first().unwrap();
    let mut got: BTreeMap<ViewerId, Vec<u64>> = BTreeMap::new();
    let mut disconnected = Vec::new();
    for n in 0..250 {
        let now = at(40 * n as i64);
        stream.push(camera(n), now);
        for viewer in fast {
            got.entry(*viewer)
                .or_default()
                .extend(seqs(&stream.take(*viewer).unwrap()));
        }
        let metrics = stream.metrics();
        assert!(metrics.queued_bytes + metrics.cached_bytes <= bound);
        assert!(
            stream
                .viewer(*slow)
                .is_none_or(|v| v.queued_bytes <= 16_000)
        );
        if n == 30 {
            // Its queue overflowed at frame 15 (a 4029-byte keyframe and
            // fourteen 818-byte deltas fill 16 000 bytes): it lost the rest
            // of the first GOP and resumed at the second keyframe.
            let slow = stream.viewer(*slow).unwrap();
            assert_eq!(slow.dropped_to_key, 1);
            assert_eq!(slow.frames_dropped, 25);
            assert_eq!(slow.queued_bytes, 4029 + 5 * 818);
        }
        disconnected.extend(events(&mut stream).into_iter().map(|e| (n, e)));
    }
    for viewer in fast {
        assert_eq!(got[viewer], (0..250).collect::<Vec<_>>());
    }
    // It overflows at frames 15, 40 and 65; the third drop within the
    // minute disconnects it.
    assert_eq!(
        disconnected,
        [(
            65,
            Event::Disconnected {
                viewer: *slow,
                reason: DisconnectReason::TooManyDrops
            }
        )]
    );
    assert_eq!(stream.take(*slow), None);
    let metrics = stream.metrics();
    assert_eq!((metrics.viewers, metrics.disconnected), (9, 1));
    assert_eq!(metrics.dropped_to_key, 3);
    assert_eq!(metrics.frames_out, 9 * 250);
    assert_eq!(metrics.frames_in, 250);
}

#[test]
fn a_slow_viewer_resumes_at_the_next_keyframe() {
    let policy = RelayPolicy {
        viewer_queue_bytes: 16_000,
        ..RelayPolicy::default()
    };
    let mut stream = Stream::new(policy);
    let viewer = stream.join(at(0)).unwrap();
    for n in 0..20 {
        stream.push(camera(n), at(40 * n as i64));
    }
    assert_eq!(stream.viewer(viewer).unwrap().dropped_to_key, 1);
    assert_eq!(stream.take(viewer), Some(Vec::new()));
    for n in 20..30 {
        stream.push(camera(n), at(40 * n as i64));
    }
    assert_eq!(
        seqs(&stream.take(viewer).unwrap()),
        (25..30).collect::<Vec<_>>()
    );
    assert!(
        events(&mut stream)
            .iter()
            .all(|e| *e == Event::StartUpstream)
    );
}

#[test]
fn a_viewer_that_stops_reading_is_disconnected_as_stalled() {
    let policy = RelayPolicy {
        stall_limit: SignedDuration::from_secs(2),
        ..RelayPolicy::default()
    };
    let mut stream = Stream::new(policy);
    let reader = stream.join(at(0)).unwrap();
    let stuck = stream.join(at(0)).unwrap();
    events(&mut stream);
    stream.push(camera(0), at(0));
    stream.take(stuck).unwrap();
    stream.push(camera(1), at(40));
    stream.take(reader).unwrap();
    assert_eq!(stream.poll_timeout(), Some(at(2040)));
    stream.handle_timeout(at(2039));
    assert!(events(&mut stream).is_empty());
    stream.handle_timeout(at(2040));
    assert_eq!(
        events(&mut stream),
        [Event::Disconnected {
            viewer: stuck,
            reason: DisconnectReason::Stalled
        }]
    );
    assert!(stream.viewer(reader).is_some());
    assert_eq!(
        stream.poll_timeout(),
        None,
        "the reader has nothing waiting"
    );
}

#[test]
fn the_last_viewer_leaving_stops_the_upstream_after_the_linger() {
    let mut stream = Stream::new(RelayPolicy::default());
    let a = stream.join(at(0)).unwrap();
    let b = stream.join(at(0)).unwrap();
    stream.push(camera(0), at(0));
    stream.take(b).unwrap();
    stream.leave(a, at(1000));
    assert_eq!(stream.poll_timeout(), None);
    stream.leave(b, at(5000));
    assert_eq!(stream.poll_timeout(), Some(at(15_000)));
    // The upstream keeps going while it lingers.
    stream.push(camera(1), at(6000));
    assert_eq!(stream.metrics().frames_in, 2);
    stream.handle_timeout(at(14_999));
    assert_eq!(events(&mut stream), [Event::StartUpstream]);
    stream.handle_timeout(at(15_000));
    assert_eq!(events(&mut stream), [Event::StopUpstream]);
    assert_eq!(stream.metrics().active_upstreams, 0);
    assert_eq!(stream.metrics().cached_bytes, 0);
    assert!(stream.is_idle());
    // Late frames after the stop are ignored.
    stream.push(camera(2), at(15_001));
    assert_eq!(stream.metrics().frames_ignored, 1);
    stream.join(at(20_000)).unwrap();
    assert_eq!(events(&mut stream), [Event::StartUpstream]);
}

#[test]
fn a_viewer_joining_during_the_linger_cancels_the_stop() {
    let mut stream = Stream::new(RelayPolicy::default());
    let a = stream.join(at(0)).unwrap();
    stream.push(camera(0), at(0));
    stream.leave(a, at(5000));
    let b = stream.join(at(12_000)).unwrap();
    assert_eq!(
        stream.poll_timeout(),
        Some(at(12_000) + SignedDuration::from_secs(15))
    );
    stream.take(b).unwrap();
    assert_eq!(stream.poll_timeout(), None);
    stream.handle_timeout(at(60_000));
    assert_eq!(events(&mut stream), [Event::StartUpstream], "never stopped");
    assert_eq!(stream.metrics().active_upstreams, 1);
}

#[test]
fn an_upstream_restart_resumes_viewers_at_the_next_keyframe() {
    let mut stream = Stream::new(RelayPolicy::default());
    let viewer = stream.join(at(0)).unwrap();
    stream.push(frame(0, true, 100), at(0));
    stream.push(frame(1, false, 100), at(1));
    stream.upstream_restarted();
    // The new session's first frames are deltas of a GOP we never saw.
    stream.push(frame(2, false, 100), at(2));
    stream.push(frame(3, false, 100), at(3));
    let late = stream.join(at(4)).unwrap();
    assert_eq!(seqs(&stream.take(viewer).unwrap()), [0, 1]);
    assert_eq!(stream.take(late), Some(Vec::new()));
    stream.push(frame(4, true, 100), at(4));
    stream.push(frame(5, false, 100), at(5));
    assert_eq!(seqs(&stream.take(viewer).unwrap()), [4, 5]);
    assert_eq!(seqs(&stream.take(late).unwrap()), [4, 5]);
    let metrics = stream.metrics();
    assert_eq!((metrics.disconnected, metrics.dropped_to_key), (0, 0));
}

#[test]
fn a_full_stream_refuses_viewers() {
    let mut stream = Stream::new(RelayPolicy {
        max_viewers: 1,
        ..RelayPolicy::default()
    });
    stream.join(at(0)).unwrap();
    assert_eq!(stream.join(at(0)), Err(JoinError::Full(1)));
}

#[test]
fn the_relay_routes_by_camera_and_keeps_totals() {
    let key = |n: u8| StreamKey {
        unit: UnitId::v7(at(0), [n; 10]),
        camera: CameraId::v7(at(0), [n; 10]),
    };
    let mut relay = Relay::new(RelayPolicy::default());
    let a = relay.join(key(1), at(0)).unwrap();
    let b = relay.join(key(2), at(0)).unwrap();
    let drained: Vec<_> = std::iter::from_fn(|| relay.poll_event()).collect();
    assert_eq!(
        drained,
        [
            (key(1), Event::StartUpstream),
            (key(2), Event::StartUpstream)
        ]
    );
    relay.push(key(1), camera(0), at(0));
    relay.push(key(3), camera(0), at(0));
    assert_eq!(relay.take(key(1), a).map(|f| f.len()), Some(1));
    assert_eq!(relay.take(key(2), b), Some(Vec::new()));
    assert_eq!(relay.metrics().active_upstreams, 2);
    relay.leave(key(1), a, at(1000));
    assert_eq!(relay.poll_timeout(), Some(at(11_000)));
    relay.handle_timeout(at(11_000));
    assert_eq!(relay.poll_event(), Some((key(1), Event::StopUpstream)));
    assert_eq!(relay.poll_event(), None);
    assert!(relay.stream(key(1)).is_none(), "forgotten once stopped");
    let metrics = relay.metrics();
    assert_eq!(metrics.active_upstreams, 1);
    assert_eq!(metrics.viewers, 1);
    assert_eq!((metrics.frames_in, metrics.frames_out), (1, 1));
    assert_eq!(metrics.frames_ignored, 1);
}

#[derive(Clone, Debug)]
enum Op {
    Push { key: bool, size: usize },
    Join,
    Leave(usize),
    Take(usize),
    Restart,
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (prop::bool::weighted(0.15), 1usize..900).prop_map(|(key, size)| Op::Push { key, size }),
        1 => Just(Op::Join),
        1 => any::<usize>().prop_map(Op::Leave),
        5 => any::<usize>().prop_map(Op::Take),
        1 => Just(Op::Restart),
        2 => (0i64..1500).prop_map(Op::Wait),
    ]
}

/// What one viewer was handed.
#[derive(Debug, Default)]
struct Seen {
    frames: Vec<u64>,
    gone: bool,
    /// Its drops as of its last frame.
    drops: u64,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_viewer_gets_decodable_runs_within_the_bound(ops in prop::collection::vec(op(), 1..200)) {
        let policy = RelayPolicy {
            gop_cache_bytes: 3000,
            viewer_queue_bytes: 4000,
            max_viewers: 4,
            linger: SignedDuration::from_secs(1),
            drops_before_disconnect: 3,
            drop_window: SignedDuration::from_secs(5),
            stall_limit: SignedDuration::from_secs(2),
        };
        let bound = policy.bound();
        let mut stream = Stream::new(policy);
        let mut now = at(0);
        let mut sent: Vec<MediaFrame> = Vec::new();
        let mut viewers: Vec<(ViewerId, Seen)> = Vec::new();
        // Where the upstream restarted: before which frame.
        let mut restarts: Vec<u64> = Vec::new();
        for op in ops {
            match op {
                Op::Push { key, size } => {
                    let frame = frame(sent.len() as u64, key, size);
                    sent.push(frame.clone());
                    stream.push(frame, now);
                }
                Op::Join => {
                    if let Ok(id) = stream.join(now) {
                        viewers.push((id, Seen::default()));
                    }
                }
                Op::Leave(i) if !viewers.is_empty() => {
                    let n = viewers.len();
                    let (id, seen) = &mut viewers[i % n];
                    stream.leave(*id, now);
                    seen.gone = true;
                }
                Op::Take(i) if !viewers.is_empty() => {
                    let n = viewers.len();
                    let (id, seen) = &mut viewers[i % n];
                    let drops = stream.viewer(*id).map(|v| v.dropped_to_key);
                    let taken = stream.take(*id);
                    prop_assert_eq!(taken.is_none(), seen.gone);
                    // A gap only where the viewer was dropped or the
                    // upstream restarted since its last frame.
                    let before = seen.frames.len();
                    let dropped = drops.is_some_and(|d| d > seen.drops);
                    for frame in taken.unwrap_or_default() {
                        prop_assert_eq!(&frame, &sent[seq(&frame) as usize], "a frame as sent");
                        if let Some(last) = seen.frames.last() {
                            let restarted = restarts.iter().any(|r| *last < *r && *r <= seq(&frame));
                            prop_assert!(
                                dropped || restarted || seq(&frame) == last + 1,
                                "a gap without a cause: {:?} then {}", seen.frames, seq(&frame)
                            );
                        }
                        seen.frames.push(seq(&frame));
                    }
                    if seen.frames.len() > before {
                        seen.drops = drops.unwrap_or(seen.drops);
                    }
                }
                Op::Leave(_) | Op::Take(_) => {}
                Op::Restart => {
                    restarts.push(sent.len() as u64);
                    stream.upstream_restarted();
                }
                Op::Wait(ms) => {
                    now += SignedDuration::from_millis(ms);
                    if stream.poll_timeout().is_some_and(|due| due <= now) {
                        stream.handle_timeout(now);
                    }
                }
            }
            while let Some(event) = stream.poll_event() {
                if let Event::Disconnected { viewer, .. } = event {
                    let seen = viewers.iter_mut().find(|(id, _)| *id == viewer).map(|(_, s)| s);
                    prop_assert!(seen.as_ref().is_some_and(|s| !s.gone), "disconnected once");
                    seen.unwrap().gone = true;
                }
            }
            let metrics = stream.metrics();
            prop_assert!(metrics.cached_bytes <= 3000);
            prop_assert!(metrics.queued_bytes + metrics.cached_bytes <= bound);
            for (id, seen) in &viewers {
                let queued = stream.viewer(*id).map(|v| v.queued_bytes);
                prop_assert_eq!(queued.is_none(), seen.gone);
                prop_assert!(queued.unwrap_or(0) <= 4000);
            }
        }
        for (_, seen) in &viewers {
            if let Some(first) = seen.frames.first() {
                prop_assert!(sent[*first as usize].is_key(), "starts at a keyframe");
            }
            for pair in seen.frames.windows(2) {
                prop_assert!(pair[0] < pair[1], "in order, once: {:?}", seen.frames);
                if pair[1] != pair[0] + 1 {
                    prop_assert!(sent[pair[1] as usize].is_key(), "a gap ends at a keyframe: {:?}", seen.frames);
                }
            }
        }
        let metrics = stream.metrics();
        let out: u64 = viewers.iter().map(|(_, s)| s.frames.len() as u64).sum();
        prop_assert_eq!(metrics.frames_out, out);
    }
}
