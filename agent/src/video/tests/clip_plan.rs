use picket_proto::message::ClipSettings;

use super::*;
use crate::video::{ClipPlan, ClipRules, Discontinuity, Phase, RingLimits, SettingsError};

/// A plan with `pre`/`post`/`max` seconds and a ring with room for anything.
fn plan(pre: i64, post: i64, max: i64) -> ClipPlan {
    let rules = ClipRules::new(secs(pre), secs(post), secs(max)).unwrap();
    ClipPlan::new(rules, RingLimits::new(secs(pre), usize::MAX).unwrap()).unwrap()
}

/// Feeds `frames` to the plan, keeps them in `stream`, drains into `w`.
fn feed(plan: &mut ClipPlan, w: &mut Writer, stream: &mut Vec<Frame>, frames: Vec<Frame>) {
    for f in frames {
        stream.push(f.clone());
        plan.frame(f);
        w.drain(plan);
    }
}

/// Checks what every clip must be: from a keyframe, contiguous in the
/// stream, in order, no frame twice.
fn assert_well_formed(clip: &Clip) {
    assert!(clip.first().is_key(), "{clip:?}");
    let seqs = clip.seqs();
    let contiguous: Vec<u64> = (seqs[0]..seqs[0] + seqs.len() as u64).collect();
    assert_eq!(seqs, contiguous);
}

#[test]
fn a_clip_runs_from_the_keyframe_before_the_pre_roll_to_the_first_frame_after_the_post_roll() {
    let mut cam = Camera::new(30, 60); // a keyframe every 2 s
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    let alarm = at_ms(25_250);
    feed(&mut p, &mut w, &mut stream, cam.frames_until(alarm));
    p.alarm(event(1), alarm);
    w.drain(&mut p);
    assert_eq!(p.phase(), Phase::Recording);
    // Start holds the ring from the keyframe to the newest frame.
    let start = &w.clips[0].start;
    assert_eq!(start.event, event(1));
    assert_eq!(start.alarm_at, alarm);
    assert_eq!(start.part, 0);
    assert_eq!(
        &start.frames[0],
        keyframe_at_or_before(&stream, alarm - secs(10))
    );
    assert_eq!(start.frames.last(), stream.last());
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(60)));

    assert_eq!(w.clips.len(), 1);
    let clip = &w.clips[0];
    assert_well_formed(clip);
    assert_eq!(
        clip.first(),
        keyframe_at_or_before(&stream, alarm - secs(10))
    );
    assert_eq!(clip.last(), first_at_or_after(&stream, alarm + secs(20)));
    assert_eq!(clip.finish, Some(FinishReason::PostRollReached));
    assert_eq!(p.phase(), Phase::Idle);
    assert_eq!(p.stats().clips_started, 1);
    assert_eq!(p.stats().short_pre_rolls, 0);
}

#[test]
fn an_alarm_ahead_of_the_frames_waits_for_them() {
    let mut cam = Camera::standard();
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(18)));
    // The alarm is stamped before the frames of that moment arrive.
    p.alarm(event(1), at_s(20));
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(50)));
    let clip = &w.clips[0];
    assert_well_formed(clip);
    assert_eq!(clip.first(), keyframe_at_or_before(&stream, at_s(10)));
    assert_eq!(clip.last(), first_at_or_after(&stream, at_s(40)));
}

#[test]
fn clip_frames_share_memory_with_the_ring() {
    let mut cam = Camera::standard();
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(5)));
    p.alarm(event(1), at_s(5));
    w.drain(&mut p);
    let ring_first = p.ring().frames().next().unwrap();
    assert_eq!(
        w.clips[0].first().data().as_ptr(),
        ring_first.data().as_ptr()
    );
}

