use super::*;
use crate::addr::Addr;
use crate::envelope::{Envelope, TraceId};
use crate::message::{Message, Requested};

#[derive(Debug, PartialEq)]
struct Note(u64, String);

impl Message for Note {
    type Response = ();
    const NAME: &'static str = "Note";
}

fn addr_of(blank: &Blank) -> usize {
    (&**blank as *const MaybeUninit<Letter>) as usize
}

/// On a thread of its own, so that its stash starts empty.
fn on_fresh_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f)
        .join()
        .expect("the test thread panicked")
}

#[test]
fn an_opened_letter_gives_its_box_to_the_next_envelope() {
    on_fresh_thread(|| {
        let first = Envelope::new(Note(7, "seven".into()), Addr::NULL, TraceId::generate());
        let at = &*first.0 as *const Letter as usize;
        // (The stash may have been filled from the depot by the first one.)
        let before = local_len();
        assert_eq!(first.downcast::<Note>().ok(), Some(Note(7, "seven".into())));
        assert_eq!(local_len(), before + 1, "the opened letter's box is kept");
        let second = Envelope::new(Note(8, "eight".into()), Addr::NULL, TraceId::generate());
        assert_eq!(&*second.0 as *const Letter as usize, at, "and used again");
        assert_eq!(local_len(), before);
        assert_eq!(
            second.downcast::<Note>().ok(),
            Some(Note(8, "eight".into()))
        );
    });
}

#[test]
fn a_message_read_in_place_leaves_the_metadata_whole() {
    on_fresh_thread(|| {
        let trace = TraceId::generate();
        let sender = Addr::new(crate::addr::NodeNo(0), 42);
        let env = Envelope::new(Note(1, "one".into()), sender, trace);
        // Read in place: the message, then the rest.
        let Ok((note, hollow)) = env.hollow::<Note>() else {
            panic!("the envelope holds a Note");
        };
        assert_eq!(note, Note(1, "one".into()));
        let again = hollow.refill(Note(2, "two".into()));
        assert_eq!(again.sender(), sender);
        assert_eq!(again.trace_id(), trace);
        assert_eq!(
            again.into_payload().downcast::<Note>().ok(),
            Some(Note(2, "two".into()))
        );
        // A message of another type leaves the envelope as it was.
        let other = Envelope::new(Note(3, "three".into()), sender, trace);
        let Err(back) = other.hollow::<Requested<Note>>() else {
            panic!("a Note is not a request");
        };
        assert_eq!(back.downcast::<Note>().ok(), Some(Note(3, "three".into())));
    });
}

#[test]
fn a_full_stash_goes_to_the_depot_and_an_empty_one_comes_back_full() {
    let depot = Depot::new();
    // A receiving thread fills its stash: the whole stash goes to the depot.
    let mut receiver: Vec<Blank> = (0..STASH).map(|_| Box::new_uninit()).collect();
    let kept: Vec<usize> = receiver.iter().map(addr_of).collect();
    depot.take(&mut receiver);
    assert!(receiver.is_empty());
    assert_eq!(depot.stashes(), 1);
    // A sending thread with nothing left takes that stash, box for box.
    let mut sender: Vec<Blank> = Vec::new();
    assert!(depot.refill(&mut sender));
    assert_eq!(sender.iter().map(addr_of).collect::<Vec<_>>(), kept);
    assert_eq!(depot.stashes(), 0);
    assert!(!depot.refill(&mut sender), "nothing more to take");
}

#[test]
fn the_depot_keeps_a_bounded_number_of_boxes() {
    let depot = Depot::new();
    for _ in 0..DEPOT + 3 {
        let mut full: Vec<Blank> = (0..STASH).map(|_| Box::new_uninit()).collect();
        depot.take(&mut full);
        assert!(full.is_empty(), "taken, or freed past the bound");
    }
    assert_eq!(depot.stashes(), DEPOT);
}

#[test]
fn a_thread_keeps_at_most_a_stash() {
    on_fresh_thread(|| {
        for _ in 0..3 * STASH {
            recycle(Box::new_uninit());
            assert!(local_len() <= STASH);
        }
        assert!(local_len() > 0);
    });
}
