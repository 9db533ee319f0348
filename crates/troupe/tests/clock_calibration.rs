//! The clock that stamps every envelope is calibrated when the first
//! actor system is built, not by the first spawn or message, whose latency
//! would then include the calibration (0.6 ms on a quiet machine, up to
//! 200 ms on a busy one). A test binary of its own: a process whose clock
//! nothing else calibrated first.

use troupe::prelude::*;

#[test]
fn building_a_system_calibrates_the_clock_before_anything_is_stamped() {
    assert!(
        !troupe::__private::clock_calibrated(),
        "nothing in this process stamped anything yet"
    );
    let system = ActorSystem::create("clock-calibration").expect("a fresh name");
    assert!(troupe::__private::clock_calibrated());
    drop(system);
}