#[test]
fn a_further_alarm_extends_the_clip() {
    let mut cam = Camera::standard();
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(20)));
    p.alarm(event(1), at_s(20));
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(30)));
    p.alarm(event(2), at_s(30));
    // An older alarm coming late changes nothing.
    p.alarm(event(3), at_s(21));
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(70)));
    assert_eq!(w.clips.len(), 1);
    let clip = &w.clips[0];
    assert_well_formed(clip);
    assert_eq!(clip.start.event, event(1));
    assert_eq!(clip.first(), keyframe_at_or_before(&stream, at_s(10)));
    assert_eq!(clip.last(), first_at_or_after(&stream, at_s(50)));
    assert_eq!(clip.finish, Some(FinishReason::PostRollReached));
    assert_eq!(p.stats().extensions, 1);
}

#[test]
fn alarms_extend_a_clip_only_up_to_the_cap_and_a_later_alarm_starts_a_new_one() {
    let mut cam = Camera::standard();
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    // First alarm at 20 s: the cap is 20 − 10 + 120 = 130 s.
    for a in (20..=120).step_by(10) {
        feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(a)));
        p.alarm(event(a as u8), at_s(a));
    }
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(131)));
    assert_eq!(w.clips.len(), 1);
    let clip = &w.clips[0];
    assert_well_formed(clip);
    assert_eq!(clip.first(), keyframe_at_or_before(&stream, at_s(10)));
    assert_eq!(clip.last(), first_at_or_after(&stream, at_s(130)));
    assert_eq!(clip.finish, Some(FinishReason::CapReached));
    assert!(
        clip.last()
            .captured_at()
            .duration_since(clip.first().captured_at())
            <= secs(120) + cam.step
    );
    assert_eq!(p.phase(), Phase::Idle);

    // An alarm after the clip closed starts a new clip, with its own
    // pre-roll (overlapping the first clip's end).
    p.alarm(event(200), at_s(131));
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(170)));
    assert_eq!(w.clips.len(), 2);
    let second = &w.clips[1];
    assert_well_formed(second);
    assert_eq!(second.start.event, event(200));
    assert_eq!(second.first(), keyframe_at_or_before(&stream, at_s(121)));
    assert_eq!(second.last(), first_at_or_after(&stream, at_s(151)));
    assert_eq!(second.finish, Some(FinishReason::PostRollReached));
}

#[test]
fn back_to_back_alarms_make_back_to_back_clips() {
    let mut cam = Camera::standard();
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(20)));
    p.alarm(event(1), at_s(20));
    // Up to just past the frame that closes the first clip.
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_ms(40_050)));
    assert_eq!(w.clips[0].finish, Some(FinishReason::PostRollReached));
    let next = cam.at;
    p.alarm(event(2), next);
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(70)));
    assert_eq!(w.clips.len(), 2);
    for clip in &w.clips {
        assert_well_formed(clip);
    }
    assert_eq!(
        w.clips[1].first(),
        keyframe_at_or_before(&stream, next - secs(10))
    );
    assert_eq!(
        w.clips[1].last(),
        first_at_or_after(&stream, next + secs(20))
    );
}

#[test]
fn an_alarm_before_any_keyframe_starts_the_clip_at_the_first_keyframe() {
    let mut cam = Camera::standard();
    cam.seq = 10; // joins mid-GOP: the first keyframe is 20 frames away
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames(5));
    p.alarm(event(1), cam.at);
    w.drain(&mut p);
    assert_eq!(p.phase(), Phase::Waiting);
    feed(&mut p, &mut w, &mut stream, cam.frames(15));
    assert!(w.clips.is_empty());
    let key = cam.next_frame();
    assert!(key.is_key());
    feed(&mut p, &mut w, &mut stream, vec![key.clone()]);
    assert_eq!(w.clips[0].start.frames, vec![key]);
    assert_eq!(p.phase(), Phase::Recording);
    assert_eq!(p.stats().short_pre_rolls, 1);
}

#[test]
fn an_alarm_whose_window_passes_without_a_keyframe_gets_no_video() {
    let mut cam = Camera::new(30, 100_000);
    cam.seq = 1; // deltas only
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames(30));
    let alarm = cam.at;
    p.alarm(event(1), alarm);
    feed(
        &mut p,
        &mut w,
        &mut stream,
        cam.frames_until(alarm + secs(25)),
    );
    assert!(w.clips.is_empty());
    assert_eq!(w.no_video, vec![(event(1), alarm)]);
    assert_eq!(p.phase(), Phase::Idle);
}

