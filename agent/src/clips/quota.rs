//! Which clips to delete to stay within the disk quota, without IO.
//!
//! Only clips the hub has confirmed (`Uploaded`) may go, oldest first. A
//! clip being written or waiting for upload is never deleted: if the quota
//! cannot be met with uploaded clips alone, the verdict says by how much it
//! is exceeded, for the health report.

/// Where a clip is in its life on the unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClipState {
    /// Being written (a power cut leaves it to be recovered or discarded).
    Writing,
    /// Complete on disk, not yet confirmed by the hub.
    Ready,
    /// The hub confirmed it.
    Uploaded,
}

/// What the quota needs to know of a clip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClipOnDisk {
    /// Its id.
    pub id: uuid::Uuid,
    /// Its state.
    pub state: ClipState,
    /// Bytes on disk.
    pub bytes: u64,
    /// When it was made (Unix ms), for "oldest first".
    pub created_ms: i64,
}

/// The quota's decision.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Verdict {
    /// Delete these (uploaded, oldest first).
    pub delete: Vec<uuid::Uuid>,
    /// Bytes still over the quota after deleting them (0: within it): only
    /// clips the hub does not have are left, so the unit warns instead.
    pub over_by: u64,
}

/// Decides what to delete so `clips` fit in `quota` bytes.
pub fn enforce(clips: &[ClipOnDisk], quota: u64) -> Verdict {
    let used: u64 = clips.iter().map(|c| c.bytes).sum();
    if used <= quota {
        return Verdict::default();
    }
    let mut uploaded: Vec<&ClipOnDisk> = clips
        .iter()
        .filter(|c| c.state == ClipState::Uploaded)
        .collect();
    uploaded.sort_by_key(|c| (c.created_ms, c.id));
    let mut excess = used - quota;
    let mut delete = Vec::new();
    for clip in uploaded {
        if excess == 0 {
            break;
        }
        delete.push(clip.id);
        excess = excess.saturating_sub(clip.bytes);
    }
    Verdict {
        delete,
        over_by: excess,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn clip(n: u128, state: ClipState, bytes: u64, created_ms: i64) -> ClipOnDisk {
        ClipOnDisk {
            id: uuid::Uuid::from_u128(n),
            state,
            bytes,
            created_ms,
        }
    }

    #[test]
    fn within_the_quota_nothing_goes() {
        let clips = [
            clip(1, ClipState::Uploaded, 100, 1),
            clip(2, ClipState::Ready, 100, 2),
        ];
        assert_eq!(enforce(&clips, 200), Verdict::default());
    }

    #[test]
    fn uploaded_clips_go_oldest_first_until_it_fits() {
        let clips = [
            clip(1, ClipState::Uploaded, 100, 30),
            clip(2, ClipState::Uploaded, 100, 10),
            clip(3, ClipState::Ready, 100, 5),
            clip(4, ClipState::Uploaded, 100, 20),
        ];
        let v = enforce(&clips, 250);
        assert_eq!(
            v.delete,
            [uuid::Uuid::from_u128(2), uuid::Uuid::from_u128(4)]
        );
        assert_eq!(v.over_by, 0);
    }

    #[test]
    fn a_clip_the_hub_does_not_have_is_never_deleted_the_excess_is_reported() {
        let clips = [
            clip(1, ClipState::Ready, 500, 1),
            clip(2, ClipState::Writing, 300, 2),
            clip(3, ClipState::Uploaded, 100, 3),
        ];
        let v = enforce(&clips, 400);
        assert_eq!(v.delete, [uuid::Uuid::from_u128(3)]);
        assert_eq!(v.over_by, 400, "900 used, 100 freed, 400 allowed");
    }

    fn state() -> impl Strategy<Value = ClipState> {
        prop_oneof![
            Just(ClipState::Writing),
            Just(ClipState::Ready),
            Just(ClipState::Uploaded)
        ]
    }

    proptest! {
        #[test]
        fn only_uploaded_clips_are_deleted_and_what_remains_fits_or_is_reported(
            specs in proptest::collection::vec((state(), 1u64..1_000, 0i64..1_000), 0..40),
            quota in 0u64..20_000,
        ) {
            let clips: Vec<ClipOnDisk> = specs
                .iter()
                .enumerate()
                .map(|(i, (s, b, t))| clip(i as u128, *s, *b, *t))
                .collect();
            let v = enforce(&clips, quota);
            let deleted: std::collections::HashSet<_> = v.delete.iter().collect();
            prop_assert_eq!(deleted.len(), v.delete.len(), "no clip twice");
            for c in &clips {
                if deleted.contains(&c.id) {
                    prop_assert_eq!(c.state, ClipState::Uploaded);
                }
            }
            let left: u64 = clips.iter().filter(|c| !deleted.contains(&c.id)).map(|c| c.bytes).sum();
            if v.over_by == 0 {
                prop_assert!(left <= quota);
            } else {
                prop_assert_eq!(left, quota + v.over_by);
                prop_assert!(clips.iter().filter(|c| c.state == ClipState::Uploaded).all(|c| deleted.contains(&c.id)),
                    "over only when every uploaded clip is gone");
            }
        }
    }
}
