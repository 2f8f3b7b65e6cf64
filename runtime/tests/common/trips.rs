//! A three-step saga for the saga tests and the saga bench: a `trip.requested` event starts
//! it, and it books the trip's flight, hotel and car (each a `Leg` aggregate, booked at most
//! once through `Repository::execute_once`), then completes. Included with `#[path]`.
#![allow(dead_code)]

use herald::Event;
use herald::aggregate::{Aggregate, Repository};
use herald::saga::{Command, Correlation, Decision, Dispatch, DispatchError, Saga};
use herald::store::EventStore;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "trip", version = 1)]
pub enum TripEvent {
    Requested { trip_id: String },
}

#[derive(Event, Serialize, Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[event(name = "leg", version = 1)]
pub enum LegEvent {
    Booked { trip_id: String, leg: String },
}

/// A leg of a trip (flight, hotel, car): booked once.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Leg {
    booked: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Book {
    pub trip_id: String,
    pub leg: String,
}

#[derive(Debug, thiserror::Error)]
#[error("already booked")]
pub struct AlreadyBooked;

impl Aggregate for Leg {
    const TYPE: &'static str = "leg";
    type Event = LegEvent;
    type Command = Book;
    type Error = AlreadyBooked;

    fn apply(&mut self, _: &LegEvent) {
        self.booked = true;
    }

    fn handle(&self, book: Book) -> Result<Vec<LegEvent>, AlreadyBooked> {
        if self.booked {
            return Err(AlreadyBooked);
        }
        Ok(vec![LegEvent::Booked {
            trip_id: book.trip_id,
            leg: book.leg,
        }])
    }
}

pub const LEGS: [&str; 3] = ["flight", "hotel", "car"];

/// The 3-step saga: book the flight, the hotel and the car, then complete.
#[derive(Debug, Default)]
pub struct Trip {
    trip_id: String,
}

impl Saga for Trip {
    const NAME: &'static str = "trip";
    const STARTS: &'static [&'static str] = &["trip.requested"];
    const CORRELATION: Correlation = Correlation::Field("trip_id");
    type Event = TripEvent;
    type Command = Book;

    fn apply(&mut self, TripEvent::Requested { trip_id }: &TripEvent) {
        self.trip_id = trip_id.clone();
    }

    fn on(&self, _: &TripEvent) -> Vec<Decision<Book>> {
        let mut decisions: Vec<_> = LEGS
            .iter()
            .map(|leg| {
                Decision::send(
                    *leg,
                    Book {
                        trip_id: self.trip_id.clone(),
                        leg: (*leg).to_owned(),
                    },
                )
            })
            .collect();
        decisions.push(Decision::Complete);
        decisions
    }

    fn on_deadline(&self, _: &str) -> Vec<Decision<Book>> {
        Vec::new()
    }
}

pub struct Booking<S: EventStore>(pub Repository<S, Leg>);

impl<S: EventStore> Dispatch<Book> for Booking<S> {
    async fn dispatch(&self, command: &Command<Book>) -> Result<(), DispatchError> {
        let book = &command.command;
        let id = format!("{}-{}", book.trip_id, book.leg);
        self.0
            .execute_once(&id, command.command_id, book.clone(), Some(command.cause))
            .await
            .map(|_| ())
            .map_err(|error| DispatchError::Failed(Box::new(error)))
    }
}
