//! Which frames of one camera go into event clips: a pure state machine fed
//! alarms and frames, saying what to write.
//!
//! The plan owns the camera's [`Ring`]. Feed it [`ClipPlan::alarm`],
//! [`ClipPlan::frame`] and [`ClipPlan::camera_lost`]; after each call drain
//! [`ClipPlan::poll_action`]: `Start` (a new file, with its first frames),
//! `Append` (the next frame), `Finish` (close the file), or `NoVideo` (this
//! alarm gets no clip). The rules, with `pre`, `post` and `max` from
//! [`ClipRules`] (defaults 10 s, 20 s, 120 s):
//!
//! - **Window.** An alarm at `at` with no clip open opens a window: the clip
//!   starts at the keyframe at or before `at − pre` (from the ring; its
//!   oldest keyframe if it does not reach back that far) and ends with the
//!   first frame captured at or after `end = at + post`. Frames already in
//!   the ring come with `Start`; each later frame is appended.
//! - **Extension.** An alarm at `a` while a window is open extends `end` to
//!   `a + post`, never beyond `cap = at − pre + max` (the first alarm's
//!   nominal start plus the longest clip; `max ≥ pre + post`, so the first
//!   alarm always gets its whole post-roll). A clip cut there finishes with
//!   [`FinishReason::CapReached`]. Alarms only extend forward.
//! - **Next window.** An alarm at or after the open window's `cap` (its
//!   frames lag behind the alarm) cannot be covered by this clip: it opens
//!   the next window, which starts as soon as this one finishes, with its own
//!   pre-roll from the ring (so the two clips may overlap). Alarms before
//!   that window's own `cap` extend it; one beyond that too gets `NoVideo`.
//! - **No keyframe yet.** If the ring holds nothing when a window opens (an
//!   alarm before the first keyframe), the window waits: its clip starts at
//!   the first keyframe that comes. If a frame at or after `end` comes first,
//!   the window closes with `NoVideo`.
//! - **Camera lost** finishes an open clip ([`FinishReason::CameraLost`]; the
//!   file is a shorter valid clip) and empties the ring; the window waits,
//!   and if the camera returns before `end` a further clip (`part` 1, 2, …)
//!   covers the rest.
//! - **Discontinuity** in the stream ([`Discontinuity`]) finishes an open
//!   clip the same way. A gap, a new codec or new parameter sets keep the
//!   timeline, so the window waits for the next keyframe as above; time
//!   going backwards does not (`end` means nothing on the new time base), so
//!   the open windows close (`NoVideo` for those that recorded nothing).
//!
//! So every alarm either extends an open window or opens one, and every
//! window yields clips (`Start` … `Finish`, possibly in parts) or `NoVideo`.
//! Clip ids, files and notices are the IO layer's: it knows the event each
//! `Start` is for.

use std::collections::VecDeque;

use jiff::{SignedDuration, Timestamp};
use picket_proto::ids::EventId;
use picket_proto::message::ClipSettings;

use super::SettingsError;
use super::frame::{Discontinuity, Frame, minus, plus};
use super::ring::{Ring, RingLimits, check_pre_roll};

/// How long clips are: pre-roll, post-roll and the longest clip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClipRules {
    pre_roll: SignedDuration,
    post_roll: SignedDuration,
    max_clip: SignedDuration,
}

impl ClipRules {
    /// The longest post-roll: 300 s.
    pub const MAX_POST_ROLL: SignedDuration = SignedDuration::from_secs(300);
    /// The longest clip that may be asked for: 600 s.
    pub const MAX_CLIP: SignedDuration = SignedDuration::from_secs(600);

