use troupe::prelude::*;

#[message]
struct Reading {
    value: u32,
}

fn handle(envelope: Envelope) {
    msg!(match envelope {
        Reading { value } if level > 3 => drop(value),
        _ => {}
    })
}

fn main() {
    let _ = handle;
}
