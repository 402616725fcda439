//! Invariants of the ring and the clip plan over random streams: frame
//! sizes, keyframe spacing, clock jumps both ways, gaps, new parameter sets,
//! camera losses and alarms at random instants.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::video::{ClipPlan, ClipRules, Coverage, FinishReason, Ring, RingLimits};

/// One input to a camera's core.
#[derive(Debug, Clone)]
enum Step {
    /// A frame `dt_ms` after the previous one (negative: the clock went
    /// back), of `size` bytes, with parameter-set `variant` (0 most of the
    /// time; 2 is H.265).
    Frame {
        dt_ms: i64,
        key: bool,
        size: usize,
        variant: u8,
    },
    /// The camera is lost.
    Lost,
    /// An alarm `offset_ms` from the newest frame.
    Alarm { offset_ms: i64 },
}

fn dt_ms() -> impl Strategy<Value = i64> {
    prop_oneof![
        40 => 0i64..=100,
        1 => 5_001i64..20_000,
        1 => -5_000i64..0,
    ]
}

fn variant() -> impl Strategy<Value = u8> {
    prop_oneof![60 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)]
}

fn frame_step(max_size: usize) -> impl Strategy<Value = Step> {
    (dt_ms(), prop::bool::weighted(0.06), 8..max_size, variant()).prop_map(
        |(dt_ms, key, size, variant)| Step::Frame {
            dt_ms,
            key,
            size,
            variant,
        },
    )
}

fn plan_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        60 => frame_step(20_000),
        1 => Just(Step::Lost),
        4 => (-40_000i64..40_000).prop_map(|offset_ms| Step::Alarm { offset_ms }),
    ]
}

fn params(variant: u8) -> ParameterSets {
    match variant {
        0 => h264(1),
        1 => h264(2),
        _ => h265(),
    }
}

/// Builds the frames of a stream of steps, numbering them in order.
#[derive(Debug)]
struct Stream {
    at: Timestamp,
    seq: u64,
}

impl Stream {
    fn new() -> Stream {
        Stream { at: t0(), seq: 0 }
    }

    fn frame(&mut self, dt_ms: i64, key: bool, size: usize, variant: u8) -> Frame {
        self.at += SignedDuration::from_millis(dt_ms);
        let p = params(variant);
        let f = if key {
            super::key(self.seq, self.at, p, size)
        } else {
            super::delta(self.seq, self.at, p.codec(), size)
        };
        self.seq += 1;
        f
    }
}

