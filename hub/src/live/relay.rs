//! The live relay core (being written).
