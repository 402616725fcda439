//! `picket-sim`: simulated hardware — RTSP test cameras with a burned-in
//! clock, sensor inputs (PIR, door, tamper, power) and a fleet simulator of
//! many protocol-level units for load tests.
//!
//! Nothing is implemented yet: the clips issue brings the cameras, the sync
//! issue the sensors and fleet. The agent will talk to these exactly as to
//! real hardware drivers.
