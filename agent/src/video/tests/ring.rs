use super::*;
use crate::video::{Coverage, Discontinuity, Ring, RingLimits, SettingsError};

/// A ring with `pre` seconds of pre-roll and room for anything.
fn roomy(pre: i64) -> Ring {
    Ring::new(RingLimits::new(secs(pre), usize::MAX).unwrap())
}

fn push_all(ring: &mut Ring, frames: &[Frame]) {
    for f in frames {
        assert_eq!(ring.push(f.clone()), None);
    }
}

fn first_seq(ring: &Ring) -> u64 {
    seq_of(ring.frames().next().unwrap())
}

#[test]
fn delta_frames_before_the_first_keyframe_are_discarded() {
    let mut cam = Camera::standard();
    cam.seq = 20; // joins mid-GOP: keyframe at 30
    let mut ring = roomy(10);
    push_all(&mut ring, &cam.frames(10));
    assert!(ring.is_empty());
    assert_eq!(ring.coverage(), Coverage::Empty);
    push_all(&mut ring, &cam.frames(5));
    assert_eq!(first_seq(&ring), 30);
    assert!(ring.frames().next().unwrap().is_key());
    assert_eq!(ring.len(), 5);
    assert_eq!(ring.stats().frames_discarded, 10);
}

#[test]
fn keeps_pre_roll_from_the_keyframe_at_or_before_it_and_no_more() {
    let mut cam = Camera::standard();
    let mut ring = roomy(10);
    let mut stream = Vec::new();
    for _ in 0..(60 * 30) {
        let f = cam.next_frame();
        stream.push(f.clone());
        ring.push(f);
        let newest = ring.frames().last().unwrap().captured_at();
        let wanted = newest - secs(10);
        let first = ring.frames().next().unwrap();
        assert!(first.is_key());
        if newest - secs(10) >= t0() {
            // Once the stream has run 10 s: exactly from the keyframe at or
            // before `newest − 10 s`.
            assert_eq!(first, keyframe_at_or_before(&stream, wanted));
            assert_eq!(ring.coverage(), Coverage::Full);
        } else {
            assert_eq!(seq_of(first), 0);
            assert_eq!(ring.coverage(), Coverage::Filling);
        }
        // At most pre-roll plus one GOP.
        assert!(ring.span() < secs(11), "{:?}", ring.span());
    }
    let stats = ring.stats();
    assert_eq!(stats.pre_roll_cuts, 0);
    assert_eq!(stats.gops_expired, 49);
    assert_eq!(
        ring.held_bytes(),
        ring.frames().map(Frame::footprint).sum::<usize>()
    );
}

#[test]
fn a_pre_roll_of_zero_keeps_only_the_current_gop() {
    let mut cam = Camera::new(30, 60);
    let mut ring = roomy(0);
    push_all(&mut ring, &cam.frames(60 * 3 + 17));
    assert_eq!(first_seq(&ring), 180);
    assert_eq!(ring.len(), 17);
    assert_eq!(ring.latest_gop().count(), 17);
    assert_eq!(ring.coverage(), Coverage::Full);
}

#[test]
fn the_byte_bound_drops_needed_gops_and_says_so() {
    // 30 fps, 1 s GOPs of 40 kB + 29 × 4 kB = 156 kB (plus records); room
    // for about three of the ten the pre-roll wants.
    let mut cam = Camera::standard();
    let bound = 500_000;
    let mut ring = Ring::new(RingLimits::new(secs(10), bound).unwrap());
    for _ in 0..(30 * 30) {
        ring.push(cam.next_frame());
        assert!(ring.held_bytes() <= bound);
        assert!(ring.frames().next().unwrap().is_key());
    }
    assert_eq!(ring.coverage(), Coverage::CutByBytes);
    assert!(ring.stats().pre_roll_cuts > 0);
    assert!(ring.span() < secs(4), "{:?}", ring.span());
    assert!(ring.span() >= secs(2), "{:?}", ring.span());
}

#[test]
fn a_cut_shows_until_the_ring_covers_the_pre_roll_again() {
    let mut cam = Camera::standard();
    let mut ring = Ring::new(RingLimits::new(secs(2), 500_000).unwrap());
    // 20 kB delta frames: a GOP of 620 kB no longer fits.
    cam.delta_size = 20_000;
    push_all(&mut ring, &cam.frames(45));
    assert_eq!(ring.stats().oversized_gops, 1);
    assert_eq!(ring.coverage(), Coverage::CutByBytes);
    // Back to small frames: three GOPs fit again.
    cam.delta_size = 4_000;
    push_all(&mut ring, &cam.frames(30 * 4));
    assert_eq!(ring.coverage(), Coverage::Full);
}