#[test]
fn a_pre_roll_of_zero_starts_at_the_keyframe_at_or_before_the_alarm() {
    let mut cam = Camera::new(30, 60);
    let (mut p, mut w, mut stream) = (plan(0, 20, 120), Writer::default(), Vec::new());
    let alarm = at_ms(25_250);
    feed(&mut p, &mut w, &mut stream, cam.frames_until(alarm));
    p.alarm(event(1), alarm);
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(50)));
    let clip = &w.clips[0];
    assert_well_formed(clip);
    assert_eq!(clip.first(), keyframe_at_or_before(&stream, alarm));
    assert!(alarm.duration_since(clip.first().captured_at()) < secs(2));
    assert_eq!(clip.last(), first_at_or_after(&stream, alarm + secs(20)));
}

#[test]
fn an_alarm_older_than_the_ring_starts_at_its_oldest_keyframe_or_gets_no_video() {
    let mut cam = Camera::standard();
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(60)));
    // The ring reaches back to 49 s; this alarm wants 30 s to 60 s.
    p.alarm(event(1), at_s(40));
    w.drain(&mut p);
    let oldest = p.ring().frames().next().unwrap().clone();
    assert_eq!(w.clips[0].first(), &oldest);
    assert_eq!(p.stats().short_pre_rolls, 1);
    feed(&mut p, &mut w, &mut stream, cam.frames(2));
    assert_eq!(w.clips[0].finish, Some(FinishReason::PostRollReached));

    // This one's window (0 s to 30 s) ended before the ring begins.
    p.alarm(event(2), at_s(10));
    w.drain(&mut p);
    assert_eq!(w.no_video, vec![(event(2), at_s(10))]);
    assert_eq!(w.clips.len(), 1);
    assert_eq!(p.phase(), Phase::Idle);
}

#[test]
fn a_camera_lost_mid_clip_finishes_it_and_a_returning_camera_continues_it() {
    let mut cam = Camera::standard();
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(20)));
    p.alarm(event(1), at_s(20));
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_ms(25_500)));
    p.camera_lost();
    w.drain(&mut p);
    assert_eq!(w.clips[0].finish, Some(FinishReason::CameraLost));
    assert_eq!(p.phase(), Phase::Waiting);
    assert!(p.ring().is_empty());
    // Back 3 s later, mid-GOP: the rest of the window from its next keyframe.
    cam.jump(secs(3));
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(45)));
    assert_eq!(w.clips.len(), 2);
    let rest = &w.clips[1];
    assert_well_formed(rest);
    assert_eq!(rest.start.event, event(1));
    assert_eq!(rest.start.part, 1);
    assert_eq!(rest.first(), first_keyframe_after(&stream, at_ms(25_500)));
    assert_eq!(rest.last(), first_at_or_after(&stream, at_s(40)));
    assert_eq!(rest.finish, Some(FinishReason::PostRollReached));
    assert!(w.no_video.is_empty());
}

#[test]
fn a_camera_lost_for_good_leaves_the_shorter_clip() {
    let mut cam = Camera::standard();
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(20)));
    p.alarm(event(1), at_s(20));
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(25)));
    p.camera_lost();
    w.drain(&mut p);
    // It comes back long after the window.
    cam.jump(secs(60));
    feed(&mut p, &mut w, &mut stream, cam.frames(90));
    assert_eq!(w.clips.len(), 1);
    assert_well_formed(&w.clips[0]);
    assert_eq!(w.clips[0].finish, Some(FinishReason::CameraLost));
    assert!(w.no_video.is_empty());
    assert_eq!(p.phase(), Phase::Idle);
}