/// What must hold of a ring after every push.
fn check_ring(ring: &Ring, last_pushed: &Frame) -> Result<(), TestCaseError> {
    let frames: Vec<&Frame> = ring.frames().collect();
    prop_assert!(ring.held_bytes() <= ring.limits().max_bytes());
    prop_assert_eq!(
        ring.held_bytes(),
        frames.iter().map(|f| f.footprint()).sum::<usize>()
    );
    let Some(first) = frames.first() else {
        prop_assert_eq!(ring.coverage(), Coverage::Empty);
        return Ok(());
    };
    prop_assert!(first.is_key(), "the ring starts at a keyframe");
    prop_assert_eq!(*frames.last().unwrap(), last_pushed);
    for pair in frames.windows(2) {
        prop_assert_eq!(seq_of(pair[1]), seq_of(pair[0]) + 1, "contiguous");
        prop_assert!(pair[1].captured_at() >= pair[0].captured_at());
        prop_assert_eq!(pair[1].codec(), first.codec());
        if let Some(p) = pair[1].parameter_sets() {
            prop_assert_eq!(Some(p), first.parameter_sets());
        }
    }
    if ring.coverage() == Coverage::Full {
        let newest = last_pushed.captured_at();
        prop_assert!(first.captured_at() <= newest - ring.limits().pre_roll());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever comes in, the ring starts at a keyframe, keeps its byte
    /// bound exactly, and holds one contiguous run of one stream.
    #[test]
    fn the_ring_starts_at_a_keyframe_and_keeps_its_byte_bound(
        pre_ms in 0i64..=60_000,
        max_bytes in 1usize..3_000_000,
        steps in proptest::collection::vec(
            prop_oneof![40 => frame_step(200_000), 1 => Just(Step::Lost)],
            1..500,
        ),
    ) {
        let limits = RingLimits::new(SignedDuration::from_millis(pre_ms), max_bytes).unwrap();
        let mut ring = Ring::new(limits);
        let mut stream = Stream::new();
        for step in steps {
            match step {
                Step::Frame { dt_ms, key, size, variant } => {
                    let f = stream.frame(dt_ms, key, size, variant);
                    ring.push(f.clone());
                    check_ring(&ring, &f)?;
                }
                Step::Lost => {
                    ring.reset();
                    prop_assert!(ring.is_empty());
                }
                Step::Alarm { .. } => {}
            }
        }
    }

    /// Without byte pressure or breaks, the ring holds exactly the frames
    /// from the newest keyframe at or before `newest − pre_roll` (or from
    /// the first keyframe, while it has not run that long).
    #[test]
    fn the_ring_keeps_exactly_the_gops_the_pre_roll_needs(
        pre_ms in 0i64..=60_000,
        steps in proptest::collection::vec(
            (0i64..=400, prop::bool::weighted(0.05)),
            1..800,
        ),
    ) {
        let limits = RingLimits::new(SignedDuration::from_millis(pre_ms), usize::MAX).unwrap();
        let mut ring = Ring::new(limits);
        let mut stream = Stream::new();
        let mut pushed: Vec<Frame> = Vec::new();
        for (dt_ms, key) in steps {
            let f = stream.frame(dt_ms, key, 8, 0);
            pushed.push(f.clone());
            prop_assert_eq!(ring.push(f.clone()), None);
            let wanted = f.captured_at() - limits.pre_roll();
            let keys: Vec<usize> = (0..pushed.len()).filter(|&i| pushed[i].is_key()).collect();
            let expected = keys
                .iter()
                .rev()
                .find(|&&i| pushed[i].captured_at() <= wanted)
                .or(keys.first());
            match expected {
                None => prop_assert!(ring.is_empty()),
                Some(&i) => {
                    prop_assert_eq!(
                        ring.frames().cloned().collect::<Vec<_>>(),
                        pushed[i..].to_vec()
                    );
                }
            }
            prop_assert_eq!(ring.stats().pre_roll_cuts, 0);
        }
    }

    /// Every clip starts at a keyframe, holds stream frames contiguously,
    /// in order, each once, of one codec and parameter sets, within its cap;
    /// every alarm gets clips or `NoVideo`, never both.
    #[test]
    fn clips_are_contiguous_runs_of_the_stream_within_their_cap(
        pre_s in 0i64..=60,
        post_s in 1i64..=15,
        extra_s in 0i64..=20,
        ring_bytes in 1usize..3_000_000,
        steps in proptest::collection::vec(plan_step(), 1..600),
    ) {
        let rules = ClipRules::new(secs(pre_s), secs(post_s), secs(pre_s + post_s + extra_s)).unwrap();
        let limits = RingLimits::new(secs(pre_s), ring_bytes).unwrap();
        let mut plan = ClipPlan::new(rules, limits).unwrap();
        let mut writer = Writer::default();
        let mut stream = Stream::new();
        let mut alarms = 0u32;
        let mut newest = t0();
        for step in steps {
            match step {
                Step::Frame { dt_ms, key, size, variant } => {
                    let f = stream.frame(dt_ms, key, size, variant);
                    newest = f.captured_at();
                    plan.frame(f);
                }
                Step::Lost => plan.camera_lost(),
                Step::Alarm { offset_ms } => {
                    alarms += 1;
                    let mut id = [0u8; 10];
                    id[..4].copy_from_slice(&alarms.to_be_bytes());
                    let event = picket_proto::ids::EventId::v7(t0(), id);
                    plan.alarm(event, newest + SignedDuration::from_millis(offset_ms));
                }
            }
            // The writer panics on a start while open, or an append or
            // finish with nothing open.
            writer.drain(&mut plan);
        }

        let mut parts: HashMap<_, u32> = HashMap::new();
        for clip in &writer.clips {
            prop_assert!(clip.first().is_key());
            let params = clip.first().parameter_sets();
            for pair in clip.frames.windows(2) {
                prop_assert_eq!(seq_of(&pair[1]), seq_of(&pair[0]) + 1);
                prop_assert!(pair[1].captured_at() >= pair[0].captured_at());
                prop_assert_eq!(pair[1].codec(), pair[0].codec());
                if let Some(p) = pair[1].parameter_sets() {
                    prop_assert_eq!(Some(p), params);
                }
            }
            let start = &clip.start;
            let cap = start.alarm_at - rules.pre_roll() + rules.max_clip();
            let before_last = &clip.frames[..clip.frames.len() - 1];
            prop_assert!(before_last.iter().all(|f| f.captured_at() < cap));
            match clip.finish {
                Some(FinishReason::PostRollReached) => {
                    prop_assert!(clip.last().captured_at() >= start.alarm_at + rules.post_roll());
                }
                Some(FinishReason::CapReached) => {
                    prop_assert!(clip.last().captured_at() >= cap);
                }
                _ => {}
            }
            let expected_part = parts.entry(start.event).or_insert(0);
            prop_assert_eq!(start.part, *expected_part, "parts count up from 0");
            *expected_part += 1;
        }
        for (event, _) in &writer.no_video {
            prop_assert!(!parts.contains_key(event), "an alarm with clips and no video");
        }
        let mut no_video: Vec<_> = writer.no_video.iter().map(|(e, _)| *e).collect();
        no_video.sort();
        no_video.dedup();
        prop_assert_eq!(no_video.len(), writer.no_video.len());
        prop_assert_eq!(plan.stats().clips_started, writer.clips.len() as u64);
    }
}
