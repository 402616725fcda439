//! The unit's clips on disk: an index in the unit's SQLite store
//! (`store::clips`) and the quota rule (`quota`). A clip's row is written
//! before its file (state `writing`), marked `ready` once the file is
//! complete and synced, and `uploaded` once the hub confirmed it; the
//! quota may delete only uploaded clips, so an alarm clip the hub does not
//! have is never lost to make room (the unit raises a health warning
//! instead).

pub mod delivery;
pub mod quota;
pub mod recorder;
