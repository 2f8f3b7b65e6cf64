use herald::Event;

#[derive(Event)]
#[event(name = "order", version = 1)]
pub union OrderEvent {
    id: u64,
    code: u32,
}

fn main() {}