    /// Pre-roll 0–60 s, post-roll above 0 and at most 300 s, longest clip
    /// at least pre-roll + post-roll and at most 600 s (the ranges the hub's
    /// desired config is checked against).
    pub fn new(
        pre_roll: SignedDuration,
        post_roll: SignedDuration,
        max_clip: SignedDuration,
    ) -> Result<ClipRules, SettingsError> {
        check_pre_roll(pre_roll)?;
        if !post_roll.is_positive() || post_roll > ClipRules::MAX_POST_ROLL {
            return Err(SettingsError::PostRoll { got: post_roll });
        }
        if max_clip < pre_roll + post_roll || max_clip > ClipRules::MAX_CLIP {
            return Err(SettingsError::MaxClip {
                max: max_clip,
                pre: pre_roll,
                post: post_roll,
            });
        }
        Ok(ClipRules {
            pre_roll,
            post_roll,
            max_clip,
        })
    }

    /// The rules of the hub's desired config.
    pub fn from_settings(settings: ClipSettings) -> Result<ClipRules, SettingsError> {
        let secs = |s: u16| SignedDuration::from_secs(i64::from(s));
        ClipRules::new(
            secs(settings.pre_roll_s),
            secs(settings.post_roll_s),
            secs(settings.max_clip_s),
        )
    }

    /// Video kept before an alarm.
    pub fn pre_roll(&self) -> SignedDuration {
        self.pre_roll
    }

    /// Video kept after an alarm.
    pub fn post_roll(&self) -> SignedDuration {
        self.post_roll
    }

    /// The longest clip, from its first alarm's nominal start.
    pub fn max_clip(&self) -> SignedDuration {
        self.max_clip
    }
}

impl Default for ClipRules {
    /// 10 s before, 20 s after, at most 120 s.
    fn default() -> ClipRules {
        ClipRules {
            pre_roll: SignedDuration::from_secs(10),
            post_roll: SignedDuration::from_secs(20),
            max_clip: SignedDuration::from_secs(120),
        }
    }
}

/// The first frames of a new clip file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClipStart {
    /// The alarm event that opened the window.
    pub event: EventId,
    /// Its instant.
    pub alarm_at: Timestamp,
    /// 0 for a window's first clip; 1, 2, … for clips continuing it after
    /// the camera was lost or the stream broke.
    pub part: u32,
    /// From a keyframe (carrying its parameter sets), in stream order.
    pub frames: Vec<Frame>,
}

/// Why a clip ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinishReason {
    /// Its last frame is the first at or after the last alarm's post-roll.
    PostRollReached,
    /// Alarms asked for more than the longest clip allows.
    CapReached,
    /// The camera was lost.
    CameraLost,
    /// The stream broke; the frame that broke it is not in the clip.
    Discontinuity(Discontinuity),
}

/// What to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Open a clip file with these frames.
    Start(ClipStart),
    /// Add the next frame to the open clip.
    Append(Frame),
    /// Close the open clip.
    Finish(FinishReason),
    /// This alarm's window closed without a single frame to show.
    NoVideo {
        /// The alarm event.
        event: EventId,
        /// Its instant.
        alarm_at: Timestamp,
    },
}

/// What the plan is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No alarm window open.
    Idle,
    /// A window is open and waits for a keyframe.
    Waiting,
    /// A clip is open.
    Recording,
}

/// Counters for the health report; they only grow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClipStats {
    /// Clips started (`Start` actions).
    pub clips_started: u64,
    /// Alarms that got no clip (`NoVideo` actions).
    pub no_video: u64,
    /// Alarms that moved an open window's end later.
    pub extensions: u64,
    /// Alarms that opened the next window while one was open.
    pub deferred: u64,
    /// First clips of a window starting after `alarm − pre_roll`, because
    /// the ring did not reach back that far.
    pub short_pre_rolls: u64,
}

/// An alarm window: from its first alarm's pre-roll to the end its alarms
/// asked for, within its cap.
#[derive(Clone, Debug)]
struct Window {
    event: EventId,
    alarm_at: Timestamp,
    /// The clip's last frame is the first at or after this.
    end: Timestamp,
    /// The latest end its alarms asked for (after `cap` when cut).
    asked_end: Timestamp,
    /// `alarm_at − pre_roll + max_clip`.
    cap: Timestamp,
    /// Clips started for it so far.
    parts: u32,
}