#[test]
fn a_gop_larger_than_the_bound_is_dropped_and_the_ring_waits_for_a_keyframe() {
    let mut cam = Camera::standard();
    cam.delta_size = 30_000; // a GOP of about 910 kB
    let mut ring = Ring::new(RingLimits::new(secs(10), 600_000).unwrap());
    let frames = cam.frames(40);
    for f in &frames {
        ring.push(f.clone());
        assert!(ring.held_bytes() <= 600_000);
    }
    assert_eq!(ring.stats().oversized_gops, 1);
    // The second GOP (from frame 30) is held, as far as it fits.
    assert_eq!(first_seq(&ring), 30);
    assert!(ring.frames().next().unwrap().is_key());
}

#[test]
fn time_going_backwards_empties_the_ring() {
    let mut cam = Camera::standard();
    let mut ring = roomy(10);
    push_all(&mut ring, &cam.frames(5 * 30 + 3));
    let last = cam.at - cam.step;
    // The camera's clock jumps back a second, mid-GOP.
    cam.jump(secs(-1));
    let back = cam.next_frame();
    assert_eq!(
        ring.push(back.clone()),
        Some(Discontinuity::Backwards {
            last,
            next: back.captured_at()
        })
    );
    assert!(ring.is_empty(), "a delta frame after the jump is discarded");
    push_all(&mut ring, &cam.frames(26));
    assert!(ring.is_empty());
    let k = cam.next_frame();
    assert!(k.is_key());
    ring.push(k.clone());
    assert_eq!(ring.frames().collect::<Vec<_>>(), vec![&k]);
    assert_eq!(ring.stats().discontinuities, 1);
    assert_eq!(ring.coverage(), Coverage::Filling);
}

#[test]
fn a_backwards_keyframe_starts_the_ring_again_at_once() {
    let mut cam = Camera::standard();
    let mut ring = roomy(10);
    push_all(&mut ring, &cam.frames(90));
    // A reconnect: the stream restarts at a keyframe, 30 s earlier.
    cam.jump(secs(-30));
    let k = cam.next_frame();
    assert!(k.is_key());
    assert!(matches!(
        ring.push(k.clone()),
        Some(Discontinuity::Backwards { .. })
    ));
    assert_eq!(ring.len(), 1);
    assert_eq!(ring.frames().next(), Some(&k));
}

#[test]
fn a_gap_new_parameter_sets_or_a_new_codec_empty_the_ring() {
    let mut cam = Camera::standard();
    let mut ring = roomy(10);
    push_all(&mut ring, &cam.frames(60));
    cam.jump(secs(6));
    // The frame after the gap is a keyframe: it starts the ring again.
    assert!(matches!(
        ring.push(cam.next_frame()),
        Some(Discontinuity::Gap { .. })
    ));
    assert_eq!(ring.len(), 1);
    push_all(&mut ring, &cam.frames(39));
    assert_eq!(ring.len(), 40);
    cam.params = h264(9);
    cam.seq = 0;
    assert_eq!(
        ring.push(cam.next_frame()),
        Some(Discontinuity::ParametersChanged)
    );
    assert_eq!(ring.len(), 1);
    cam.params = h265();
    cam.seq = 0;
    assert!(matches!(
        ring.push(cam.next_frame()),
        Some(Discontinuity::CodecChanged { .. })
    ));
    assert_eq!(ring.len(), 1);
    assert_eq!(ring.frames().next().unwrap().codec(), Codec::H265);
    assert_eq!(ring.stats().discontinuities, 3);
}