#[test]
fn time_going_backwards_mid_clip_finishes_it_and_closes_the_window() {
    let mut cam = Camera::standard();
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(20)));
    p.alarm(event(1), at_s(20));
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(25)));
    cam.jump(secs(-60));
    feed(&mut p, &mut w, &mut stream, cam.frames(30 * 30));
    assert_eq!(w.clips.len(), 1);
    assert_well_formed(&w.clips[0]);
    assert!(matches!(
        w.clips[0].finish,
        Some(FinishReason::Discontinuity(Discontinuity::Backwards { .. }))
    ));
    assert_eq!(p.phase(), Phase::Idle);
    // A new alarm on the new timeline gets its clip from the new stream.
    let alarm = cam.at;
    p.alarm(event(2), alarm);
    feed(
        &mut p,
        &mut w,
        &mut stream,
        cam.frames_until(alarm + secs(21)),
    );
    assert_eq!(w.clips.len(), 2);
    assert_well_formed(&w.clips[1]);
    assert_eq!(
        w.clips[1].first(),
        keyframe_at_or_before(&stream, alarm - secs(10))
    );
    assert!(w.clips[1].first().captured_at() < at_s(0));
}

#[test]
fn a_waiting_window_closes_when_time_goes_backwards() {
    let mut cam = Camera::new(30, 100_000);
    cam.seq = 1; // deltas only: the window waits
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames(10));
    p.alarm(event(1), cam.at);
    cam.jump(secs(-5));
    feed(&mut p, &mut w, &mut stream, cam.frames(1));
    assert_eq!(w.no_video.len(), 1);
    assert_eq!(p.phase(), Phase::Idle);
}

#[test]
fn a_gap_mid_clip_splits_it() {
    let mut cam = Camera::standard();
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(20)));
    p.alarm(event(1), at_s(20));
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_ms(25_500)));
    cam.jump(secs(6));
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(50)));
    assert_eq!(w.clips.len(), 2);
    assert!(matches!(
        w.clips[0].finish,
        Some(FinishReason::Discontinuity(Discontinuity::Gap { .. }))
    ));
    let rest = &w.clips[1];
    assert_well_formed(rest);
    assert_eq!(rest.start.part, 1);
    assert_eq!(rest.first(), first_keyframe_after(&stream, at_ms(25_500)));
    assert!(rest.first().captured_at() > at_s(31));
    assert_eq!(rest.last(), first_at_or_after(&stream, at_s(40)));
}

#[test]
fn new_parameter_sets_mid_clip_start_a_new_part_at_once() {
    let mut cam = Camera::standard();
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(20)));
    p.alarm(event(1), at_s(20));
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(30)));
    cam.params = h264(7); // reconfigured: the next keyframe is at 30 s
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(45)));
    assert_eq!(w.clips.len(), 2);
    assert_eq!(
        w.clips[0].finish,
        Some(FinishReason::Discontinuity(
            Discontinuity::ParametersChanged
        ))
    );
    assert_eq!(w.clips[1].first().parameter_sets(), Some(&h264(7)));
    assert_eq!(
        seq_of(w.clips[1].first()),
        seq_of(w.clips[0].last()) + 1,
        "no frame lost between the parts"
    );
    assert_eq!(w.clips[1].finish, Some(FinishReason::PostRollReached));
}

#[test]
fn an_alarm_beyond_the_cap_while_frames_lag_opens_the_next_clip() {
    let mut cam = Camera::standard();
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    // Alarms every 10 s from 20 s keep the clip open up to its cap, 130 s.
    for a in (20..=120).step_by(10) {
        feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(a)));
        p.alarm(event(a as u8), at_s(a));
    }
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(129)));
    p.alarm(event(200), at_s(131)); // frames lag: the clip is still open
    p.alarm(event(201), at_s(140)); // extends that next window
    p.alarm(event(202), at_s(250)); // beyond even that window's cap (241 s)
    w.drain(&mut p);
    assert_eq!(w.no_video, vec![(event(202), at_s(250))]);
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(200)));
    assert_eq!(w.clips.len(), 2);
    assert_eq!(w.clips[0].finish, Some(FinishReason::CapReached));
    assert_eq!(w.clips[0].last(), first_at_or_after(&stream, at_s(130)));
    let next = &w.clips[1];
    assert_well_formed(next);
    assert_eq!(next.start.event, event(200));
    assert_eq!(next.start.alarm_at, at_s(131));
    assert_eq!(next.first(), keyframe_at_or_before(&stream, at_s(121)));
    assert_eq!(next.last(), first_at_or_after(&stream, at_s(160)));
    assert_eq!(next.finish, Some(FinishReason::PostRollReached));
    assert_eq!(p.stats().deferred, 1);
}