impl Window {
    fn new(rules: &ClipRules, event: EventId, alarm_at: Timestamp) -> Window {
        let cap = plus(minus(alarm_at, rules.pre_roll), rules.max_clip);
        let asked_end = plus(alarm_at, rules.post_roll);
        Window {
            event,
            alarm_at,
            end: asked_end.min(cap),
            asked_end,
            cap,
            parts: 0,
        }
    }

    /// Whether an alarm at `at` falls within what this window may cover.
    fn admits(&self, at: Timestamp) -> bool {
        at < self.cap
    }

    /// Extends the end for an alarm at `at`; whether it moved.
    fn extend(&mut self, rules: &ClipRules, at: Timestamp) -> bool {
        self.asked_end = self.asked_end.max(plus(at, rules.post_roll));
        let end = self.asked_end.min(self.cap);
        let moved = end > self.end;
        self.end = end;
        moved
    }

    fn finish_reason(&self) -> FinishReason {
        if self.asked_end > self.end {
            FinishReason::CapReached
        } else {
            FinishReason::PostRollReached
        }
    }
}

#[derive(Debug)]
enum State {
    Idle,
    Waiting(Window),
    Recording(Window),
}

/// One camera's clip plan, with its ring.
#[derive(Debug)]
pub struct ClipPlan {
    rules: ClipRules,
    ring: Ring,
    state: State,
    /// The window opened by an alarm beyond the current one's cap.
    next: Option<Window>,
    actions: VecDeque<Action>,
    stats: ClipStats,
}

impl ClipPlan {
    /// A plan with an empty ring; the ring must keep at least the pre-roll.
    pub fn new(rules: ClipRules, ring: RingLimits) -> Result<ClipPlan, SettingsError> {
        if ring.pre_roll() < rules.pre_roll {
            return Err(SettingsError::RingShorterThanPreRoll {
                ring: ring.pre_roll(),
                clip: rules.pre_roll,
            });
        }
        Ok(ClipPlan {
            rules,
            ring: Ring::new(ring),
            state: State::Idle,
            next: None,
            actions: VecDeque::new(),
            stats: ClipStats::default(),
        })
    }

    /// New rules and ring limits (the site's clip settings changed): they
    /// hold from the next alarm on; a clip being written keeps its end.
    pub fn set_rules(&mut self, rules: ClipRules, ring: RingLimits) -> Result<(), SettingsError> {
        if ring.pre_roll() < rules.pre_roll {
            return Err(SettingsError::RingShorterThanPreRoll {
                ring: ring.pre_roll(),
                clip: rules.pre_roll,
            });
        }
        self.rules = rules;
        self.ring.set_limits(ring);
        Ok(())
    }

    /// An alarm for this camera: `event` happened at `at`.
    pub fn alarm(&mut self, event: EventId, at: Timestamp) {
        let rules = self.rules;
        match &mut self.state {
            State::Idle => {
                let window = Window::new(&rules, event, at);
                self.activate(window, None);
                return;
            }
            State::Waiting(w) | State::Recording(w) if w.admits(at) => {
                if w.extend(&rules, at) {
                    self.stats.extensions += 1;
                }
                return;
            }
            State::Waiting(_) | State::Recording(_) => {}
        }
        match &mut self.next {
            None => {
                self.next = Some(Window::new(&rules, event, at));
                self.stats.deferred += 1;
            }
            Some(next) if next.admits(at) => {
                if next.extend(&rules, at) {
                    self.stats.extensions += 1;
                }
            }
            Some(_) => self.no_video(event, at),
        }
    }

