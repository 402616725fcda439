//! Fragmented MP4 for live view (being written).
