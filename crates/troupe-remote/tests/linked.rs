//! The link-time list of message types: declared next to the types, in any
//! module, collected by `Messages::linked`.

use serde::{Deserialize, Serialize};
use troupe::prelude::*;
use troupe_remote::{remote_messages, Messages};

mod orders {
    use super::*;

    #[message]
    #[derive(Serialize, Deserialize)]
    pub struct Placed(pub u64);

    #[message(ret = u64)]
    #[derive(Serialize, Deserialize)]
    pub struct Count;

    remote_messages!(Placed, Count);
}

#[message]
#[derive(Serialize, Deserialize)]
struct Unlisted;

#[test]
fn linked_messages_are_collected_from_every_module() {
    let messages = Messages::linked();
    assert!(messages.knows(<orders::Placed as Message>::NAME));
    assert!(messages.knows(<orders::Count as Message>::NAME));
    assert!(!messages.knows(<Unlisted as Message>::NAME));
    assert_eq!(messages.len(), 2);
}