    /// The camera's next frame, in stream order.
    pub fn frame(&mut self, frame: Frame) {
        if let Some(d) = self.ring.push(frame.clone()) {
            self.stream_broke(d);
        }
        let at = frame.captured_at();
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => {}
            State::Waiting(w) => self.activate(w, Some(at)),
            State::Recording(w) => {
                self.actions.push_back(Action::Append(frame));
                if at < w.end {
                    self.state = State::Recording(w);
                } else {
                    self.actions.push_back(Action::Finish(w.finish_reason()));
                    if let Some(next) = self.next.take() {
                        self.activate(next, Some(at));
                    }
                }
            }
        }
    }

    /// The camera's stream ended or failed: finish the open clip, empty the
    /// ring. An open window waits for the camera to come back.
    pub fn camera_lost(&mut self) {
        self.ring.reset();
        self.state = match std::mem::replace(&mut self.state, State::Idle) {
            State::Recording(w) => {
                self.actions
                    .push_back(Action::Finish(FinishReason::CameraLost));
                State::Waiting(w)
            }
            other => other,
        };
    }

    /// The next thing to write, oldest first. Drain after every call.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// What the plan is doing.
    pub fn phase(&self) -> Phase {
        match self.state {
            State::Idle => Phase::Idle,
            State::Waiting(_) => Phase::Waiting,
            State::Recording(_) => Phase::Recording,
        }
    }

    /// The camera's ring (a live view starts at [`Ring::latest_gop`]).
    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    /// Its rules.
    pub fn rules(&self) -> ClipRules {
        self.rules
    }

    /// Its counters.
    pub fn stats(&self) -> ClipStats {
        self.stats
    }

    /// The ring emptied for `d` before taking the current frame.
    fn stream_broke(&mut self, d: Discontinuity) {
        let keeps_timeline = d.keeps_timeline();
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => {}
            State::Recording(w) => {
                self.actions
                    .push_back(Action::Finish(FinishReason::Discontinuity(d)));
                if keeps_timeline {
                    self.state = State::Waiting(w);
                }
            }
            State::Waiting(w) if keeps_timeline => self.state = State::Waiting(w),
            State::Waiting(w) => self.close_unrecorded(&w),
        }
        if !keeps_timeline && let Some(next) = self.next.take() {
            self.close_unrecorded(&next);
        }
    }

    /// Makes `w` the current window: starts its clip from the ring, waits
    /// for a keyframe, or closes it when its end has passed without video
    /// (`newest` is the frame just taken, if any). Whenever a window is done
    /// the next one, if any, becomes current.
    fn activate(&mut self, mut w: Window, newest: Option<Timestamp>) {
        loop {
            let from = minus(w.alarm_at, self.rules.pre_roll);
            let mut frames = Vec::new();
            let mut reached_end = false;
            for f in self.ring.from_keyframe_at_or_before(from) {
                frames.push(f.clone());
                if f.captured_at() >= w.end {
                    reached_end = true;
                    break;
                }
            }
            match frames.first().map(Frame::captured_at) {
                None if newest.is_none_or(|n| n < w.end) => {
                    self.state = State::Waiting(w);
                    return;
                }
                Some(first) if first < w.end => {
                    if w.parts == 0 && first > from {
                        self.stats.short_pre_rolls += 1;
                    }
                    self.actions.push_back(Action::Start(ClipStart {
                        event: w.event,
                        alarm_at: w.alarm_at,
                        part: w.parts,
                        frames,
                    }));
                    w.parts += 1;
                    self.stats.clips_started += 1;
                    if !reached_end {
                        self.state = State::Recording(w);
                        return;
                    }
                    self.actions.push_back(Action::Finish(w.finish_reason()));
                }
                // The window's end passed with no keyframe before it.
                _ => self.close_unrecorded(&w),
            }
            match self.next.take() {
                Some(next) => w = next,
                None => {
                    self.state = State::Idle;
                    return;
                }
            }
        }
    }

    /// A window closes: if it recorded nothing, its alarm gets `NoVideo`.
    fn close_unrecorded(&mut self, w: &Window) {
        if w.parts == 0 {
            self.no_video(w.event, w.alarm_at);
        }
    }

    fn no_video(&mut self, event: EventId, alarm_at: Timestamp) {
        self.actions.push_back(Action::NoVideo { event, alarm_at });
        self.stats.no_video += 1;
    }
}
