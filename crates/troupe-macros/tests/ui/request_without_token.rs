use troupe::prelude::*;

#[message(ret = u32)]
struct GetValue;

async fn handle(envelope: Envelope) {
    msg!(match envelope {
        GetValue => {}
        _ => {}
    })
}

fn main() {
    let _ = handle;
}