#[test]
fn clip_rules_refuse_what_cannot_work() {
    let rules = |pre, post, max| ClipRules::new(secs(pre), secs(post), secs(max));
    assert_eq!(
        rules(61, 20, 120),
        Err(SettingsError::PreRoll { got: secs(61) })
    );
    assert_eq!(
        rules(-1, 20, 120),
        Err(SettingsError::PreRoll { got: secs(-1) })
    );
    assert_eq!(
        rules(10, 0, 120),
        Err(SettingsError::PostRoll { got: secs(0) })
    );
    assert_eq!(
        rules(10, -5, 120),
        Err(SettingsError::PostRoll { got: secs(-5) })
    );
    assert!(matches!(
        rules(10, 301, 600),
        Err(SettingsError::PostRoll { .. })
    ));
    // The cap below the post-roll, and below pre-roll + post-roll.
    assert!(matches!(
        rules(0, 20, 19),
        Err(SettingsError::MaxClip { .. })
    ));
    let err = rules(10, 20, 25).unwrap_err();
    assert_eq!(
        err.to_string(),
        "longest clip 25s must be at least pre-roll 10s + post-roll 20s and at most \
         600 seconds: raise it or shorten the rolls"
    );
    assert!(matches!(
        rules(10, 20, 601),
        Err(SettingsError::MaxClip { .. })
    ));
    assert!(rules(0, 1, 1).is_ok());
    assert!(rules(60, 300, 600).is_ok());
    assert_eq!(
        ClipRules::from_settings(ClipSettings::default()),
        Ok(ClipRules::default())
    );
}

#[test]
fn the_ring_must_keep_the_clips_pre_roll() {
    let rules = ClipRules::default();
    let err = ClipPlan::new(rules, RingLimits::new(secs(5), 1_000_000).unwrap()).unwrap_err();
    assert_eq!(
        err,
        SettingsError::RingShorterThanPreRoll {
            ring: secs(5),
            clip: secs(10)
        }
    );
    assert!(ClipPlan::new(rules, RingLimits::default()).is_ok());
}

#[test]
fn new_rules_hold_from_the_next_alarm_and_a_shorter_pre_roll_trims_the_ring_at_once() {
    let mut cam = Camera::new(30, 30); // a keyframe every second
    let (mut p, mut w, mut stream) = (plan(10, 20, 120), Writer::default(), Vec::new());
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(15)));
    let held = p.ring().frames().next().unwrap().captured_at();
    assert!(held <= at_s(15) - secs(10), "ten seconds held: {held}");

    let rules = ClipRules::new(secs(2), secs(5), secs(30)).unwrap();
    let too_short = RingLimits::new(secs(1), usize::MAX).unwrap();
    assert!(matches!(
        p.set_rules(rules, too_short),
        Err(SettingsError::RingShorterThanPreRoll { .. })
    ));
    p.set_rules(rules, RingLimits::new(secs(2), usize::MAX).unwrap())
        .unwrap();
    assert_eq!(p.rules(), rules);
    let oldest = p.ring().frames().next().unwrap().captured_at();
    assert!(
        oldest >= at_s(15) - secs(4),
        "trimmed to the new pre-roll (whole GOPs): {oldest}"
    );

    let alarm = at_ms(15_500);
    feed(&mut p, &mut w, &mut stream, cam.frames_until(alarm));
    p.alarm(event(1), alarm);
    w.drain(&mut p);
    feed(&mut p, &mut w, &mut stream, cam.frames_until(at_s(40)));
    let clip = &w.clips[0];
    assert_well_formed(clip);
    assert_eq!(
        clip.first(),
        keyframe_at_or_before(&stream, alarm - secs(2))
    );
    assert_eq!(clip.last(), first_at_or_after(&stream, alarm + secs(5)));
}