#[test]
fn from_keyframe_at_or_before_picks_the_gop_holding_the_instant() {
    let mut cam = Camera::standard();
    let mut ring = roomy(10);
    let stream = cam.frames(30 * 8 + 10);
    push_all(&mut ring, &stream);
    let seqs = |at| {
        ring.from_keyframe_at_or_before(at)
            .map(seq_of)
            .collect::<Vec<_>>()
    };
    // Mid-GOP: from that GOP's keyframe to the newest frame.
    assert_eq!(seqs(at_ms(3_500)), (90..250).collect::<Vec<_>>());
    // Exactly at a keyframe: that keyframe.
    assert_eq!(seqs(stream[120].captured_at())[0], 120);
    // Just before it: the one before.
    assert_eq!(
        seqs(stream[120].captured_at() - SignedDuration::from_nanos(1))[0],
        90
    );
    assert!(ring.covers(at_s(0)));
    // Before the ring: from its oldest keyframe.
    assert!(!ring.covers(at_s(-1)));
    assert_eq!(seqs(at_s(-1))[0], 0);
    // After the newest frame: the newest GOP.
    assert_eq!(seqs(at_s(100)), (240..250).collect::<Vec<_>>());
    assert_eq!(
        ring.latest_gop().map(seq_of).collect::<Vec<_>>(),
        (240..250).collect::<Vec<_>>()
    );
    assert_eq!(roomy(10).from_keyframe_at_or_before(at_s(0)).count(), 0);
}

#[test]
fn reset_empties_the_ring_but_keeps_judging_the_stream() {
    let mut cam = Camera::standard();
    let mut ring = roomy(10);
    push_all(&mut ring, &cam.frames(40));
    ring.reset();
    assert!(ring.is_empty());
    assert_eq!(ring.held_bytes(), 0);
    assert_eq!(ring.stats().resets, 1);
    // The first frame after the reset is still checked against the last.
    cam.jump(secs(-3));
    assert!(matches!(
        ring.push(cam.next_frame()),
        Some(Discontinuity::Backwards { .. })
    ));
}

#[test]
fn held_frames_share_memory_with_the_stream() {
    let mut cam = Camera::standard();
    let mut ring = roomy(10);
    let f = cam.next_frame();
    ring.push(f.clone());
    assert_eq!(
        ring.frames().next().unwrap().data().as_ptr(),
        f.data().as_ptr()
    );
}

#[test]
fn limits_refuse_what_cannot_work_and_say_what_to_pick() {
    let err = RingLimits::new(secs(61), 1).unwrap_err();
    assert_eq!(err, SettingsError::PreRoll { got: secs(61) });
    assert_eq!(
        err.to_string(),
        "clip pre-roll 1m 1s is out of range: choose 0 to 60 seconds"
    );
    assert!(RingLimits::new(secs(-1), 1).is_err());
    assert_eq!(
        RingLimits::new(secs(10), 0).unwrap_err(),
        SettingsError::RingBytes
    );
    assert!(
        RingLimits::default()
            .with_max_gap(SignedDuration::ZERO)
            .unwrap_err()
            .to_string()
            .contains("must be positive")
    );
    assert!(RingLimits::new(secs(0), 1).is_ok());
    assert!(RingLimits::new(secs(60), 1).is_ok());
}

#[test]
fn the_default_byte_bound_is_the_memory_target() {
    // 1.1 × 4 Mbit/s ÷ 8 × 10 s + 8 MB.
    let limits = RingLimits::for_bitrate(secs(10), 4_000_000).unwrap();
    assert_eq!(limits.max_bytes(), 5_500_000 + 8_000_000);
    assert_eq!(RingLimits::default(), limits);
    assert_eq!(
        RingLimits::for_bitrate(secs(60), 8_000_000)
            .unwrap()
            .max_bytes(),
        66_000_000 + 8_000_000
    );
    assert_eq!(
        RingLimits::for_bitrate(secs(0), 8_000_000)
            .unwrap()
            .max_bytes(),
        8_000_000
    );
    assert_eq!(
        RingLimits::for_bitrate(SignedDuration::from_millis(1_500), 2_000_000)
            .unwrap()
            .max_bytes(),
        412_500 + 8_000_000
    );
}

#[test]
fn a_realistic_stream_stays_under_the_default_bound_with_the_full_pre_roll() {
    // About 4 Mbit/s: 30 fps, a keyframe every 2 s of 120 kB, deltas of
    // 13 kB.
    let mut cam = Camera::new(30, 60);
    cam.key_size = 120_000;
    cam.delta_size = 13_000;
    let mut ring = Ring::new(RingLimits::default());
    for _ in 0..(30 * 120) {
        ring.push(cam.next_frame());
    }
    assert_eq!(ring.coverage(), Coverage::Full);
    assert_eq!(ring.stats().pre_roll_cuts, 0);
    assert!(ring.held_bytes() <= RingLimits::default().max_bytes());
}
