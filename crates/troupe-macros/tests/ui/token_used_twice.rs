use troupe::prelude::*;

#[message(ret = u32)]
struct GetValue;

fn handle(ctx: &Context, envelope: Envelope) {
    msg!(match envelope {
        (GetValue, token) => {
            ctx.respond(token, 1);
            ctx.respond(token, 2);
        }
        _ => {}
    })
}

fn main() {
    let _ = handle;
}
