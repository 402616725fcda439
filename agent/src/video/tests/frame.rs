use super::*;
use crate::video::{Continuity, Discontinuity};

#[test]
fn a_keyframe_takes_its_codec_from_its_parameter_sets() {
    let f = key(0, t0(), h265(), 100);
    assert_eq!(f.codec(), Codec::H265);
    assert!(f.is_key());
    assert_eq!(f.parameter_sets(), Some(&h265()));
    let d = delta(1, t0(), Codec::H264, 100);
    assert!(!d.is_key());
    assert_eq!(d.parameter_sets(), None);
}

#[test]
fn footprint_counts_payload_parameter_sets_and_the_record() {
    let record = std::mem::size_of::<Frame>();
    assert_eq!(
        delta(0, t0(), Codec::H264, 1_000).footprint(),
        1_000 + record
    );
    // h264(): 3-byte SPS, 2-byte PPS.
    assert_eq!(key(0, t0(), h264(1), 1_000).footprint(), 1_005 + record);
}

#[test]
fn clones_share_the_payload() {
    let f = key(0, t0(), h264(1), 50_000);
    let g = f.clone();
    assert_eq!(f.data().as_ptr(), g.data().as_ptr());
}

#[test]
fn debug_shows_a_summary_not_the_payload() {
    let text = format!("{:?}", delta(0, t0(), Codec::H264, 5_000));
    assert!(text.contains("5000 bytes"), "{text}");
    assert!(text.len() < 100, "{text}");
}

#[test]
fn continuity_judges_each_frame_against_the_last() {
    let mut c = Continuity::new(secs(5));
    assert_eq!(c.observe(&key(0, at_s(0), h264(1), 10)), None);
    // Equal instants and small steps continue.
    assert_eq!(c.observe(&delta(1, at_s(0), Codec::H264, 10)), None);
    assert_eq!(c.observe(&delta(2, at_s(5), Codec::H264, 10)), None);
    // Backwards.
    assert_eq!(
        c.observe(&delta(3, at_ms(4_999), Codec::H264, 10)),
        Some(Discontinuity::Backwards {
            last: at_s(5),
            next: at_ms(4_999)
        })
    );
    // A gap of more than 5 s.
    assert_eq!(
        c.observe(&delta(4, at_ms(10_000), Codec::H264, 10)),
        Some(Discontinuity::Gap {
            last: at_ms(4_999),
            next: at_ms(10_000)
        })
    );
    // The same parameter sets again continue; other ones do not.
    assert_eq!(c.observe(&key(5, at_s(10), h264(1), 10)), None);
    assert_eq!(
        c.observe(&key(6, at_s(10), h264(2), 10)),
        Some(Discontinuity::ParametersChanged)
    );
    // A codec change, on a delta frame too.
    assert_eq!(
        c.observe(&delta(7, at_s(10), Codec::H265, 10)),
        Some(Discontinuity::CodecChanged {
            from: Codec::H264,
            to: Codec::H265
        })
    );
}

#[test]
fn only_going_backwards_breaks_the_timeline() {
    let back = Discontinuity::Backwards {
        last: at_s(1),
        next: at_s(0),
    };
    assert!(!back.keeps_timeline());
    assert!(
        Discontinuity::Gap {
            last: at_s(0),
            next: at_s(9)
        }
        .keeps_timeline()
    );
    assert!(Discontinuity::ParametersChanged.keeps_timeline());
    assert_eq!(
        Discontinuity::Gap {
            last: at_s(0),
            next: at_s(9)
        }
        .to_string(),
        "no frames for 9s (from 2026-03-01T12:00:00Z to 2026-03-01T12:00:09Z)"
    );
}

#[test]
fn absurd_instants_saturate_instead_of_panicking() {
    use crate::video::frame::{minus, plus};
    assert_eq!(minus(Timestamp::MIN, secs(60)), Timestamp::MIN);
    assert_eq!(plus(Timestamp::MAX, secs(600)), Timestamp::MAX);
}
